export { QueueName, PublicationName, SubscriptionName, ExchangeName, RpcName } from './names.js';
export { messages, textMessage, FIBONACCI_MAX_N } from './messages.js';
export {
  exchanges,
  exchangePublications,
  exchangeSubscriptions,
  rpcCalls,
  routingKeyProblem,
  SUBSCRIBER_QUEUE_OPTIONS,
} from './exchanges.js';
export type {
  ExchangeOptions,
  ExchangeType,
  ExchangeDeclaration,
  RoutingKeyRule,
  ExchangePublicationDeclaration,
  ExchangeSubscriptionDeclaration,
  RpcDeclaration,
  ExchangePublicationPayload,
  ExchangeSubscriptionPayload,
  RpcRequest,
  RpcReply,
} from './exchanges.js';
export type { MessageKind, MessageName, MessagePayload, JsonForm } from './messages.js';
export { encodeMessage, decodeMessage, parseJson, InvalidMessageError } from './codec.js';
export type { EncodedMessage, DecodeResult } from './codec.js';
export { queues, publications, subscriptions, rascalTopology } from './topology.js';
export { exportDefinitions, appRights, permissionPattern, DEFAULT_EXCHANGE_RESOURCE } from './definitions.js';
export type { AppRights, DefinitionsOptions, PermissionDefinition, QueueDefinition, RabbitDefinitions } from './definitions.js';
export type {
  QueueOptions,
  QueueDeclaration,
  QueueMode,
  PublicationDeclaration,
  SubscriptionDeclaration,
  TopologyOptions,
  PublicationPayload,
  SubscriptionPayload,
} from './topology.js';
