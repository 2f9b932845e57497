/** "Type the name to confirm": the field every irreversible action asks for. Enabled-ness is the caller's (typed === target). */
import { Field, useFieldIds } from './Field'
import { IconCheck } from './icons'

export function ConfirmNameField({
  label,
  target,
  value,
  error,
  onChange,
  onEnter,
  autoFocus = true,
}: {
  label: string
  target: string
  value: string
  error: string | null
  onChange(value: string): void
  /** Enter in the field (a wrong name + Enter shows the field error instead of doing nothing). */
  onEnter?(): void
  autoFocus?: boolean
}) {
  const ids = useFieldIds(true, error)
  return (
    <Field
      label={label}
      ids={ids}
      error={error}
      hint={
        <>
          Type <code className="confirm-target">{target}</code> exactly — capitals and spaces count.
        </>
      }
    >
      <div className="input-with-state">
        <input
          id={ids.id}
          aria-describedby={ids['aria-describedby']}
          aria-invalid={ids['aria-invalid']}
          className="input mono-input"
          value={value}
          autoComplete="off"
          spellCheck={false}
          data-autofocus={autoFocus || undefined}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && value !== target) {
              e.preventDefault()
              onEnter?.()
            }
          }}
        />
        {value === target && <IconCheck className="icon input-state-ok" />}

      </div>
      {near(value, target) && <p className="field-note">Almost: capitals and spaces must match the name exactly.</p>}
    </Field>
  )
}

/** Same letters, wrong capitals or spaces: the near-miss both reset and owner revoke-all point out. */
export function near(value: string, target: string): boolean {
  return value !== '' && value !== target && value.trim().toLowerCase().replace(/\s+/g, ' ') === target.toLowerCase().replace(/\s+/g, ' ')
}
