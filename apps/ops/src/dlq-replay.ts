import type { CopyProperties, QueueMessage, Verdict } from '@hello-rabbit/transport/operations';
import type { OpsContext } from './context.js';
import { readDeadLetter, replayHeaders, replayTarget, type DeadLetter } from './dead-letter.js';
import { withDeadLetterQueue } from './dead-letter-queue.js';
import { ExitCode } from '@hello-rabbit/runtime';
import { count } from './output.js';
import { createPacer } from './pacer.js';

export interface ReplaySelection {
  /** Every dead letter (the other filters are then not given). */
  readonly all: boolean;
  /** Only these messageIds. */
  readonly ids: readonly string[];
  /** Only those whose reason contains this text (case-insensitive). */
  readonly reason: string | undefined;
}

export interface DlqReplayArgs {
  readonly queue: string;
  readonly select: ReplaySelection;
  /** At most this many. */
  readonly limit: number | undefined;
  /** Messages per second, at most. */
  readonly rate: number;
  readonly dryRun: boolean;
  readonly json: boolean;
}

export type ReplayStatus = 'replayed' | 'would-replay' | 'failed' | 'skipped';

export interface ReplayedMessage {
  readonly messageId: string | null;
  readonly target: string | null;
  readonly status: ReplayStatus;
  /** Why it was dead-lettered. */
  readonly reason: string | null;
  /** Why it was not replayed (failed, skipped). */
  readonly error?: string;
  /** When it was published (ms since the epoch), for replayed messages. */
  readonly publishedAt?: number;
}

/** Whether the dead letter is one of those asked for. Given filters must all match. */
export function isSelected(selection: ReplaySelection, letter: DeadLetter): boolean {
  if (selection.all) return true;
  if (selection.ids.length > 0 && (letter.messageId === undefined || !selection.ids.includes(letter.messageId)))
    return false;
  if (selection.reason !== undefined && !(letter.reason ?? '').toLowerCase().includes(selection.reason.toLowerCase()))
    return false;
  return selection.ids.length > 0 || selection.reason !== undefined;
}

/**
 * Moves dead letters back to their original queue, oldest first, at most `rate` a second.
 * Each copy keeps the body, messageId, content type and application headers, loses the
 * dead-letter headers, records the replay, and is published persistent and mandatory with
 * a publisher confirm; only once the broker confirmed it is the dead letter acked. A copy
 * that is not confirmed (returned, nacked, no confirm in time, channel lost) leaves its dead
 * letter in place and ends the run: nothing is lost, and a message is at worst in both
 * queues (at-least-once; the consumer suppresses the duplicate by its messageId).
 * @returns 0 when every selected dead letter moved (or would), 1 when some did not, 66
 * when an --id was not found.
 */
