// What the apps use to reach the broker. Operators' tools (reading queues, the management
// API) have their own entry point: `@hello-rabbit/transport/operations`.
export { BrokerError } from './errors.js';
export { openBroker } from './open-broker.js';
export type { BrokerSettings } from './open-broker.js';
export type { Broker } from './rascal-adapter.js';
export { createPublisher } from './publisher.js';
export type { Publisher, PublisherOptions, PublishOutcome, PublishOptions } from './publisher.js';
export { sendAll, publishUntilSettled } from './resend.js';
export type { MessageResult, SendOptions, SendReport, SettleOptions, Settled } from './resend.js';
export { declareExchange } from './declare-exchange.js';
export { startConsumer } from './start-consumer.js';
export type { ConsumerOptions, DeliveryContext, RunningConsumer } from './start-consumer.js';
export { startExchangeConsumer } from './exchange-consumer.js';
export type { ExchangeConsumerOptions, ExchangeDeliveryContext } from './exchange-consumer.js';
export { startRpcServer } from './consumer/rpc-server.js';
export type { RpcCompute } from './consumer/rpc-server.js';
export { createRpcClient } from './rpc-client.js';
export type { RpcCallOptions, RpcClient, RpcClientOptions, RpcOutcome } from './rpc-client.js';
export { DedupStoreUnavailable, isDedupStoreUnavailable, MemoryDedupStore, REMEMBERS_NOTHING } from './dedup-store.js';
export type { ClaimOutcome, DedupStore } from './dedup-store.js';
export { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAYS_MS, RecoveryHeader } from './retry-policy.js';
