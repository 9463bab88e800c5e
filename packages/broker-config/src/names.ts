/**
 * The names both sides agree on. The queue name is the tutorial's: every official
 * tutorial program (Python, Java, Go, ...) publishes to and consumes from `hello`.
 */
export const QueueName = {
  hello: 'hello',
  /** Where the consumer puts `hello` messages it cannot accept (see topology.ts). */
  helloDeadLetters: 'hello.dlq',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/** Publications: what the producer may publish, by name. */
export const PublicationName = {
  hello: 'hello',
} as const;
export type PublicationName = (typeof PublicationName)[keyof typeof PublicationName];

/** Subscriptions: what the consumer may consume, by name. */
export const SubscriptionName = {
  hello: 'hello',
} as const;
export type SubscriptionName = (typeof SubscriptionName)[keyof typeof SubscriptionName];
