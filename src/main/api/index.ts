export {
  createApi,
  createHandlers,
  openStoreState,
  openConfiguredStoreState,
  toBridgeError,
  describeUnexpected,
  consoleLogger,
  defaultFileNames,
  isOperationName,
  BridgeFailure,
  INTERNAL_ERROR,
  type Api,
  type ApiContext,
  type Handlers,
  type Logger,
  type StoreState,
  type StoreSetup,
} from './handlers'
export { HandoffRegistry, systemClock, type Clock } from './handoffs'
export { readImportFile, IMPORT_FILE_MAX_BYTES, type PlatformPorts, type OpenedFile, type DesktopNotification } from './ports'
export { createReminderScheduler, REPORT_FILE_NAME } from './attention'
export { parseInput, checkPlainData, issueToError } from './validate'
