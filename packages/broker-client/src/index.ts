export { ExitCode } from './exit-codes.js';
export { ConfigError, BrokerError } from './errors.js';
export type { BrokerErrorCode } from './errors.js';
export { DEFAULT_AMQP_URL, parseAmqpUrl, scrubSecret, withPassword, nodeEndpoints, formatNode } from './amqp-url.js';
export type { AmqpEndpoint, BrokerNode, EndpointTls, SettingFile } from './amqp-url.js';
export {
  brokerEnvShape,
  intSetting,
  amqpUrlSetting,
  httpHostSetting,
  httpPortSetting,
  fileSetting,
  parseEnv,
  LOG_LEVELS,
  TOPOLOGY_MODES,
  HOST_ORDERS,
} from './settings.js';
export type { TopologyMode, HostOrder } from './settings.js';
export { createLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { toBrokerError, channelError } from './broker-errors.js';
export { withDeadline } from './deadline.js';
export { openBroker } from './open-broker.js';
export { connectFirstNode, connecting } from './connect.js';
export type { Connecting, PlainConnection, PlainConnectionOptions } from './connect.js';
export type { Broker, BrokerSettings } from './open-broker.js';
export { startConsumer } from './start-consumer.js';
export type { ConsumerMetrics, ConsumerOptions, DeliveryContext, Handler, RunningConsumer } from './start-consumer.js';
export { MemoryDedupStore } from './dedup-store.js';
export type { DedupStore } from './dedup-store.js';
export { countAttempts, RecoveryHeader } from './delivery-attempts.js';
export type { AttemptCount } from './delivery-attempts.js';
export { parseCommandLine, describeFatal } from './command-line.js';
export type { CommandLine } from './command-line.js';
export { createPublisher } from './publisher.js';
export { declareExchange } from './declare-exchange.js';
export type { ExchangeMode } from './declare-exchange.js';
export { startExchangeConsumer, checkBindingKeys } from './exchange-consumer.js';
export type { ExchangeConsumerOptions, ExchangeDeliveryContext, ExchangeHandler, RunningExchangeConsumer } from './exchange-consumer.js';
export { createRpcClient, DIRECT_REPLY_TO } from './rpc-client.js';
export type { RpcCallOptions, RpcClient, RpcClientOptions, RpcOutcome } from './rpc-client.js';
export type { Publisher, PublisherOptions, PublishOutcome, PublishOptions } from './publisher.js';
export { createMetrics, DeadLetterReason, PublishFailureReason } from './metrics.js';
export type { Metrics, HandlerOutcome, InFlightDirection } from './metrics.js';
export { createHttpServer, createReadiness } from './http-server.js';
export type { HttpServer, HttpServerOptions, Readiness } from './http-server.js';
export { watchBrokerConnection, BROKER_CONDITION } from './connection-state.js';
export type { ConnectionState, BrokerEvents, WatchOptions } from './connection-state.js';
export { startPublishSpan, inProcessSpan, extractContext, TRACE_HEADERS } from './tracing.js';
export type { PublishSpan } from './tracing.js';
export { onStopSignal } from './stop-signals.js';
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
