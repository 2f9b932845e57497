/**
 * A stub of window.keydesk for component tests: every operation is a vi.fn
 * with a plausible answer, so a test states only what matters to it. The
 * components, the store and its actions are the real ones.
 */
import { cleanup } from '@testing-library/react'
import { afterEach, vi, type Mock } from 'vitest'
import type { AppHealth, KeydeskApi, OneTimeSecret, Result } from '../../src/shared/contract'
import type { KeyView, OwnerView, Policy } from '../../src/shared/domain'
import { OPERATION_NAMES, type OperationName } from '../../src/shared/operations'
import { resetStore, useStore } from '../../src/renderer/src/store'

export type StubApi = { [K in OperationName]: Mock<KeydeskApi[K]> }

export const ok = <T,>(value: T): Result<T> => ({ ok: true, value })
export const fail = (kind: string, message: string, field?: string): Result<never> =>
  ({ ok: false, error: { kind, message, ...(field ? { field } : {}) } }) as Result<never>

export const POLICY: Policy = { maxKeyAgeDays: 365, maxKeysPerOwner: 100, defaultExpiryDays: 30, allowCreation: true, retentionDays: 90, reminderDays: [30, 7, 1], staleAfterDays: 45 }

export const HEALTH: AppHealth = {
  ok: true,
  problem: null,
  dataDir: '/tmp/keydesk-test',
  dbPath: '/tmp/keydesk-test/keydesk.db',
  schemaVersion: 2,
  keychain: 'ok',
  actor: 'alice',
}

export function owner(name: string, over: Partial<OwnerView> = {}): OwnerView {
  return { name, kind: 'service', createdAt: '2026-01-01T00:00:00.000Z', disabledAt: null, tampered: false, keys: { active: 2, expired: 1, revoked: 0 }, ...over }
}

export function keyView(over: Partial<KeyView> = {}): KeyView {
  return {
    accessId: 'kdid_AAAAAAAAAAAAAAAA',
    name: 'payments/Stripe webhook',
    owner: 'ci-bot',
    ownerKind: 'service',
    ownerDisabled: false,
    description: 'Receives Stripe events',
    scopes: ['read:invoices', 'write:payouts'],
    status: 'active',
    hint: 'kdsk_Ab12',
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: new Date(Date.now() + 40 * 86_400_000).toISOString(),
    resetAt: null,
    revokedAt: null,
    revokedReason: null,
    lastUsedAt: new Date(Date.now() - 3 * 3_600_000).toISOString(),
    graceUntil: null,
    previousSecrets: [],
    disabledAt: null,
    stale: false,
    tampered: false,
    ...over,
  }
}

export const SECRET_KEY = 'kdsk_S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAbCdEf'

export function oneTimeSecret(over: Partial<OneTimeSecret> = {}): OneTimeSecret {
  return {
    handoffId: '0123456789abcdef0123456789abcdef',
    handoffExpiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
    keys: [
      {
        accessId: 'kdid_BBBBBBBBBBBBBBBB',
        accessKey: SECRET_KEY,
        name: 'deploy-bot',
        owner: 'alice',
        scopes: ['deploy'],
        expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      },
    ],
    ...over,
  }
}

/** Install a fresh stub as window.keydesk, reset the store, and seed health/policy/owners as the app would after start-up. */
export function installApi(opts: { owners?: OwnerView[]; policy?: Policy; health?: AppHealth } = {}): StubApi {
  const api = {} as Record<OperationName, Mock>
  for (const op of OPERATION_NAMES) api[op] = vi.fn(async () => fail('internal', `${op} not stubbed`))
  api.health.mockResolvedValue(ok(opts.health ?? HEALTH))
  api.policyGet.mockResolvedValue(ok(opts.policy ?? POLICY))
  api.ownersList.mockResolvedValue(ok(opts.owners ?? [owner('ci-bot'), owner('alice', { kind: 'user' })]))
  api.keysList.mockResolvedValue(ok({ items: [], total: 0 }))
  api.credentialsDiscard.mockResolvedValue(ok({ discarded: true }))
  api.auditList.mockResolvedValue(ok([]))
  Object.defineProperty(window, 'keydesk', { value: api, configurable: true, writable: true })
  resetStore()
  useStore.setState({ health: opts.health ?? HEALTH, policy: opts.policy ?? POLICY, owners: opts.owners ?? [owner('ci-bot'), owner('alice', { kind: 'user' })] })
  return api as unknown as StubApi
}

afterEach(async () => {
  cleanup()
  // Let a torn-down one-time panel send its deferred discard to this test's stub, not the next one's.
  await new Promise((r) => setTimeout(r, 5))
})
