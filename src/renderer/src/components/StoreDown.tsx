import { IconWarning } from './icons'

/** In place of a screen's content while the key store cannot be opened; the banner at the top says why. */
export function StoreDown({ what }: { what: string }) {
  return (
    <div className="empty empty-static" role="status">
      <IconWarning className="icon empty-icon empty-icon-danger" />
      <h2>{what} cannot be shown</h2>
      <p>The key store is not open. The message at the top of the window says what is wrong and what to do; then choose “Check again”.</p>
    </div>
  )
}
