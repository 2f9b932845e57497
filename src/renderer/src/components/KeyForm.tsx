/**
 * Pieces the create and edit dialogs share: the description field, the scopes picker (suggests the
 * scopes live keys already use, still takes new ones as typed) and the
 * "discard what you typed?" guard that Esc and the close button go through.
 */
import { useEffect, useRef, useState, type ReactNode, type RefObject } from 'react'
import { splitScopes } from '../lib/validate'
import { useStore } from '../store'
import { Field, type FieldIds } from './Field'
import { IconCheck, IconPlus, IconWarning } from './icons'

const MAX_SUGGESTIONS = 12

/** The key's free-text description (both dialogs). */
export function DescriptionField({
  value,
  onChange,
  ids,
  error,
  textareaRef,
}: {
  value: string
  onChange(v: string): void
  ids: FieldIds & { hintId: string; errorId: string }
  error: string | null | undefined
  textareaRef: RefObject<HTMLTextAreaElement | null>
}) {
  return (
    <Field label="Description" ids={ids} error={error} optional hint="Where the key is used and who to ask about it.">
      <textarea
        ref={textareaRef}
        id={ids.id}
        aria-describedby={ids['aria-describedby']}
        aria-invalid={ids['aria-invalid']}
        className="input"
        rows={2}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </Field>
  )
}

export function ScopesField({
  value,
  onChange,
  ids,
  error,
  inputRef,
  hint,
}: {
  value: string
  onChange(v: string): void
  ids: FieldIds & { hintId: string; errorId: string }
  error: string | null | undefined
  inputRef: RefObject<HTMLInputElement | null>
  hint?: ReactNode
}) {
  const inUse = useStore((s) => s.scopesInUse)
  const loadScopesInUse = useStore((s) => s.loadScopesInUse)
  useEffect(() => {
    void loadScopesInUse()
  }, [loadScopesInUse])
  const chosen = splitScopes(value)
  // The word being typed filters the suggestions, unless it already is a scope in use.
  const last = /[\s,]$/.test(value) || value === '' ? '' : (chosen[chosen.length - 1] ?? '')
  const partial = last && !(inUse ?? []).includes(last) ? last : ''
  const complete = partial ? chosen.slice(0, -1) : chosen
  const suggestions = (inUse ?? []).filter((s) => !partial || s.toLowerCase().includes(partial.toLowerCase())).slice(0, MAX_SUGGESTIONS)

  const toggle = (scope: string) => {
    const has = complete.includes(scope)
    const next = has ? complete.filter((s) => s !== scope) : [...complete, scope]
    onChange(next.length ? next.join(' ') + ' ' : '')
  }

  return (
    <Field
      label="Scopes"
      ids={ids}
      error={error}
      optional
      hint={hint ?? 'What the key may do, separated by spaces or commas, e.g. read:invoices write:payouts. Pick one in use or type a new one.'}
    >
      <input
        ref={inputRef}
        id={ids.id}
        aria-describedby={ids['aria-describedby']}
        aria-invalid={ids['aria-invalid']}
        className="input mono-input"
        value={value}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => onChange(e.target.value)}
      />
      {suggestions.length > 0 && (
        <div className="scope-suggestions" role="group" aria-label="Scopes in use">
          <span className="muted small">In use:</span>
          {suggestions.map((s) => {
            const on = complete.includes(s)
            return (
              <button
                key={s}
                type="button"
                className={`chip chip-btn${on ? ' chip-on' : ''}`}
                aria-pressed={on}
                title={on ? `Remove ${s}` : partial ? `Use ${s} in place of “${partial}”` : `Add ${s}`}
                onClick={() => {
                  if (partial && !on) onChange([...complete, s].join(' ') + ' ')
                  else toggle(s)
                }}
              >
                {on ? <IconCheck className="icon icon-sm" /> : <IconPlus className="icon icon-sm" />}
                <span className="mono">{s}</span>
              </button>
            )
          })}
        </div>
      )}
    </Field>
  )
}

/**
 * Esc or the close button on a form with something typed asks first. Returns the
 * Modal props and the question to render (null while not asking).
 */
export function useDiscardGuard(dirty: boolean, onDiscard: () => void, what: string) {
  const [asking, setAsking] = useState(false)
  const lastFocus = useRef<HTMLElement | null>(null)
  const keepRef = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    if (asking) keepRef.current?.focus()
  }, [asking])
  const keep = () => {
    setAsking(false)
    requestAnimationFrame(() => lastFocus.current?.focus())
  }
  const question = asking ? (
    <div className="callout callout-warning discard-ask" role="alertdialog" aria-label={`Discard ${what}?`} aria-describedby="discard-ask-text">
      <IconWarning />
      <div>
        <p id="discard-ask-text">
          <strong>Discard {what}?</strong> What you typed is lost.
        </p>
        <div className="discard-actions">
          <button ref={keepRef} type="button" className="btn btn-secondary btn-sm" onClick={keep}>
            Keep editing
          </button>
          <button type="button" className="btn btn-danger btn-sm" onClick={onDiscard}>
            Discard
          </button>
        </div>
      </div>
    </div>
  ) : null
  return {
    modal: {
      canClose: !dirty,
      onBlockedClose: () => {
        if (asking) return keep()
        lastFocus.current = document.activeElement instanceof HTMLElement ? document.activeElement : null
        setAsking(true)
      },
    },
    question,
  }
}
