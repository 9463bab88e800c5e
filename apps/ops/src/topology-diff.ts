import { argumentDifferences, queueDifferences, type QueueDifference } from '@hello-rabbit/transport/operations';
import type { ExpectedBinding, ExpectedExchange, ExpectedTopology } from './contract-topology.js';
import type { ApiBinding, ApiExchange, ApiQueue } from './management-api.js';

/**
 * - `ok`: as the contract declares it.
 * - `missing`: the contract declares it, the broker does not have it. Drift.
 * - `mismatch`: it exists with other properties or arguments than the contract's, so the
 *   apps' declare would fail with `406 PRECONDITION_FAILED`. Drift.
 * - `adopted`: a queue or exchange the contract lets the apps adopt (`adoptExisting`) exists with
 *   another shape; the apps use it as it is. Reported, drift only with `strict`.
 * - `extra`: in the vhost but not in the contract. Reported, drift only with `strict`.
 */
export type FindingStatus = 'ok' | 'missing' | 'mismatch' | 'adopted' | 'extra';

/**
 * A property or argument (`arguments.<name>`) that differs; `undefined` (shown as "none")
 * on the side that does not set it. Queues are compared as the apps' check compares them
 * (the transport's `queueDifferences`).
 */
export type Difference = QueueDifference;

export interface Finding {
  readonly kind: 'queue' | 'exchange' | 'binding';
  readonly name: string;
  readonly status: FindingStatus;
  readonly differences: readonly Difference[];
  /** Whether this finding makes the check fail. */
  readonly drift: boolean;
}

export interface LiveTopology {
  readonly queues: readonly ApiQueue[];
  readonly exchanges: readonly ApiExchange[];
  readonly bindings: readonly ApiBinding[];
}

export interface DriftReport {
  readonly strict: boolean;
  readonly inSync: boolean;
  readonly findings: readonly Finding[];
}

export interface DiffOptions {
  /** Adopted queues of another shape and unknown extras are drift too. @default false */
  readonly strict?: boolean;
}

/** Compares what the contract declares with what the broker has. Pure. */
export function diffTopology(expected: ExpectedTopology, live: LiveTopology, options: DiffOptions = {}): DriftReport {
  const strict = options.strict ?? false;
  const findings: Finding[] = [];
  const finding = (
    kind: Finding['kind'],
    name: string,
    status: FindingStatus,
    differences: readonly Difference[] = [],
  ) => {
    const drift =
      status === 'missing' || status === 'mismatch' || (strict && (status === 'adopted' || status === 'extra'));
    findings.push({ kind, name, status, differences, drift });
  };

  const liveQueues = new Map(live.queues.map((q) => [q.name, q]));
  for (const queue of expected.queues) {
    const found = liveQueues.get(queue.name);
    if (found === undefined) {
      finding('queue', queue.name, 'missing');
      continue;
    }
    const differences = queueDifferences(queue, found);
    // An adopted queue may differ, but not in what it needs to do its job.
    const required = new Set((queue.requiredArguments ?? []).map((name) => `arguments.${name}`));
    const adoptable = queue.adoptExisting && !differences.some((difference) => required.has(difference.property));
    finding('queue', queue.name, differences.length === 0 ? 'ok' : adoptable ? 'adopted' : 'mismatch', differences);
  }
  const declaredQueues = new Set(expected.queues.map((q) => q.name));
  // `amq.`-prefixed queues are named by the server (exclusive reply queues and the like).
  for (const queue of live.queues) {
    if (!declaredQueues.has(queue.name) && !queue.name.startsWith('amq.')) finding('queue', queue.name, 'extra');
  }

  const liveExchanges = new Map(live.exchanges.map((e) => [e.name, e]));
  for (const exchange of expected.exchanges) {
    const found = liveExchanges.get(exchange.name);
    if (found === undefined) finding('exchange', exchange.name, 'missing');
    else {
      const differences = exchangeDifferences(exchange, found);
      finding('exchange', exchange.name, differences.length === 0 ? 'ok' : 'mismatch', differences);
    }
  }
  // An exchange the apps declare on use is checked only when it exists: a vhost where no
  // app has used it yet lacks nothing. Another type is another pattern, never adopted.
  for (const exchange of expected.onDemandExchanges ?? []) {
    const found = liveExchanges.get(exchange.name);
    if (found === undefined) continue;
    const differences = exchangeDifferences(exchange, found);
    const status =
      differences.length === 0 ? 'ok' : exchange.adoptExisting && found.type === exchange.type ? 'adopted' : 'mismatch';
    finding('exchange', exchange.name, status, differences);
  }
  const declaredExchanges = new Set([...expected.exchanges, ...(expected.onDemandExchanges ?? [])].map((e) => e.name));
  for (const exchange of live.exchanges) {
    // The default exchange and amq.* exist in every vhost.
    if (exchange.name !== '' && !exchange.name.startsWith('amq.') && !declaredExchanges.has(exchange.name)) {
      finding('exchange', exchange.name, 'extra');
    }
  }

  // A binding is identified by all of its parts: one with other arguments is another binding.
  const liveBindings = new Map(live.bindings.map((b) => [bindingKey(fromApi(b)), b]));
  const declaredBindings = new Set<string>();
  for (const binding of expected.bindings) {
    const key = bindingKey(binding);
    declaredBindings.add(key);
    finding('binding', bindingName(binding), liveBindings.has(key) ? 'ok' : 'missing');
  }
  for (const binding of live.bindings) {
    // Every queue is bound to the default exchange by its name: not a declared binding.
    if (binding.source !== '' && !declaredBindings.has(bindingKey(fromApi(binding)))) {
      finding('binding', bindingName(fromApi(binding)), 'extra');
    }
  }

  return { strict, inSync: findings.every((f) => !f.drift), findings };
}

function exchangeDifferences(expected: ExpectedExchange, live: ApiExchange): Difference[] {
  const differences: Difference[] = [];
  const compare = (property: string, contract: unknown, broker: unknown) => {
    if (!sameValue(contract, broker)) differences.push({ property, contract, broker });
  };
  compare('type', expected.type, live.type);
  compare('durable', expected.durable, live.durable);
  compare('auto_delete', expected.autoDelete, live.auto_delete);
  compare('internal', expected.internal, live.internal);
  differences.push(...argumentDifferences(expected.arguments, live.arguments));
  return differences;
}

/** Values as the broker compares them: JSON-equal, key order aside. */
function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (value === undefined) return 'undefined';
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => x.localeCompare(y)))
      : v,
  );
}

function fromApi(binding: ApiBinding): ExpectedBinding {
  return {
    source: binding.source,
    destination: binding.destination,
    destinationType: binding.destination_type,
    routingKey: binding.routing_key,
    arguments: binding.arguments,
  };
}

function bindingKey(binding: ExpectedBinding): string {
  return canonical([
    binding.source,
    binding.destinationType,
    binding.destination,
    binding.routingKey,
    binding.arguments,
  ]);
}

/** e.g. `events -> queue audit [order.#]`, with its arguments when it has any. */
export function bindingName(binding: ExpectedBinding): string {
  const args = Object.keys(binding.arguments).length === 0 ? '' : ` ${canonical(binding.arguments)}`;
  return `${binding.source} -> ${binding.destinationType} ${binding.destination} [${binding.routingKey}]${args}`;
}
