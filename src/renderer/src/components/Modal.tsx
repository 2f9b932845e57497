/**
 * A modal built on the native <dialog> (showModal): the page behind is inert,
 * focus stays inside, Esc asks to close. On open, focus goes to the element
 * marked data-autofocus (or the first field); on close it returns to the element
 * that opened the dialog, or to the screen's heading if that element is gone.
 */
import { useId, useLayoutEffect, useRef, type KeyboardEvent, type ReactNode, type SyntheticEvent } from 'react'
import { IconX } from './icons'

const FOCUSABLE = 'input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), button:not([disabled]), [href], [tabindex]:not([tabindex="-1"])'

export interface ModalProps {
  title: ReactNode
  /** Accessible name when the visible title is not plain text. */
  label?: string
  onClose(): void
  /** When false, Esc and the close button do nothing but call onBlockedClose. */
  canClose?: boolean
  onBlockedClose?(): void
  showCloseButton?: boolean
  size?: 'sm' | 'md' | 'lg'
  tone?: 'default' | 'danger'
  describedBy?: string
  className?: string
  children: ReactNode
}

/** Where focus goes when its place went away: the open key's details, the key list's current row, else the screen heading. */
export function focusFallback(): void {
  const candidates = [
    document.querySelector<HTMLElement>('.details .details-title'),
    document.querySelector<HTMLElement>('#key-grid .row-name[tabindex="0"]'),
    document.querySelector<HTMLElement>('[data-screen-heading]'),
  ]
  for (const el of candidates) {
    if (!el) continue
    el.focus({ preventScroll: true })
    if (document.activeElement === el) return
  }
}

export function Modal({
  title,
  label,
  onClose,
  canClose = true,
  onBlockedClose,
  showCloseButton = true,
  size = 'md',
  tone = 'default',
  describedBy,
  className,
  children,
}: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  const state = useRef({ onClose, canClose, onBlockedClose })
  state.current = { onClose, canClose, onBlockedClose }

  useLayoutEffect(() => {
    const el = ref.current
    if (!el) return
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    if (typeof el.showModal === 'function') {
      if (!el.open) el.showModal()
    } else {
      el.setAttribute('open', '')
    }
    const first = el.querySelector<HTMLElement>('[data-autofocus]') ?? el.querySelector<HTMLElement>(`.modal-body ${FOCUSABLE.split(', ').join(', .modal-body ')}`) ?? el.querySelector<HTMLElement>(FOCUSABLE)
    first?.focus()
    return () => {
      if (el.open && typeof el.close === 'function') el.close()
      if (opener && opener.isConnected && opener !== document.body && !opener.closest('dialog:not([open])')) opener.focus()
      // The opener may be gone or disabled by what the dialog did (a revoked key's Revoke button): never leave focus on the body.
      if (document.activeElement !== opener || !opener) focusFallback()
    }
  }, [])

  const requestClose = () => {
    const s = state.current
    if (s.canClose) s.onClose()
    else s.onBlockedClose?.()
  }
  const onCancel = (e: SyntheticEvent) => {
    e.preventDefault()
    requestClose()
  }
  const onKeyDown = (e: KeyboardEvent) => {
    // Keep Tab inside the dialog: the native modal leaves the page behind inert but lets focus wander to the browser.
    if (e.key === 'Tab' && ref.current) {
      const all = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null || el === document.activeElement)
      const first = all[0]
      const last = all[all.length - 1]
      if (first && last) {
        if (e.shiftKey && (document.activeElement === first || !ref.current.contains(document.activeElement))) {
          e.preventDefault()
          last.focus()
        } else if (!e.shiftKey && document.activeElement === last) {
          e.preventDefault()
          first.focus()
        }
      }
      return
    }
    if (e.key === 'Escape' && !e.defaultPrevented) {
      e.preventDefault()
      e.stopPropagation()
      requestClose()
    }
  }

  return (
    <dialog
      ref={ref}
      className={`modal modal-${size} modal-${tone}${className ? ` ${className}` : ''}`}
      aria-labelledby={label ? undefined : titleId}
      aria-label={label}
      aria-describedby={describedBy}
      aria-modal="true"
      onCancel={onCancel}
      onKeyDown={onKeyDown}
    >
      <header className="modal-head">
        <h2 id={titleId} className="modal-title">
          {title}
        </h2>
        {showCloseButton && (
          <button type="button" className="icon-btn" aria-label="Close dialog" title="Close (Esc)" onClick={requestClose} disabled={!canClose && !onBlockedClose}>
            <IconX />
          </button>
        )}
      </header>
      {children}
    </dialog>
  )
}
