export { QueueName, PublicationName, SubscriptionName, ExchangeName, RpcName, isExchangeName } from './names.js';
export { messages } from './messages.js';
export {
  exchanges,
  exchangePublications,
  exchangeSubscriptions,
  rpcCalls,
  routingKeyProblem,
  bindingKeyProblems,
  SUBSCRIBER_QUEUE_OPTIONS,
  FIBONACCI_MAX_N,
} from './exchanges.js';
export type { ExchangeDeclaration, ExchangeSubscriptionPayload, RpcRequest, RpcReply } from './exchanges.js';
export type { MessageName } from './messages.js';
export { encodeMessage, decodeMessage, InvalidMessageError } from './codec.js';
export type { EncodedMessage } from './codec.js';
export { queues, publications, subscriptions, rascalTopology, queuesUsedBy } from './topology.js';
export { exportDefinitions } from './definitions.js';
export type { DefinitionsOptions } from './definitions.js';
export type { QueueDeclaration, QueueMode, PublicationPayload, SubscriptionPayload, TopologyUse } from './topology.js';
