/**
 * Wall-clock time in fractional milliseconds, comparable between processes on one machine:
 * the producer stamps it into a body, the consumer subtracts it on delivery.
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
