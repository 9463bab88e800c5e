import type { OpsContext } from './context.js';
import { readDeadLetter, type DeadLetter } from './dead-letter.js';
import { withDeadLetterQueue } from './dead-letter-queue.js';
import { count } from './output.js';

export interface DlqPurgeArgs {
  readonly queue: string;
  /** Remove those dead-lettered more than this long ago. */
  readonly olderThanMs: number;
  /** As typed, for the report (e.g. `7d`). */
  readonly olderThan: string;
  /** Only those whose reason contains this text (case-insensitive). */
  readonly reason: string | undefined;
  readonly dryRun: boolean;
  readonly json: boolean;
}

export interface PurgedMessage {
  readonly messageId: string | null;
  readonly deadLetteredAt: string;
  readonly reason: string | null;
}

/**
 * Deletes the dead letters dead-lettered before `now - olderThan` (by their
 * dead-lettered-at header), optionally only those of one reason; every other message stays
 * where it was, in order. A message without a readable date is never deleted.
 * @returns 0, or 1 when interrupted before the end.
 */
export async function purgeDeadLetters(context: OpsContext, args: DlqPurgeArgs): Promise<number> {
  const { output } = context;
  const cutoff = new Date(context.now().getTime() - args.olderThanMs);
  const purged: PurgedMessage[] = [];
  let newer = 0;
  let undated = 0;
  let otherReason = 0;

  const scan = await withDeadLetterQueue(context, args.queue, (open) =>
    open.scan((message) => {
      const letter = readDeadLetter(message.properties);
      if (letter.deadLetteredAt === undefined) {
        undated++;
        return 'keep';
      }
      if (letter.deadLetteredAt >= cutoff) {
        newer++;
        return 'keep';
      }
      if (args.reason !== undefined && !(letter.reason ?? '').toLowerCase().includes(args.reason.toLowerCase())) {
        otherReason++;
        return 'keep';
      }
      purged.push({
        messageId: letter.messageId ?? null,
        deadLetteredAt: letter.deadLetteredAt.toISOString(),
        reason: letter.reason ?? null,
      });
      if (!args.json)
        output.line(` [${args.dryRun ? ' ' : 'x'}] ${args.dryRun ? 'would delete' : 'deleted'} ${describe(letter)}`);
      return args.dryRun ? 'keep' : 'remove';
    }),
  );

  const interrupted = scan.stopped;
  if (args.json) {
    output.line(
      JSON.stringify(
        {
          queue: args.queue,
          dryRun: args.dryRun,
          olderThan: args.olderThan,
          cutoff: cutoff.toISOString(),
          reason: args.reason ?? null,
          total: scan.total,
          seen: scan.seen,
          deleted: args.dryRun ? 0 : purged.length,
          wouldDelete: args.dryRun ? purged.length : 0,
          keptNewer: newer,
          keptUndated: undated,
          keptOtherReason: otherReason,
          interrupted,
          messages: purged,
        },
        null,
        2,
      ),
    );
  } else {
    const what =
      `${count(purged.length, 'dead letter')} of '${args.queue}' ` +
      `dead-lettered before ${cutoff.toISOString()} (older than ${args.olderThan})`;
    output.line(args.dryRun ? `dry run: ${what} would be deleted; nothing was deleted` : `deleted ${what}`);
    const kept = [
      `${newer} newer`,
      `${undated} undated (no x-dead-lettered-at header)`,
      ...(args.reason === undefined ? [] : [`${otherReason} of other reasons`]),
    ];
    output.line(`left in place: ${kept.join(', ')}`);
    if (interrupted) output.line(`interrupted after ${scan.seen} of ${scan.total} messages; the rest stays`);
  }
  return interrupted ? 1 : 0;
}

function describe(letter: DeadLetter): string {
  const id = letter.messageId === undefined ? 'a message without id' : `'${letter.messageId}'`;
  const when = letter.deadLetteredAt?.toISOString() ?? '(undated)';
  return `${id}, dead-lettered ${when}${letter.reason === undefined ? '' : ` for: ${letter.reason}`}`;
}
