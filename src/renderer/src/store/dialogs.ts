import type { KeyView, OwnerView } from '../../../shared/domain'
import type { Slice } from './index'
import type { SelectedKey } from './selection'

/**
 * Which dialog is open, and on what. Never a secret: the one-time panel keeps
 * its secret in its own component state and drops it when it closes.
 */
export type DialogState =
  | { type: 'create' }
  | { type: 'import' }
  | { type: 'reset'; key: KeyView }
  | { type: 'edit'; key: KeyView }
  | { type: 'revoke'; keys: SelectedKey[] }
  | { type: 'revokeMatching'; count: number }
  | { type: 'addOwner' }
  | { type: 'disableOwner'; owner: OwnerView }
  | { type: 'revokeOwner'; owner: OwnerView }
  | { type: 'purge'; count: number; retentionDays: number }

export interface DialogSlice {
  dialog: DialogState | null
  openDialog(d: DialogState): void
  closeDialog(): void
}

export const createDialogSlice: Slice<DialogSlice> = (set) => ({
  dialog: null,
  openDialog(d) {
    set({ dialog: d })
  },
  closeDialog() {
    set({ dialog: null })
  },
})
