export { BrokerError } from './errors.js';
export type { BrokerErrorCode } from './errors.js';
export { openBroker } from './open-broker.js';
export { connectFirstNode, connecting } from './connect.js';
export type { Connecting, PlainConnection, PlainConnectionOptions } from './connect.js';
export type { BrokerSettings } from './open-broker.js';
export type { Broker, BrokerEvent } from './rascal-adapter.js';
export { startConsumer } from './start-consumer.js';
export type { ConsumerOptions, DeliveryContext, RunningConsumer } from './start-consumer.js';
export { startRpcServer } from './consumer/rpc-server.js';
export type { RpcCompute } from './consumer/rpc-server.js';
export { MemoryDedupStore } from './dedup-store.js';
export type { DedupStore } from './dedup-store.js';
export { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAYS_MS, RecoveryHeader } from './retry-policy.js';
export { createPublisher } from './publisher.js';
export { declareExchange } from './declare-exchange.js';
export type { ExchangeMode } from './declare-exchange.js';
export { startExchangeConsumer, checkBindingKeys } from './exchange-consumer.js';
export type { ExchangeConsumerOptions, ExchangeDeliveryContext } from './exchange-consumer.js';
export { createRpcClient } from './rpc-client.js';
export type { RpcCallOptions, RpcClient, RpcClientOptions, RpcOutcome } from './rpc-client.js';
export type { Publisher, PublisherOptions, PublishOutcome, PublishOptions } from './publisher.js';
export {
  checkQueuesViaManagement,
  createManagementClient,
  queueDifferences,
  queueShapeOf,
  argumentDifferences,
  managementQueueShape,
  policyDefinitionShape,
  apiSegment,
} from './management-check.js';
export type { ManagementCheckOptions, ManagementClient, ManagementLogin, ManagementQueue, QueueDifference, QueueDrift, QueueShape } from './management-check.js';
export { sendAll, publishUntilSettled } from './resend.js';
export type { MessageResult, SendOptions, SendReport, SettleOptions, Settled } from './resend.js';
/** Looking into queues on a plain connection (the ops tool): browse, take for good after a confirmed copy, close. */
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
