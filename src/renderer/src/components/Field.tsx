/** A form field's frame: label, the control, a one-line hint and the field's error, wired with ids. */
import { useId, type ReactNode } from 'react'
import { IconWarning } from './icons'

export interface FieldIds {
  id: string
  'aria-describedby': string | undefined
  'aria-invalid': boolean | undefined
}

export function useFieldIds(hint: boolean, error: string | null | undefined): FieldIds & { hintId: string; errorId: string } {
  const id = useId()
  const hintId = `${id}-hint`
  const errorId = `${id}-error`
  const describedBy = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(' ') || undefined
  return { id, hintId, errorId, 'aria-describedby': describedBy, 'aria-invalid': error ? true : undefined }
}

export function Field({
  label,
  ids,
  hint,
  error,
  optional,
  children,
  className,
}: {
  label: ReactNode
  ids: { id: string; hintId: string; errorId: string }
  hint?: ReactNode
  error?: string | null
  optional?: boolean
  children: ReactNode
  className?: string
}) {
  return (
    <div className={`field${error ? ' field-invalid' : ''}${className ? ` ${className}` : ''}`}>
      <div className="field-label-row">
        <label className="field-label" htmlFor={ids.id}>
          {label}
        </label>
        {optional && (
          <span className="field-optional" aria-hidden="true">
            Optional
          </span>
        )}
      </div>
      {children}
      {error && (
        <p className="field-error" id={ids.errorId}>
          <IconWarning />
          <span>{error}</span>
        </p>
      )}
      {hint && (
        <p className="field-hint" id={ids.hintId}>
          {hint}
        </p>
      )}
    </div>
  )
}
