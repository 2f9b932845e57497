/**
 * The list of bridge operations, without schemas, so the sandboxed preload can
 * build window.keydesk from it without bundling zod. contract.ts must define
 * exactly these names (a test checks it).
 */
export const OPERATION_NAMES = [
  'health',
  'keysList',
  'keysGet',
  'keysCreate',
  'keysImport',
  'keysReset',
  'keysUpdate',
  'keysDisable',
  'keysEnable',
  'scopesInUse',
  'keysRevoke',
  'keysRevokeMatching',
  'keysPurge',
  'attentionList',
  'scanFolder',
  'reportSave',
  'ownersList',
  'ownersAdd',
  'ownersDisable',
  'ownersEnable',
  'ownersRevokeAll',
  'policyGet',
  'policySet',
  'policyPreview',
  'auditList',
  'auditVerify',
  'storeCheck',
  'auditExport',
  'inventoryExport',
  'credentialsSave',
  'credentialsDiscard',
  'secretCopy',
  'storeSettingsGet',
  'storeSettingsTest',
  'storeSettingsSave',
] as const

export type OperationName = (typeof OPERATION_NAMES)[number]

/** IPC channel of an operation; main registers exactly these, the preload invokes exactly these. */
export const channelOf = (name: OperationName): string => `keydesk:${name}`
