import { describe, expect, it } from 'vitest';
import { answerFibonacci, fibonacci, printLog, printRoutedLog } from './handlers.js';

const context = { queue: 'rpc_queue', messageId: undefined, attempt: 1 };

describe('the tutorial handlers', () => {
  it("print the log lines as receive_logs*.py do", () => {
    const lines: string[] = [];
    printLog((line) => lines.push(line))('info: Hello World!');
    printRoutedLog((line) => lines.push(line))('Run.', { exchange: 'direct_logs', routingKey: 'error', messageId: undefined });
    expect(lines).toEqual([" [x] 'info: Hello World!'", " [x] 'error':'Run.'"]);
  });

  it('compute fib(n) as the tutorial does, exactly, up to n = 1000', () => {
    expect([0, 1, 2, 3, 10, 30].map(fibonacci)).toEqual([0n, 1n, 1n, 2n, 55n, 832040n]);
    expect(fibonacci(1000).toString()).toHaveLength(209);
  });

  it('answer a request to its reply_to with its correlation_id, after printing it', async () => {
    const lines: string[] = [];
    const replies: unknown[] = [];
    await answerFibonacci(
      (line) => lines.push(line),
      (replyTo, correlationId, value) => {
        replies.push([replyTo, correlationId, value]);
        return Promise.resolve();
      },
    )(30, { ...context, replyTo: 'amq.gen-1', correlationId: 'c-1' });
    expect(lines).toEqual([' [.] fib(30)']);
    expect(replies).toEqual([['amq.gen-1', 'c-1', 832040n]]);
  });

  it('fail a request without reply_to: there is nowhere to answer (it is then dead-lettered)', async () => {
    const answer = answerFibonacci(
      () => undefined,
      () => Promise.resolve(),
    );
    await expect(answer(5, { ...context, replyTo: undefined, correlationId: 'c' })).rejects.toThrow(/no reply_to/);
  });
});
