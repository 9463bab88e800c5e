import { brokerEnvShape, intSetting, parseEnv } from '@hello-rabbit/broker-client';
import { z } from 'zod';

const schema = z.object({
  ...brokerEnvShape,
  /** Deliveries held unacknowledged at once. @default 10 */
  CONSUMER_PREFETCH: intSetting(1, 65_535, 'messages').transform((v) => v ?? 10),
  /**
   * On SIGTERM, time allowed for the deliveries in hand to finish before the connection
   * closes anyway (unacked deliveries then go back to the queue). @default 10000
   */
  SHUTDOWN_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds').transform((v) => v ?? 10_000),
  /** Time the broker has to confirm a dead letter, in ms. @default 10000 */
  PUBLISH_CONFIRM_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds').transform((v) => v ?? 10_000),
});

export type ConsumerEnv = z.output<typeof schema>;

/**
 * Reads the consumer's settings once, at start.
 * @throws ConfigError naming every bad variable.
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Readonly<ConsumerEnv> {
  return parseEnv(schema, source);
}
