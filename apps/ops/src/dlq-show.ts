import type { OpsContext } from './context.js';
import { readDeadLetter } from './dead-letter.js';
import { withDeadLetterQueue } from './dead-letter-queue.js';
import { OpsError } from './errors.js';
import { viewMessage, type MessageView } from './message-view.js';

export interface DlqShowArgs {
  readonly queue: string;
  readonly messageId: string;
  readonly maxBytes: number;
  readonly json: boolean;
}

/**
 * Shows every message of the queue with this messageId (usually one; a message replayed and
 * dead-lettered again, or published twice, may be there more than once), moving nothing.
 * @throws OpsError NOT_FOUND when none has it.
 */
export async function showDeadLetter(context: OpsContext, args: DlqShowArgs): Promise<number> {
  const matches: MessageView[] = [];
  const scan = await withDeadLetterQueue(context, args.queue, (open) =>
    open.scan((message, position) => {
      if (readDeadLetter(message.properties).messageId === args.messageId)
        matches.push(viewMessage(message, position, args.maxBytes));
      return 'keep';
    }),
  );
  if (matches.length === 0) {
    const where = scan.stopped ? `the first ${scan.seen} messages (interrupted)` : `the ${scan.seen} messages`;
    throw new OpsError('NOT_FOUND', `no message with id '${args.messageId}' among ${where} of '${args.queue}'`);
  }
  const { output } = context;
  if (args.json) {
    output.line(JSON.stringify({ queue: args.queue, messageId: args.messageId, total: scan.seen, matches }, null, 2));
    return 0;
  }
  matches.forEach((match, index) => {
    if (index > 0) output.line('');
    const which = matches.length > 1 ? ` (${index + 1} of ${matches.length} with this id)` : '';
    output.line(`message '${args.messageId}' in '${args.queue}', position ${match.position} of ${scan.seen}${which}`);
    output.line('properties:');
    for (const [name, value] of Object.entries(match.properties))
      output.line(`  ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
    output.line(`  redelivered: ${String(match.redelivered)}`);
    output.line('headers:');
    const headers = Object.entries(match.headers);
    if (headers.length === 0) output.line('  (none)');
    for (const [name, value] of headers)
      output.line(`  ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
    const { body } = match;
    const kind = body.encoding === 'utf8' ? 'text' : 'binary, shown as base64';
    const cut = body.truncated ? `, first ${args.maxBytes} shown (--max-bytes for more)` : '';
    output.line(`body (${body.bytes} bytes, ${kind}${cut}):`);
    for (const line of body.text.split('\n')) output.line(`  ${line}`);
    if (body.truncated) output.line('  ...');
  });
  return 0;
}
