import { useEffect, useRef, useState } from 'react'

/** The current time, refreshed every `everyMs` (for relative times like "in 3 days"). */
export function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs)
    return () => clearInterval(t)
  }, [everyMs])
  return now
}

/**
 * Call `fn(value)` once `value` has stopped changing for `ms`. A change still
 * waiting when the component unmounts is applied then, not lost.
 */
export function useDebouncedEffect<T>(value: T, ms: number, fn: (v: T) => void): void {
  const fnRef = useRef(fn)
  fnRef.current = fn
  const first = useRef(true)
  const pending = useRef<{ value: T } | null>(null)
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    pending.current = { value }
    const t = setTimeout(() => {
      pending.current = null
      fnRef.current(value)
    }, ms)
    return () => clearTimeout(t)
  }, [value, ms])
  useEffect(
    () => () => {
      const p = pending.current
      pending.current = null
      if (p) fnRef.current(p.value)
    },
    [],
  )
}
