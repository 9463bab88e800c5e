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
  /** Tutorial 6, "RPC": the requests the Fibonacci server answers. */
  rpc: 'rpc_queue',
  /** Where the RPC server sets aside requests it cannot accept (say, `n` is not a number). */
  rpcDeadLetters: 'rpc_queue.dlq',
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
  /** Tutorial 6's server: answers each request on `rpc_queue`. */
  rpc: 'rpc_queue',
} as const;
export type SubscriptionName = (typeof SubscriptionName)[keyof typeof SubscriptionName];

/**
 * The exchanges of tutorials 3 to 5, named as every official tutorial program names them.
 * Each is also the name of its publication (`exchangePublications`) and of its
 * subscription (`exchangeSubscriptions`).
 */
export const ExchangeName = {
  /** Tutorial 3, "Publish/Subscribe": a fanout exchange, every subscriber gets every message. */
  logs: 'logs',
  /** Tutorial 4, "Routing": a direct exchange, routing key = severity. */
  directLogs: 'direct_logs',
  /** Tutorial 5, "Topics": a topic exchange, routing key `<facility>.<severity>`. */
  topicLogs: 'topic_logs',
} as const;
export type ExchangeName = (typeof ExchangeName)[keyof typeof ExchangeName];

const EXCHANGE_NAMES: ReadonlySet<string> = new Set(Object.values(ExchangeName));

/** Whether a publication or subscription name is one of the exchanges (tutorials 3 to 5). */
export function isExchangeName(name: string): name is ExchangeName {
  return EXCHANGE_NAMES.has(name);
}

/** Remote procedures a client may call, by name (tutorial 6): the request queue's name. */
export const RpcName = {
  fibonacci: 'rpc_queue',
} as const;
export type RpcName = (typeof RpcName)[keyof typeof RpcName];
