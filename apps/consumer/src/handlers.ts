import { setTimeout as sleep } from 'node:timers/promises';
import type { ExchangeDeliveryContext } from '@hello-rabbit/transport';

/** Writes one line of the tutorial's output. */
export type Print = (line: string) => void;

/** Tutorial 1's receiver: print the message. */
export function printMessage(print: Print) {
  return (body: string): void => {
    print(` [x] Received '${body}'`);
  };
}

/**
 * Tutorial 2's worker: print the task, work one unit per '.', print ' [x] Done'. A task
 * matching `failTasks` fails after it is received (a drill: see FAIL_TASKS_MATCHING).
 */
export function doTask(print: Print, unitMs: number, failTasks?: RegExp) {
  return async (body: string): Promise<void> => {
    print(` [x] Received '${body}'`);
    if (failTasks?.test(body) === true) throw new Error(`the task matches FAIL_TASKS_MATCHING (${failTasks.source})`);
    const units = body.split('.').length - 1;
    if (units > 0 && unitMs > 0) await sleep(units * unitMs);
    print(' [x] Done');
  };
}

/** Tutorial 3's receive_logs: print the line. */
export function printLog(print: Print) {
  return (line: string): void => {
    print(` [x] '${line}'`);
  };
}

/** Tutorials 4 and 5's receive_logs_direct and receive_logs_topic: print the key and the line. */
export function printRoutedLog(print: Print) {
  return (line: string, context: ExchangeDeliveryContext): void => {
    print(` [x] '${context.routingKey}':'${line}'`);
  };
}

/**
 * fib(n), as tutorial 6's server computes it (fib(0) = 0, fib(1) = 1), but iteratively and
 * in bigint: n is at most FIBONACCI_MAX_N (the contract), so an answer takes microseconds
 * and is exact however large.
 */
export function fibonacci(n: number): bigint {
  let [a, b] = [0n, 1n];
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

/**
 * Tutorial 6's server: print ` [.] fib(n)` and compute it. The transport's RPC server
 * replies, and acks the request once the reply is confirmed; a request without `reply_to`
 * never gets here (it is dead-lettered with the reason, as is one whose `n` breaks the
 * contract).
 */
export function answerFibonacci(print: Print) {
  return (n: number): bigint => {
    print(` [.] fib(${n})`);
    return fibonacci(n);
  };
}
