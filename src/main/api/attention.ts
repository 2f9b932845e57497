/**
 * Bridge handlers for keys that need attention (the "Needs attention" screen,
 * the leak scan of a picked folder, the credential report), and the reminder
 * scheduler hosts start next to the api (Electron at start and hourly; the
 * end-to-end harness the same way, with a recording notification port).
 */
import type { KeyStore } from '../core/index'
import { writeCredentialReport } from '../core/report'
import { scanPaths, scanSummary } from '../core/scan'
import { ReminderScheduler } from '../core/reminders'
import { ATTENTION_LIST_MAX, type AttentionView, type SaveOutcome, type ScanOutcome } from '../../shared/contract'
import type { KeyView } from '../../shared/domain'
import type { PlatformPorts } from './ports'
import type { Handlers, Logger, StoreState } from './handlers'

export const REPORT_FILE_NAME = 'keydesk-credential-report.csv'

type AttentionHandlers = Pick<Handlers, 'attentionList' | 'scanFolder' | 'reportSave'>

export function attentionHandlers(
  ports: PlatformPorts,
  store: () => KeyStore,
  save: (defaultName: string, title: string, write: (path: string) => string) => Promise<SaveOutcome>,
): AttentionHandlers {
  return {
    async attentionList(): Promise<AttentionView> {
      const s = store()
      const policy = s.getPolicy()
      const widest = Math.max(...policy.reminderDays)
      const expiring = s.list({ status: 'active', expiringWithinDays: widest, sort: 'expires', order: 'asc', limit: ATTENTION_LIST_MAX })
      const stale = policy.staleAfterDays > 0 ? s.list({ unusedForDays: policy.staleAfterDays, sort: 'lastUsed', order: 'asc', limit: ATTENTION_LIST_MAX }) : { items: [], total: 0 }
      const tampered: KeyView[] = []
      let tamperedTotal = 0
      for (const k of s.iterateKeys()) {
        if (!k.tampered) continue
        tamperedTotal++
        if (tampered.length < ATTENTION_LIST_MAX) tampered.push(k)
      }
      return {
        at: new Date().toISOString(),
        reminderDays: policy.reminderDays,
        staleAfterDays: policy.staleAfterDays,
        expiring: expiring.items,
        expiringTotal: expiring.total,
        stale: stale.items,
        staleTotal: stale.total,
        tampered,
        tamperedTotal,
      }
    },
    async scanFolder({ git }): Promise<ScanOutcome> {
      const s = store()
      const folder = await ports.chooseFolder('Scan a folder for leaked keys')
      if (folder === null)
        return { scanned: false, folder: null, found: [], unknown: [], stats: { files: 0, blobs: 0, skippedBinary: 0, skippedLarge: 0, skippedUnreadable: 0 }, live: false }
      const r = scanPaths([folder], (k) => s.findByKey(k), { git: git === true, cwd: folder })
      return { scanned: true, folder, ...scanSummary(r) }
    },
    async reportSave() {
      const s = store()
      return save(REPORT_FILE_NAME, 'Save the credential report', (p) => writeCredentialReport(s, p).path)
    },
  }
}

/** Expiry reminders through the notification port; hosts call start() once the api is up and stop() at quit. */
export function createReminderScheduler(opts: { store: StoreState | (() => StoreState); ports: PlatformPorts; log: Logger; now?: () => number; intervalMs?: number }): ReminderScheduler {
  // A function follows the Store setting (api.store); a StoreState stays with that store.
  const current = (): StoreState => (typeof opts.store === 'function' ? opts.store() : opts.store)
  return new ReminderScheduler({
    source: () => {
      const s = current()
      return s.ok ? s.store : null
    },
    notify: (n) => opts.ports.notify({ title: n.title, body: n.body }),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.intervalMs ? { intervalMs: opts.intervalMs } : {}),
    onError: (e) => opts.log.warn(`expiry reminders: ${e instanceof Error ? e.message.split('\n')[0] : 'check failed'}`),
  })
}
