// For operators' tools (apps/ops): reading, taking and copying the messages of a queue over
// a plain connection, and the management API's view of queues compared with the contract.
export { openQueueBrowser, QueueBrowseError } from './queue-browser.js';
export type {
  CopyOutcome,
  CopyProperties,
  MessageProperties,
  QueueBrowseFailure,
  QueueBrowser,
  QueueBrowserOptions,
  QueueMessage,
  ScanOptions,
  ScanResult,
  Verdict,
} from './queue-browser.js';
export {
  createManagementClient,
  queueDifferences,
  argumentDifferences,
  managementQueueShape,
  policyDefinitionShape,
  apiSegment,
} from './management-check.js';
export type { ManagementClient, ManagementLogin, ManagementQueue, QueueDifference } from './management-check.js';
