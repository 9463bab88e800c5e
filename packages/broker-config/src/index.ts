export { QueueName, PublicationName, SubscriptionName } from './names.js';
export { messages, textMessage } from './messages.js';
export type { MessageKind, MessageName, MessagePayload, JsonForm } from './messages.js';
export { encodeMessage, decodeMessage, parseJson, InvalidMessageError } from './codec.js';
export type { EncodedMessage, DecodeResult } from './codec.js';
export { queues, publications, subscriptions, createBrokerConfig } from './topology.js';
export type {
  QueueOptions,
  QueueDeclaration,
  QueueMode,
  PublicationDeclaration,
  SubscriptionDeclaration,
  BrokerConfigOptions,
  PublicationPayload,
  SubscriptionPayload,
} from './topology.js';
