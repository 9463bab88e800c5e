/**
 * What the orchestrator asks a runner process to do, and what the runner answers. Every
 * measurement runs in a process of its own, so that its CPU time and peak RSS are the
 * client's and nothing else's.
 */

/**
 * The clients compared. `amqplib` is the baseline every ratio is taken against;
 * `amqplib-mandatory` is raw amqplib asking for returns as the project's path does (the
 * `mandatory` flag): a reference for what that guarantee costs the broker, not a peer;
 * `project-redis` is the project's path with its dedup store on Redis (see SHARED_STORE).
 */
export const CLIENTS = [
  'project',
  'project-redis',
  'amqplib',
  'amqplib-mandatory',
  'rabbitmq-client',
  'amqp-connection-manager',
] as const;
export type ClientName = (typeof CLIENTS)[number];

export const BASELINE: ClientName = 'amqplib';

/** Run beside the others to explain a figure, never counted as a peer. */
export const REFERENCE: ClientName = 'amqplib-mandatory';

/**
 * The project's path with the dedup store shared on Redis (DEDUP_REDIS_URL) instead of in
 * memory: beside `project` in consume and end to end, to state what the shared store
 * costs; never a peer.
 */
export const SHARED_STORE: ClientName = 'project-redis';

interface JobBase {
  readonly client: ClientName;
  /** AMQP URL of the scenario's vhost. */
  readonly url: string;
  readonly queue: string;
}

/** Publishes `count` persistent messages with confirms, at most `window` unconfirmed. */
export interface PublishJob extends JobBase {
  readonly role: 'publish';
  readonly count: number;
  readonly bodySize: number;
  readonly window: number;
  /** Messages per second; as fast as confirms allow when absent. */
  readonly rate?: number | undefined;
  /** Write the (scheduled) send time into each body, for end-to-end latency. */
  readonly stamp: boolean;
}

/** Consumes `count` messages with manual acks. */
export interface ConsumeJob extends JobBase {
  readonly role: 'consume';
  readonly count: number;
  readonly prefetch: number;
  /** Record the latency from the send time stamped in each body. */
  readonly stamped: boolean;
}

/** Offers `offeredRate` messages/s for `seconds` through `concurrency` concurrent publishes; samples RSS. */
export interface OverloadJob extends JobBase {
  readonly role: 'overload';
  readonly seconds: number;
  readonly offeredRate: number;
  readonly bodySize: number;
  readonly window: number;
  /** Publishes started at once; the client's own back-pressure, if any, holds those over its window. */
  readonly concurrency: number;
}

export type Job = PublishJob | ConsumeJob | OverloadJob;

/** CPU and memory of the runner process over its measurement. */
export interface Usage {
  /** User + system CPU over the measured span, in microseconds. */
  readonly cpuMicros: number;
  /** Peak resident set size of the process, in bytes (process.resourceUsage().maxRSS). */
  readonly maxRssBytes: number;
  /** RSS once connected, before the measurement, in bytes. */
  readonly readyRssBytes: number;
}

export interface PublishResult extends Usage {
  readonly role: 'publish';
  readonly confirmed: number;
  readonly failed: number;
  /** Epoch ms (fractional) of the first publish and of the last confirm. */
  readonly firstSendAt: number;
  readonly lastConfirmAt: number;
  /** Confirm latency in µs (from the scheduled send time when rate-limited): HDR, compressed base64. */
  readonly latency: string;
}

export interface ConsumeResult extends Usage {
  readonly role: 'consume';
  readonly received: number;
  readonly firstDeliveryAt: number;
  readonly lastDeliveryAt: number;
  /** End-to-end latency in µs when the bodies were stamped: HDR, compressed base64. */
  readonly latency: string;
}

export interface OverloadResult extends Usage {
  readonly role: 'overload';
  readonly offered: number;
  readonly confirmed: number;
  readonly failed: number;
  /** RSS samples (bytes), one every 100 ms. */
  readonly rssSamples: readonly number[];
  /** Publishes started but not yet settled, at most, seen from outside the client. */
  readonly maxPending: number;
}

export type JobResult = PublishResult | ConsumeResult | OverloadResult;

/** Messages from a runner to the orchestrator (over the fork IPC channel). */
export type RunnerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: JobResult }
  | { readonly type: 'error'; readonly message: string };
