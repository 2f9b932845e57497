/** "Type the name to confirm": the field every irreversible action asks for. Enabled-ness is the caller's (typed === target). */
import { Field, useFieldIds } from './Field'
import { IconCheck } from './icons'

export function ConfirmNameField({
  label,
  target,
  value,
  error,
  onChange,
}: {
  label: string
  target: string
  value: string
  error: string | null
  onChange(value: string): void
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
          data-autofocus
          onChange={(e) => onChange(e.target.value)}
        />
        {value === target && <IconCheck className="icon input-state-ok" />}
      </div>
    </Field>
  )
}
