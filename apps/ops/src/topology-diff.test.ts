import { describe, expect, it } from 'vitest';
import type { ExpectedQueue, ExpectedTopology } from './contract-topology.js';
import type { ApiBinding, ApiExchange, ApiQueue } from './management-api.js';
import { describeReport } from './topology-check.js';
import { diffTopology, type LiveTopology } from './topology-diff.js';

const quorumQueue = (name: string, adoptExisting = false, args: Record<string, unknown> = {}): ExpectedQueue => ({
  name,
  type: 'quorum',
  durable: true,
  exclusive: false,
  autoDelete: false,
  arguments: args,
  adoptExisting,
});

const live = (name: string, extra: Partial<ApiQueue> = {}): ApiQueue => ({
  name,
  durable: true,
  auto_delete: false,
  exclusive: false,
  arguments: { 'x-queue-type': 'quorum' },
  type: 'quorum',
  ...extra,
});

const exchange = (name: string, extra: Partial<ApiExchange> = {}): ApiExchange => ({
  name,
  type: 'topic',
  durable: true,
  auto_delete: false,
  internal: false,
  arguments: {},
  ...extra,
});

const binding = (
  source: string,
  destination: string,
  routingKey: string,
  extra: Partial<ApiBinding> = {},
): ApiBinding => ({
  source,
  destination,
  destination_type: 'queue',
  routing_key: routingKey,
  arguments: {},
  ...extra,
});

const expected: ExpectedTopology = {
  queues: [quorumQueue('work'), quorumQueue('retry', false, { 'x-message-ttl': 1000 }), quorumQueue('shared', true)],
  exchanges: [{ name: 'events', type: 'topic', durable: true, autoDelete: false, internal: false, arguments: {} }],
  bindings: [{ source: 'events', destination: 'work', destinationType: 'queue', routingKey: 'order.#', arguments: {} }],
};

const inSync: LiveTopology = {
  queues: [
    live('work'),
    live('retry', { arguments: { 'x-queue-type': 'quorum', 'x-message-ttl': 1000 } }),
    live('shared'),
  ],
  exchanges: [exchange(''), exchange('amq.topic'), exchange('events')],
  bindings: [binding('', 'work', 'work'), binding('events', 'work', 'order.#')],
};

