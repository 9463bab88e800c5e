import { describe, expect, it } from 'vitest';
import { answerFibonacci, fibonacci, printLog, printRoutedLog } from './handlers.js';

describe('the tutorial handlers', () => {
  it('print the log lines as receive_logs*.py do', () => {
    const lines: string[] = [];
    printLog((line) => lines.push(line))('info: Hello World!');
    printRoutedLog((line) => lines.push(line))('Run.', {
      exchange: 'direct_logs',
      routingKey: 'error',
      messageId: undefined,
    });
    expect(lines).toEqual([" [x] 'info: Hello World!'", " [x] 'error':'Run.'"]);
  });

  it('compute fib(n) as the tutorial does, exactly, up to n = 1000', () => {
    expect([0, 1, 2, 3, 10, 30].map(fibonacci)).toEqual([0n, 1n, 1n, 2n, 55n, 832040n]);
    expect(fibonacci(1000).toString()).toHaveLength(209);
  });

  it("print the request as rpc_server.py does, then answer fib(n) (the transport's RPC server replies)", () => {
    const lines: string[] = [];
    expect(answerFibonacci((line) => lines.push(line))(30)).toBe(832040n);
    expect(lines).toEqual([' [.] fib(30)']);
  });
});
