/**
 * The team database URL as KeyDesk keeps it: a postgres:// URL WITHOUT its
 * password. A password typed into the URL (user:password@host, or ?password=) is
 * taken out of it here, so main keeps it in the OS keychain and the renderer can
 * move it into the password field; the URL itself is what a settings file, a
 * label or a log may show. One rule for main and the renderer (no node, no DOM:
 * only the URL global both have).
 */

export type SplitStoreUrl =
  | { ok: true; url: string; password: string | null }
  | { ok: false; field: 'url' | 'password'; message: string }

export const TEAM_URL_PATTERN = /^postgres(ql)?:\/\//i

/** Query parameters that carry a secret other than the login password: refused, never written to a file. */
const OTHER_SECRET_PARAM = /pass|secret|token/i

function decode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/**
 * Check a team database URL and take any password out of it. `typed` is the
 * password field; when the URL holds a different one, the caller is told rather
 * than one of them being dropped silently.
 */
export function splitStoreUrl(raw: string, typed?: string | null): SplitStoreUrl {
  const text = raw.trim()
  if (text === '') return { ok: false, field: 'url', message: 'Enter the team database URL, e.g. postgres://alice@db.example.com/keydesk.' }
  if (!TEAM_URL_PATTERN.test(text))
    return { ok: false, field: 'url', message: 'The team database URL must start with postgres:// (or postgresql://). For a store on this computer, choose “This computer”.' }
  let u: URL
  try {
    u = new URL(text)
  } catch {
    return { ok: false, field: 'url', message: 'The team database URL is not a valid URL; check it for spaces or a stray character.' }
  }
  if (u.hash) return { ok: false, field: 'url', message: 'The team database URL must not contain a “#”; if the password has one, type it into the password field instead.' }
  let inUrl: string | null = u.password ? decode(u.password) : null
  const param = u.searchParams.get('password')
  if (param !== null) {
    if (inUrl !== null && param !== inUrl) return { ok: false, field: 'url', message: 'The URL holds two different passwords (before the @ and in ?password=); keep one, or type it into the password field.' }
    inUrl = param
  }
  for (const key of u.searchParams.keys())
    if (key !== 'password' && OTHER_SECRET_PARAM.test(key))
      return { ok: false, field: 'url', message: `The URL carries “${key.slice(0, 40)}”, a secret KeyDesk would have to write to its settings file. Remove it; only the database password is kept, in the OS keychain.` }
  const field = typed ? typed : null
  if (inUrl !== null && field !== null && inUrl !== field)
    return { ok: false, field: 'password', message: 'The URL and the password field hold different passwords; keep one of them.' }
  u.password = ''
  // Only rewritten when it held the password: the rest of the query stays as typed.
  if (param !== null) u.searchParams.delete('password')
  let url = u.toString()
  // URL leaves a bare "?" behind when the only parameter was the password.
  if (url.endsWith('?')) url = url.slice(0, -1)
  return { ok: true, url, password: field ?? inUrl }
}
