import { brokerEnvShape, intSetting, parseEnv } from '@hello-rabbit/runtime';
import * as z from 'zod';

/**
 * The settings of the producer, as a command and as a service, with their defaults and, on
 * each, its `.meta()`: what `producer --help` and docs/settings.md say (`pnpm
 * settings:generate`; see `brokerEnvShape`).
 */
export const producerEnvShape = {
  ...brokerEnvShape,
  PUBLISH_CONFIRM_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds')
    .transform((v) => v ?? 10_000)
    .meta({
      description: 'time the broker has to confirm one publish, in ms',
      details: 'past it, the message is published again, within `PUBLISH_DEADLINE_MS`',
    }),
  PUBLISH_DEADLINE_MS: intSetting(0, 86_400_000, 'milliseconds')
    .transform((v) => v ?? 60_000)
    .meta({
      description: 'how long an unconfirmed or refused message is published again before it counts as failed, in ms',
      details: 'connection lost, broker restarting, a nack (no queue leader for now, a full queue): for the whole run',
    }),
  PUBLISH_WINDOW: intSetting(1, 100_000, 'messages')
    .transform((v) => v ?? 1000)
    .meta({ description: 'messages awaiting their confirm at once', details: 'the memory cap, and the back-pressure' }),
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
