import { describe, expect, it } from 'vitest';
import { deliveryLimitOf, needsPolicies } from './delivery-limit.js';
import type { ApiPolicy, ApiQueue } from './management-api.js';

const quorum = (extra: Partial<ApiQueue> = {}): ApiQueue => ({
  name: 'task_queue.dlq',
  durable: true,
  auto_delete: false,
  exclusive: false,
  arguments: { 'x-queue-type': 'quorum' },
  type: 'quorum',
  ...extra,
});

const policy = (name: string, pattern: string, definition: Record<string, unknown>, applyTo = 'queues'): ApiPolicy => ({
  name,
  pattern,
  'apply-to': applyTo,
  definition,
  priority: 0,
});

describe('deliveryLimitOf', () => {
  it('finds none on a plain quorum queue of RabbitMQ 3', () => {
    expect(deliveryLimitOf(quorum({ effective_policy_definition: {} }), { version: '3.10.8' })).toBeUndefined();
  });

  it('finds the x-delivery-limit argument', () => {
    const queue = quorum({ arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 } });
    expect(deliveryLimitOf(queue, { version: '3.10.8', policies: [] })).toEqual({
      limit: 5,
      source: 'its x-delivery-limit argument',
    });
  });

  it("finds the effective policy's limit once the queue's statistics are in", () => {
    const queue = quorum({ effective_policy_definition: { 'delivery-limit': 3 }, policy: 'dlq-limit' });
    expect(needsPolicies(queue)).toBe(false);
    expect(deliveryLimitOf(queue, { version: '3.10.8' })).toEqual({ limit: 3, source: "policy 'dlq-limit'" });
  });

  it('reads the policies while the statistics are not in, counting every matching one', () => {
    const queue = quorum();
    expect(needsPolicies(queue)).toBe(true);
    const policies = [
      policy('other', '^hello$', { 'delivery-limit': 1 }),
      policy('exchanges-only', '.*', { 'delivery-limit': 2 }, 'exchanges'),
      policy('dlqs', '\\.dlq$', { 'delivery-limit': 7 }),
    ];
    expect(
      deliveryLimitOf(queue, {
        version: '3.10.8',
        policies,
        operatorPolicies: [policy('ops', '.*', { 'delivery-limit': 9 })],
      }),
    ).toEqual({
      limit: 7,
      source: "policy 'dlqs'",
    });
  });

  it('assumes a pattern JavaScript cannot read matches', () => {
    expect(
      deliveryLimitOf(quorum(), {
        version: '3.10.8',
        policies: [policy('pcre', '(?<!x)dlq(', { 'delivery-limit': 4 })],
      })?.limit,
    ).toBe(4);
  });

  it("applies RabbitMQ 4's default of 20 unless a negative limit turns it off", () => {
    expect(deliveryLimitOf(quorum({ effective_policy_definition: {} }), { version: '4.0.5' })).toEqual({
      limit: 20,
      source: "RabbitMQ 4.0.5's default for quorum queues",
    });
    const unlimited = quorum({
      arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': -1 },
      effective_policy_definition: {},
    });
    expect(deliveryLimitOf(unlimited, { version: '4.0.5' })).toBeUndefined();
  });

  it('never applies to a classic queue', () => {
    const classic = quorum({ type: 'classic', arguments: { 'x-delivery-limit': 1 } });
    expect(needsPolicies(classic)).toBe(false);
    expect(deliveryLimitOf(classic, { version: '4.0.5' })).toBeUndefined();
  });
});
