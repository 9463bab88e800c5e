import type { OpsContext } from './context.js';
import { readDeadLetter } from './dead-letter.js';
import { withDeadLetterQueue } from './dead-letter-queue.js';
import { OpsError } from './errors.js';
import { count, type Output } from './output.js';

export interface DlqListArgs {
  readonly queues: readonly string[];
  /** The queues were named on the command line (a missing one is an error), not defaulted. */
  readonly named: boolean;
  readonly json: boolean;
}

/** Dead letters of one failure reason. */
export interface ReasonGroup {
  readonly reason: string | null;
  count: number;
  /** Earliest and latest dead-lettered-at of the group (ISO 8601), null when none is dated. */
  oldest: string | null;
  newest: string | null;
  /** Messages of the group without a (valid) dead-lettered-at header. */
  undated: number;
  /** The first few messageIds, in queue order. */
  readonly sampleIds: string[];
}

export interface QueueListing {
  readonly queue: string;
  readonly exists: boolean;
  readonly total: number;
  readonly groups: readonly ReasonGroup[];
  readonly interrupted: boolean;
}

const SAMPLE_IDS = 3;
const NO_REASON = '(no reason header)';

/**
 * Counts the dead letters of each queue by failure reason, moving nothing: every message
 * goes back where it was, in order.
 * @returns 0, or 1 when interrupted before the end.
 */
export async function listDeadLetters(context: OpsContext, args: DlqListArgs): Promise<number> {
  const listings: QueueListing[] = [];
  for (const queue of args.queues) {
    if (context.signal.aborted) break;
    try {
      listings.push(await listQueue(context, queue));
    } catch (err) {
      if (args.named || !(err instanceof OpsError) || err.code !== 'NOT_FOUND') throw err;
      listings.push({ queue, exists: false, total: 0, groups: [], interrupted: false });
    }
  }
  if (args.json) context.output.line(JSON.stringify({ queues: listings }, null, 2));
  else describeListings(listings, context.output);
  return listings.some((l) => l.interrupted) || context.signal.aborted ? 1 : 0;
}

async function listQueue(context: OpsContext, queue: string): Promise<QueueListing> {
  const groups = new Map<string | null, ReasonGroup>();
  const scan = await withDeadLetterQueue(context, queue, (open) =>
    open.scan((message) => {
      const letter = readDeadLetter(message.properties);
      const reason = letter.reason ?? null;
      let group = groups.get(reason);
      if (group === undefined) {
        group = { reason, count: 0, oldest: null, newest: null, undated: 0, sampleIds: [] };
        groups.set(reason, group);
      }
      group.count++;
      if (letter.deadLetteredAt === undefined) group.undated++;
      else {
        const at = letter.deadLetteredAt.toISOString();
        if (group.oldest === null || at < group.oldest) group.oldest = at;
        if (group.newest === null || at > group.newest) group.newest = at;
      }
      if (letter.messageId !== undefined && group.sampleIds.length < SAMPLE_IDS) group.sampleIds.push(letter.messageId);
      return 'keep';
    }),
  );
  const sorted = [...groups.values()].sort(
    (a, b) => b.count - a.count || (a.reason ?? '').localeCompare(b.reason ?? ''),
  );
  return { queue, exists: true, total: scan.seen, groups: sorted, interrupted: scan.stopped };
}

function describeListings(listings: readonly QueueListing[], output: Output): void {
  for (const listing of listings) {
    if (!listing.exists) {
      output.line(`${listing.queue}: does not exist`);
      continue;
    }
    const interrupted = listing.interrupted ? ' (interrupted: only those looked at so far)' : '';
    if (listing.total === 0) {
      output.line(`${listing.queue}: empty${interrupted}`);
      continue;
    }
    output.line(
      `${listing.queue}: ${count(listing.total, 'dead letter')}, ` +
        `${count(listing.groups.length, 'reason')}${interrupted}`,
    );
    const width = String(Math.max(...listing.groups.map((g) => g.count))).length;
    const indent = ' '.repeat(width + 4);
    for (const group of listing.groups) {
      output.line(`  ${String(group.count).padStart(width)}  ${group.reason ?? NO_REASON}`);
      const dated =
        group.oldest === null
          ? 'dead-lettered at: unknown (no x-dead-lettered-at header)'
          : `oldest ${group.oldest}, ` +
            `newest ${group.newest ?? group.oldest}${group.undated > 0 ? `, ${group.undated} undated` : ''}`;
      output.line(`${indent}${dated}`);
      if (group.sampleIds.length > 0) {
        const more = group.count > group.sampleIds.length ? ', ...' : '';
        output.line(`${indent}ids: ${group.sampleIds.join(', ')}${more}`);
      }
    }
  }
}
