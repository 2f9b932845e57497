/** Pieces every confirmation dialog uses: the error callout and the footer with Cancel. */
import type { ReactNode } from 'react'
import { IconWarning } from './icons'

export function ErrorCallout({ text }: { text: string | null }) {
  if (!text) return null
  return (
    <div className="callout callout-danger" role="alert">
      <IconWarning />
      <div>{text}</div>
    </div>
  )
}

/** Cancel plus the dialog's own action. focusCancel: destructive dialogs open with Cancel focused. */
export function Foot({ children, onCancel, note, focusCancel }: { children: ReactNode; onCancel(): void; note?: ReactNode; focusCancel?: boolean }) {
  return (
    <footer className="modal-foot">
      {note ?? <span />}
      <div className="modal-foot-actions">
        <button type="button" className="btn btn-ghost" onClick={onCancel} data-autofocus={focusCancel || undefined}>
          Cancel
        </button>
        {children}
      </div>
    </footer>
  )
}
