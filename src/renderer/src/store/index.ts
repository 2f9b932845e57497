/**
 * One store, built from typed slices (zustand). Every call to window.keydesk is
 * an action here, next to the state it changes; components select primitives or
 * use useShallow. No secret is ever put in this store: the one-time secret lives
 * only in the state of the dialog that shows it.
 */
import { create, type StateCreator } from 'zustand'
import { createAuditSlice, type AuditSlice } from './audit'
import { createDialogSlice, type DialogSlice } from './dialogs'
import { createHealthSlice, type HealthSlice } from './health'
import { createKeysSlice, type KeysSlice } from './keys'
import { createOwnersSlice, type OwnersSlice } from './owners'
import { createPolicySlice, type PolicySlice } from './policy'
import { createSelectionSlice, type SelectionSlice } from './selection'
import { createStoreSettingsSlice, type StoreSettingsSlice } from './storeSettings'
import { createUiSlice, type UiSlice } from './ui'

export type AppState = KeysSlice & SelectionSlice & DialogSlice & OwnersSlice & PolicySlice & AuditSlice & HealthSlice & StoreSettingsSlice & UiSlice

export type Slice<T> = StateCreator<AppState, [], [], T>

export const createAppStore = () =>
  create<AppState>()((...a) => ({
    ...createKeysSlice(...a),
    ...createSelectionSlice(...a),
    ...createDialogSlice(...a),
    ...createOwnersSlice(...a),
    ...createPolicySlice(...a),
    ...createAuditSlice(...a),
    ...createHealthSlice(...a),
    ...createStoreSettingsSlice(...a),
    ...createUiSlice(...a),
  }))

export const useStore = createAppStore()

/** Back to the state at start-up (tests). */
export function resetStore(): void {
  useStore.setState(useStore.getInitialState(), true)
}
