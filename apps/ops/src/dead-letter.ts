import { RecoveryHeader } from '@hello-rabbit/transport';
import { subscriptions } from '@hello-rabbit/broker-config';

/** Headers the tool sets on a replayed message. */
export const ReplayHeader = {
  /** When it was replayed, ISO 8601. */
  at: 'x-replayed-at',
  /** Times it was replayed, this one included. */
  count: 'x-replay-count',
  /** The dead-letter queue it came from. */
  from: 'x-replayed-from',
} as const;

/**
 * Headers a replayed message loses: the consumer's dead-letter record and attempt counters
 * (kept, they would count the old attempts again and send it straight back), the broker's
 * dead-lettering history and delivery count, and Rascal's bookkeeping.
 */
export const DEAD_LETTER_HEADERS: readonly string[] = [
  RecoveryHeader.reason,
  RecoveryHeader.queue,
  RecoveryHeader.at,
  RecoveryHeader.attempts,
  RecoveryHeader.redeliveries,
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
  'x-delivery-count',
  'rascal',
];

/** The dead-letter queues of the contract: where the consumers set messages aside. */
export const DEAD_LETTER_QUEUES: readonly string[] = [
  ...new Set(Object.values(subscriptions).map((s) => s.deadLetterQueue)),
];

/** The queues a replayed message may go back to: those the contract's consumers read. */
const REPLAY_TARGETS: ReadonlySet<string> = new Set(Object.values(subscriptions).map((s) => s.queue));

/** What the tool reads from a message in a dead-letter queue. */
export interface DeadLetter {
  readonly messageId: string | undefined;
  readonly reason: string | undefined;
  readonly originalQueue: string | undefined;
  readonly attempts: number | undefined;
  /** From the dead-lettered-at header; undefined when absent or not a date. */
  readonly deadLetteredAt: Date | undefined;
  readonly replayCount: number;
}

interface Properties {
  readonly messageId?: unknown;
  readonly headers?: Readonly<Record<string, unknown>> | undefined;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : undefined;

const whole = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;

export function readDeadLetter(properties: Properties): DeadLetter {
  const headers = properties.headers ?? {};
  const at = text(headers[RecoveryHeader.at]);
  const time = at === undefined ? Number.NaN : Date.parse(at);
  return {
    messageId: text(properties.messageId),
    reason: text(headers[RecoveryHeader.reason]),
    originalQueue: text(headers[RecoveryHeader.queue]),
    attempts: whole(headers[RecoveryHeader.attempts]),
    deadLetteredAt: Number.isNaN(time) ? undefined : new Date(time),
    replayCount: whole(headers[ReplayHeader.count]) ?? 0,
  };
}

/**
 * Where a dead letter goes back to: the queue named by its original-queue header, else
 * the dead-letter queue's name without `.dlq`.
 * @returns the queue, or why it cannot be replayed (a queue no consumer of the contract reads).
 */
export function replayTarget(
  deadLetterQueue: string,
  letter: DeadLetter,
): { ok: true; queue: string } | { ok: false; reason: string } {
  const queue = letter.originalQueue ?? deadLetterQueue.replace(/\.dlq$/, '');
  if (!REPLAY_TARGETS.has(queue)) {
    return { ok: false, reason: `its original queue '${queue}' is not a queue the contract's consumers read` };
  }
  return { ok: true, queue };
}

/** The headers of the replayed copy: the dead-letter ones removed, the replay recorded. */
export function replayHeaders(
  headers: Readonly<Record<string, unknown>> | undefined,
  letter: DeadLetter,
  from: string,
  now: Date,
): Record<string, unknown> {
  const kept = Object.fromEntries(
    Object.entries(headers ?? {}).filter(([name]) => !DEAD_LETTER_HEADERS.includes(name)),
  );
  return {
    ...kept,
    [ReplayHeader.at]: now.toISOString(),
    [ReplayHeader.count]: letter.replayCount + 1,
    [ReplayHeader.from]: from,
  };
}
