// Small shared helpers for the benchmark scripts.

/** One figure, one JSON line: {"name","value","unit","target","ok", …}. */
export function emit(figure) {
  process.stdout.write(JSON.stringify({ target: null, ok: null, ...figure }) + '\n')
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export function timeMs(fn) {
  const t = performance.now()
  fn()
  return performance.now() - t
}
