import { setTimeout as sleep } from 'node:timers/promises';

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
