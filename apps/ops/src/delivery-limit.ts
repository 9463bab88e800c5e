import type { ApiPolicy, ApiQueue } from './management-api.js';

/** A delivery limit on a queue, and where it comes from. */
export interface DeliveryLimit {
  readonly limit: number;
  readonly source: string;
}

/** RabbitMQ 4.0 gives every quorum queue this delivery limit unless told otherwise. */
const RABBITMQ_4_DEFAULT = 20;

export interface LimitContext {
  /** `rabbitmq_version` of /api/overview. */
  readonly version: string | undefined;
  /** The vhost's policies and operator policies, needed while the queue's statistics are not in. */
  readonly policies?: readonly ApiPolicy[];
  readonly operatorPolicies?: readonly ApiPolicy[];
}

/** Whether the queue's own statistics (its effective policy) are in, or the policies must be read. */
export function needsPolicies(queue: ApiQueue): boolean {
  return (
    queue.type === 'quorum' &&
    (queue.effective_policy_definition === undefined || queue.effective_policy_definition === null)
  );
}

/**
 * The delivery limit that applies to a queue, if any. Browsing a queue returns every
 * message it does not remove, and a quorum queue counts each return as a delivery
 * (`x-delivery-count`): past its delivery limit the broker drops the message (or
 * dead-letters it elsewhere). Only quorum queues have one. When the queue's effective
 * policy is not known yet, every matching policy that sets a limit counts, whatever its
 * priority: the check errs on the side of the messages.
 */
export function deliveryLimitOf(queue: ApiQueue, context: LimitContext): DeliveryLimit | undefined {
  if (queue.type !== 'quorum') return undefined;
  const candidates: DeliveryLimit[] = [];
  const argument = queue.arguments['x-delivery-limit'];
  if (typeof argument === 'number') candidates.push({ limit: argument, source: 'its x-delivery-limit argument' });

  const effective = queue.effective_policy_definition;
  if (effective !== undefined && effective !== null) {
    const limit = effective['delivery-limit'];
    if (typeof limit === 'number') {
      const names = [queue.policy, queue.operator_policy].filter((n): n is string => typeof n === 'string' && n !== '');
      candidates.push({ limit, source: `policy ${names.map((n) => `'${n}'`).join(' and ') || '(unnamed)'}` });
    }
  } else {
    const matching = (policies: readonly ApiPolicy[] | undefined, what: string) =>
      (policies ?? []).flatMap((policy): DeliveryLimit[] => {
        const limit = policy.definition['delivery-limit'];
        return typeof limit === 'number' && appliesTo(policy, queue)
          ? [{ limit, source: `${what} '${policy.name}'` }]
          : [];
      });
    candidates.push(...matching(context.policies, 'policy'), ...matching(context.operatorPolicies, 'operator policy'));
  }

  if (candidates.length === 0) {
    const major = Number(/^(\d+)\./.exec(context.version ?? '')?.[1] ?? 0);
    return major >= 4
      ? { limit: RABBITMQ_4_DEFAULT, source: `RabbitMQ ${context.version ?? '4'}'s default for quorum queues` }
      : undefined;
  }
  // A negative limit (RabbitMQ 4) means none; otherwise the smallest applies.
  const finite = candidates.filter((c) => c.limit >= 0).sort((a, b) => a.limit - b.limit);
  return finite[0];
}

function appliesTo(policy: ApiPolicy, queue: ApiQueue): boolean {
  const kinds: Record<string, boolean> = {
    all: true,
    queues: true,
    quorum_queues: queue.type === 'quorum',
    classic_queues: queue.type === 'classic',
    streams: queue.type === 'stream',
  };
  if (kinds[policy['apply-to']] !== true) return false;
  try {
    return new RegExp(policy.pattern).test(queue.name);
  } catch {
    // A pattern JavaScript cannot read (PCRE-only syntax): assume it matches.
    return true;
  }
}
