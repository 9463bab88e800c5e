// What every app runs on. Loads no HTTP server and no metrics registry: those are under
// `@hello-rabbit/runtime/http`, for the apps that serve them.
export { ExitCode } from './exit-codes.js';
export { ConfigError } from './errors.js';
export type { FatalError } from './errors.js';
export { parseAmqpUrl, nodeEndpoints, scrubSecret, settingFile, urlWithoutCredentials } from './amqp-url.js';
export type { AmqpEndpoint, BrokerNode, EndpointTls, SettingFile } from './amqp-url.js';
export {
  brokerEnvShape,
  dedupEnvShape,
  intSetting,
  httpHostSetting,
  httpPortSetting,
  parseEnv,
  LOG_LEVELS,
} from './settings.js';
export type { TopologyMode } from './settings.js';
export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { withDeadline, closeWithin, CLOSE_DEADLINE_MS } from './deadline.js';
export { onStopSignal } from './stop-signals.js';
export { parseCommandLine, describeFatal } from './command-line.js';
export { createReadiness } from './readiness.js';
export { watchBrokerConnection } from './connection-state.js';
export type { ConnectionState } from './connection-state.js';
export { DeadLetterReason, PublishFailureReason } from './metric-events.js';
export type { Metrics } from './metric-events.js';
export { publishSpanIfTracing, inProcessSpan, recordFailure } from './tracing.js';
export type { PublishSpan } from './tracing.js';
export { parseRedisUrl } from './redis-url.js';
export type { RedisAddress } from './redis-url.js';
