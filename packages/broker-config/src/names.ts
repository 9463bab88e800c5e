/**
 * The names both sides agree on. `hello` and `task_queue` are the tutorials' own: every
 * official tutorial program (Python, Java, Go, ...) uses them.
 */
export const QueueName = {
  /** Tutorial 1, "Hello World". */
  hello: 'hello',
  /** Where the consumer sets aside `hello` messages it cannot accept. */
  helloDeadLetters: 'hello.dlq',
  /** Tutorial 2, "Work Queues". */
  task: 'task_queue',
  /** Where the worker sets aside tasks it cannot accept or that failed every attempt. */
  taskDeadLetters: 'task_queue.dlq',
  /** Wait queues of the worker's retries, one per backoff step (see topology.ts). */
  taskRetry1: 'task_queue.retry.1',
  taskRetry2: 'task_queue.retry.2',
  taskRetry3: 'task_queue.retry.3',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/** Publications: what the producer may publish, by name. */
export const PublicationName = {
  hello: 'hello',
  task: 'task_queue',
} as const;
export type PublicationName = (typeof PublicationName)[keyof typeof PublicationName];

/** Subscriptions: what the consumer may consume, by name. */
export const SubscriptionName = {
  hello: 'hello',
  task: 'task_queue',
} as const;
export type SubscriptionName = (typeof SubscriptionName)[keyof typeof SubscriptionName];