export async function replayDeadLetters(context: OpsContext, args: DlqReplayArgs): Promise<number> {
  const { output, settings, signal } = context;
  const messages: ReplayedMessage[] = [];
  const started = Date.now();
  const pacer = createPacer(args.rate);
  let replayed = 0;
  let halted: string | undefined;

  const scan = await withDeadLetterQueue(context, args.queue, async (open) => {
    const replayOne = async (message: QueueMessage, letter: DeadLetter): Promise<Verdict> => {
      const base = { messageId: letter.messageId ?? null, reason: letter.reason ?? null };
      const target = replayTarget(args.queue, letter);
      if (!target.ok) {
        messages.push({ ...base, target: null, status: 'skipped', error: target.reason });
        report(`skipped ${describe(letter)}: ${target.reason}; it stays in '${args.queue}'`);
        return 'keep';
      }
      if (args.dryRun) {
        messages.push({ ...base, target: target.queue, status: 'would-replay' });
        replayed++;
        report(`would replay ${describe(letter)} to '${target.queue}'${was(letter)}`);
        return 'keep';
      }
      const publishedAt = await pacer.next(signal);
      if (signal.aborted) {
        halted = 'interrupted';
        return 'stop';
      }
      // One copy in flight at a time: the dead letter is acked (`remove`) only once its copy is confirmed.
      const outcome = await open.publishCopy(
        target.queue,
        message.content,
        copyProperties(message, letter, args.queue, context.now()),
        settings.confirmTimeoutMs,
      );
      if (outcome.status !== 'confirmed') {
        // Through the default exchange, a copy comes back only when there is no such queue.
        const reason =
          outcome.status === 'returned'
            ? `returned by the broker: no queue '${target.queue}' (mandatory)`
            : outcome.reason;
        messages.push({ ...base, target: target.queue, status: 'failed', error: reason });
        report(`could not replay ${describe(letter)} to '${target.queue}': ${reason}; it stays in '${args.queue}'`);
        halted = `a copy was not confirmed (${reason})`;
        return 'stop';
      }
      messages.push({ ...base, target: target.queue, status: 'replayed', publishedAt });
      replayed++;
      report(`replayed ${describe(letter)} to '${target.queue}'${was(letter)}`);
      return 'remove';
    };

    return open.scan(async (message) => {
      const letter = readDeadLetter(message.properties);
      if (!isSelected(args.select, letter)) return 'keep';
      if (args.limit !== undefined && replayed >= args.limit) return 'stop';
      return replayOne(message, letter);
    });
  });

  // An id is not found only if the whole queue was looked at (not after --limit, a failure, CTRL+C).
  const notFound = scan.stopped ? [] : args.select.ids.filter((id) => !messages.some((m) => m.messageId === id));
  const failed = messages.filter((m) => m.status === 'failed').length;
  const skipped = messages.filter((m) => m.status === 'skipped').length;
  const interrupted = halted === 'interrupted' || (scan.stopped && signal.aborted);
  const summary = {
    queue: args.queue,
    dryRun: args.dryRun,
    rate: args.rate,
    limit: args.limit ?? null,
    total: scan.total,
    seen: scan.seen,
    replayed: args.dryRun ? 0 : replayed,
    wouldReplay: args.dryRun ? replayed : 0,
    failed,
    skipped,
    left: scan.total - (args.dryRun ? 0 : replayed),
    notFound,
    interrupted,
    elapsedMs: Date.now() - started,
    messages,
  };

  if (args.json) {
    output.line(JSON.stringify(summary, null, 2));
  } else {
    const seconds = (summary.elapsedMs / 1000).toFixed(1);
    if (args.dryRun) {
      output.line(`dry run: ${count(replayed, 'dead letter')} of '${args.queue}' would be replayed; nothing was moved`);
    } else {
      output.line(
        `replayed ${count(replayed, 'dead letter')} from '${args.queue}' in ${seconds} s (at most ${args.rate}/s); ` +
          `${summary.left} left in '${args.queue}'`,
      );
    }
    if (halted !== undefined) output.line(`stopped early: ${halted}; the rest stays in '${args.queue}'`);
    if (skipped > 0) output.line(`${count(skipped, 'dead letter')} skipped (no queue to go back to)`);
    if (notFound.length > 0) output.line(`not found in '${args.queue}': ${notFound.join(', ')}`);
    if (replayed === 0 && halted === undefined && skipped === 0 && notFound.length === 0)
      output.line('no dead letter matched');
  }
  if (failed > 0 || skipped > 0 || interrupted) return 1;
  return notFound.length > 0 ? ExitCode.noInput : ExitCode.ok;

  function report(line: string) {
    if (!args.json)
      output.line(` [${line.startsWith('replayed') ? 'x' : line.startsWith('would') ? ' ' : '!'}] ${line}`);
  }
}

function describe(letter: DeadLetter): string {
  return letter.messageId === undefined ? 'a message without id' : `'${letter.messageId}'`;
}

function was(letter: DeadLetter): string {
  return letter.reason === undefined ? '' : ` (dead-lettered for: ${letter.reason})`;
}

/** The copy's properties: the dead letter's, minus what must not travel (see below). */
function copyProperties(message: QueueMessage, letter: DeadLetter, from: string, now: Date): CopyProperties {
  const p = message.properties;
  const defined = <T>(value: T) => (value === undefined || value === null ? undefined : value);
  return {
    messageId: defined(p.messageId),
    contentType: defined(p.contentType),
    contentEncoding: defined(p.contentEncoding),
    correlationId: defined(p.correlationId),
    replyTo: defined(p.replyTo),
    type: defined(p.type),
    appId: defined(p.appId),
    priority: defined(p.priority),
    timestamp: defined(p.timestamp),
    headers: replayHeaders(p.headers, letter, from, now),
    // Not copied: `expiration` (a replayed message must not expire on its way back),
    // `userId` (the broker refuses one that is not the publishing connection's user).
  };
}