describe('diffTopology', () => {
  // The default exchange, amq.* and the queues the server named are left aside.
  it('is in sync when the broker has what the contract declares', () => {
    const report = diffTopology(expected, {
      ...inSync,
      queues: [...inSync.queues, live('amq.gen-abc', { exclusive: true })],
    });
    expect(report.inSync).toBe(true);
    expect(report.findings.map((f) => [f.kind, f.name, f.status])).toEqual([
      ['queue', 'work', 'ok'],
      ['queue', 'retry', 'ok'],
      ['queue', 'shared', 'ok'],
      ['exchange', 'events', 'ok'],
      ['binding', 'events -> queue work [order.#]', 'ok'],
    ]);
  });

  it('reports what is missing as drift', () => {
    const report = diffTopology(expected, { queues: [live('work'), live('shared')], exchanges: [], bindings: [] });
    expect(report.inSync).toBe(false);
    expect(report.findings.filter((f) => f.status === 'missing').map((f) => [f.kind, f.name, f.drift])).toEqual([
      ['queue', 'retry', true],
      ['exchange', 'events', true],
      ['binding', 'events -> queue work [order.#]', true],
    ]);
  });

  it('reports every property and argument that would fail a declare with 406, as drift', () => {
    const report = diffTopology(expected, {
      ...inSync,
      queues: [
        live('work', { type: 'classic', arguments: {}, durable: false }),
        live('retry', { arguments: { 'x-queue-type': 'quorum', 'x-message-ttl': 5000, 'x-max-length': 10 } }),
        live('shared'),
      ],
      exchanges: [exchange('events', { type: 'direct', internal: true })],
    });
    expect(report.inSync).toBe(false);
    const differences = Object.fromEntries(
      report.findings.filter((f) => f.status === 'mismatch').map((f) => [`${f.kind} ${f.name}`, f.differences]),
    );
    expect(differences).toEqual({
      'queue work': [
        { property: 'type', contract: 'quorum', broker: 'classic' },
        { property: 'durable', contract: true, broker: false },
      ],
      'queue retry': [
        { property: 'arguments.x-max-length', contract: undefined, broker: 10 },
        { property: 'arguments.x-message-ttl', contract: 1000, broker: 5000 },
      ],
      'exchange events': [
        { property: 'type', contract: 'topic', broker: 'direct' },
        { property: 'internal', contract: false, broker: true },
      ],
    });
  });

  it('reports an adopted queue of another shape, and unknown extras, without failing unless strict', () => {
    const drifting: LiveTopology = {
      queues: [
        ...inSync.queues.filter((q) => q.name !== 'shared'),
        live('shared', { type: 'classic', arguments: {} }),
        live('scratch'),
      ],
      exchanges: [...inSync.exchanges, exchange('legacy')],
      bindings: [...inSync.bindings, binding('legacy', 'scratch', '#')],
    };
    const lenient = diffTopology(expected, drifting);
    expect(lenient.inSync).toBe(true);
    expect(lenient.findings.filter((f) => f.status !== 'ok').map((f) => [f.kind, f.name, f.status, f.drift])).toEqual([
      ['queue', 'shared', 'adopted', false],
      ['queue', 'scratch', 'extra', false],
      ['exchange', 'legacy', 'extra', false],
      ['binding', 'legacy -> queue scratch [#]', 'extra', false],
    ]);
    const strict = diffTopology(expected, drifting, { strict: true });
    expect(strict.inSync).toBe(false);
    expect(strict.findings.filter((f) => f.drift).map((f) => f.name)).toEqual([
      'shared',
      'scratch',
      'legacy',
      'legacy -> queue scratch [#]',
    ]);
  });

  it('never adopts a queue that differs in an argument it requires (a retry queue dead-lettering elsewhere)', () => {
    const retry: ExpectedQueue = {
      ...quorumQueue('work.retry.1', true, { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'work' }),
      requiredArguments: ['x-dead-letter-exchange', 'x-dead-letter-routing-key'],
    };
    const contract: ExpectedTopology = { queues: [retry], exchanges: [], bindings: [] };
    const liveRetry = (args: Record<string, unknown>, type = 'quorum') =>
      diffTopology(contract, {
        queues: [live('work.retry.1', { type, arguments: { 'x-queue-type': type, ...args } })],
        exchanges: [],
        bindings: [],
      });
    // Another type only: adopted, as for any adoptable queue.
    expect(
      liveRetry({ 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'work' }, 'classic').findings[0]?.status,
    ).toBe('adopted');
    // Dead-lettering elsewhere: a mismatch, and drift.
    const elsewhere = liveRetry({ 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'other' });
    expect(elsewhere.findings[0]).toMatchObject({ status: 'mismatch', drift: true });
    expect(elsewhere.inSync).toBe(false);
  });

  it('checks an exchange the apps declare on use only when it exists: as declared, adopted, or of another type', () => {
    const logs = {
      name: 'logs',
      type: 'fanout',
      durable: false,
      autoDelete: false,
      internal: false,
      arguments: {},
      adoptExisting: true,
    };
    const withLogs: ExpectedTopology = { ...expected, onDemandExchanges: [logs] };
    // Not used yet: nothing missing, nothing extra.
    expect(diffTopology(withLogs, inSync).findings.filter((f) => f.name === 'logs')).toEqual([]);
    const as = (extra: Partial<ApiExchange>) =>
      diffTopology(withLogs, {
        ...inSync,
        exchanges: [...inSync.exchanges, exchange('logs', { type: 'fanout', durable: false, ...extra })],
      });
    expect(as({}).findings.find((f) => f.name === 'logs')).toMatchObject({
      kind: 'exchange',
      status: 'ok',
      drift: false,
    });
    expect(as({ durable: true }).findings.find((f) => f.name === 'logs')).toMatchObject({
      status: 'adopted',
      drift: false,
      differences: [{ property: 'durable', contract: false, broker: true }],
    });
    expect(
      diffTopology(
        withLogs,
        { ...inSync, exchanges: [...inSync.exchanges, exchange('logs', { durable: true })] },
        { strict: true },
      ).inSync,
    ).toBe(false);
    const otherType = as({ type: 'direct' });
    expect(otherType.inSync).toBe(false);
    expect(otherType.findings.find((f) => f.name === 'logs')).toMatchObject({ status: 'mismatch', drift: true });
    // Not extra, even with --strict.
    expect(
      diffTopology(
        withLogs,
        { ...inSync, exchanges: [...inSync.exchanges, exchange('logs', { type: 'fanout', durable: false })] },
        { strict: true },
      ).inSync,
    ).toBe(true);
  });

  it('tells a binding with other arguments from the declared one', () => {
    const report = diffTopology(expected, {
      ...inSync,
      bindings: [binding('events', 'work', 'order.#', { arguments: { 'x-match': 'any' } })],
    });
    expect(report.findings.filter((f) => f.kind === 'binding').map((f) => [f.name, f.status])).toEqual([
      ['events -> queue work [order.#]', 'missing'],
      ['events -> queue work [order.#] {"x-match":"any"}', 'extra'],
    ]);
  });
});

describe('describeReport', () => {
  it('prints one line per finding that is not ok, then the verdict', () => {
    const report = diffTopology(expected, {
      queues: [live('work', { durable: false }), live('shared', { type: 'classic', arguments: {} }), live('scratch')],
      exchanges: [exchange('events')],
      bindings: [binding('events', 'work', 'order.#')],
    });
    expect(describeReport('prod', 'http://mq:15672', report)).toEqual([
      "topology of vhost 'prod' (http://mq:15672) against the contract:",
      "  MISMATCH        queue 'work': durable is false on the broker, true in the contract " +
        "(the apps' declare would fail with 406 PRECONDITION_FAILED)",
      "  MISSING         queue 'retry': declared by the contract, not on the broker",
      '  adopted (info)  queue \'shared\': type is "classic" on the broker, "quorum" in the contract ' +
        '(the contract lets the apps adopt it: they use it as it is)',
      "  extra (info)    queue 'scratch': not in the contract",
      'DRIFT: 1 missing, 1 mismatch (1 of 3 queues, 1 of 1 exchange and 1 of 1 binding as declared)',
    ]);
  });

  it('says in sync', () => {
    expect(describeReport('/', 'http://localhost:15672', diffTopology(expected, inSync)).at(-1)).toBe(
      'in sync: 3 of 3 queues, 1 of 1 exchange and 1 of 1 binding as declared',
    );
  });
});
