import { brokerEnvShape, intSetting, parseEnv } from '@hello-rabbit/runtime';
import * as z from 'zod';

/** The settings of the producer, as a command and as a service. */
export const producerEnvShape = {
  ...brokerEnvShape,
  /** Time the broker has to confirm a message before it counts as failed, in ms. @default 10000 */
  PUBLISH_CONFIRM_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds').transform((v) => v ?? 10_000),
  /**
   * How long an unconfirmed message is published again (connection lost, broker
   * restarting) before it counts as failed, in ms. @default 60000
   */
  PUBLISH_DEADLINE_MS: intSetting(0, 86_400_000, 'milliseconds').transform((v) => v ?? 60_000),
  /** Messages awaiting their confirm at once: the memory cap, and the back-pressure. @default 1000 */
  PUBLISH_WINDOW: intSetting(1, 100_000, 'messages').transform((v) => v ?? 1000),
};

const schema = z.object(producerEnvShape);

export type ProducerEnv = z.output<typeof schema>;

/**
 * Reads the producer's settings once, at start.
 * @throws ConfigError naming every bad variable.
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Readonly<ProducerEnv> {
  return parseEnv(schema, source);
}
