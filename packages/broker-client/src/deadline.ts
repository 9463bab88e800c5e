/**
 * Settles with the promise, or rejects with `onTimeout()` after `ms`. The timer does not
 * hold the process open.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(onTimeout());
    }, ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => {
    clearTimeout(timer);
  });
}
