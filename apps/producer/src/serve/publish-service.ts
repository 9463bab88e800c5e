import { createHash, randomUUID } from 'node:crypto';
import type { ConnectionState, Logger, Metrics } from '@hello-rabbit/runtime';
import {
  isDedupStoreUnavailable,
  publishUntilSettled,
  type DedupStore,
  type Publisher,
  type Settled,
} from '@hello-rabbit/transport';
import {
  encodeMessage,
  InvalidMessageError,
  messages,
  publications,
  type PublicationName,
} from '@hello-rabbit/broker-config';

/** What a request to publish gets: 202 only once the broker has confirmed the message. */
export type PublishAnswer =
  | {
      readonly statusCode: 202;
      readonly messageId: string;
      readonly publication: PublicationName;
      readonly queue: string;
      /** A repeat of an Idempotency-Key answered before: the first answer, nothing published. */
      readonly replayed?: true;
    }
  | {
      readonly statusCode: 400 | 409 | 413 | 422 | 502 | 503;
      readonly messageId: string;
      readonly message: string;
      /** For a 503: seconds to wait before retrying (`Retry-After`). */
      readonly retryAfterSeconds?: number;
    };

export interface PublishServiceOptions {
  readonly publisher: Publisher;
  readonly connection: Pick<ConnectionState, 'connected' | 'blocked'>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Messages awaiting their confirm at once; one more is answered 503 (never queued). */
  readonly window: number;
  readonly confirmTimeoutMs: number;
  /** How long a request publishes an unconfirmed message again. */
  readonly deadlineMs: number;
  readonly retryAfterSeconds: number;
  /** Log each message's text. */
  readonly logPayloads: boolean;
  /**
   * Where Idempotency-Keys are claimed and their answers kept (shared by every instance
   * when it is Redis), and how long a claim holds at least. Unset: keys are not checked.
   */
  readonly idempotency?: { readonly store: DedupStore; readonly leaseMs: number } | undefined;
}

/** What the store keeps of a request answered 202: its message, and a digest of its text. */
interface KeptAnswer {
  readonly digest: string;
  readonly messageId: string;
  readonly queue: string;
}

export interface PublishService {
  /**
   * Checks `payload` against the publication's message kind, publishes it and waits for the
   * broker's confirm, publishing it again (same messageId) while it is not confirmed and
   * the broker is connected, until the deadline. Every outcome is an answer; it rejects only
   * on a bug (the route then answers 500).
   */
  publish(publication: PublicationName, payload: string, idempotencyKey: string | undefined): Promise<PublishAnswer>;
  /** Requests awaiting their message's fate now. */
  readonly inFlight: number;
  /** From now on: new messages are answered 503, and failed attempts are not published again. */
  stopAccepting(): void;
  /** Answers 503 at once to every request still awaiting its confirm (the shutdown deadline passed). */
  abandonInFlight(): void;
  /** Resolves once no request awaits its message's fate. */
  drained(): Promise<void>;
}

/** Why a request ended before its message settled. */
const ABANDONED = Symbol('abandoned');

/**
 * The service's publishing: the HTTP route only translates requests and answers. At most
 * `window` messages await their confirm at once; one more, or any while the broker is away
 * or blocks publishing, is answered 503 with `Retry-After` at once, never queued. A message
 * is answered 202 only once the broker confirmed it: nothing is accepted and then lost.
 */
export function createPublishService(options: PublishServiceOptions): PublishService {
  const { publisher, connection, logger, metrics } = options;
  const stopping = new AbortController();
  // One per request awaiting its confirm (a promise per request, not one shared by all:
  // every race against a shared, never-settling promise would stay attached to it).
  const waiting = new Set<() => void>();
  const drainWaiters = new Set<() => void>();
  let inFlight = 0;

  const unavailable = (messageId: string, message: string): PublishAnswer => ({
    statusCode: 503,
    messageId,
    message,
    retryAfterSeconds: options.retryAfterSeconds,
  });

  /** Why the service cannot take a message now, if it cannot. */
  const refusal = (): string | undefined => {
    if (stopping.signal.aborted) return 'the service is shutting down';
    if (!connection.connected) return 'not connected to the broker (reconnecting)';
    if (connection.blocked) return 'the broker blocks publishing (resource alarm)';
    if (inFlight >= options.window) return `${options.window} messages already await their confirm (PUBLISH_WINDOW)`;
    return undefined;
  };

  const publishChecked = async (
    publication: PublicationName,
    payload: string,
    messageId: string,
  ): Promise<PublishAnswer> => {
    const { queue, message: kind } = publications[publication];
    const { maxBytes } = messages[kind];
    const bytes = Buffer.byteLength(payload, 'utf8');
    if (bytes > maxBytes) {
      return {
        statusCode: 413,
        messageId,
        message: `invalid '${kind}' message: ${bytes} bytes is over the limit of ${maxBytes}`,
      };
    }
    let encoded;
    try {
      encoded = encodeMessage(kind, payload);
    } catch (err) {
      if (err instanceof InvalidMessageError) return { statusCode: 400, messageId, message: err.message };
      throw err;
    }
    const refused = refusal();
    if (refused !== undefined) return unavailable(messageId, refused);

    inFlight++;
    let giveUp: () => void = () => undefined;
    const abandoned = new Promise<typeof ABANDONED>((resolve) => {
      giveUp = () => {
        resolve(ABANDONED);
      };
    });
    waiting.add(giveUp);
    let settled: Settled | typeof ABANDONED;
    try {
      const settling = publishUntilSettled(publisher, queue, encoded, messageId, {
        confirmTimeoutMs: options.confirmTimeoutMs,
        deadline: Date.now() + options.deadlineMs,
        deadlineMs: options.deadlineMs,
        logger,
        appId: 'producer',
        signal: stopping.signal,
        // The client retries (with the same Idempotency-Key) better than a request held
        // while the broker is away, blocks publishing or refuses the message (a full queue).
        holdResend: (refused) => {
          if (refused) return 'refused by the broker';
          if (!connection.connected) return 'not connected to the broker';
          if (connection.blocked) return 'the broker blocks publishing (resource alarm)';
          return undefined;
        },
        metrics,
      });
      settled = await Promise.race([settling, abandoned]);
    } finally {
      waiting.delete(giveUp);
      inFlight--;
      if (inFlight === 0) {
        for (const resolve of drainWaiters) resolve();
        drainWaiters.clear();
      }
    }
    if (settled === ABANDONED) {
      return unavailable(
        messageId,
        'the service stopped before the broker confirmed the message; retry with the same Idempotency-Key',
      );
    }
    switch (settled.status) {
      case 'confirmed':
        return { statusCode: 202, messageId, publication, queue };
      case 'returned':
        // Unroutable on the default exchange: no queue of that name (deleted since the
        // topology was declared). Retrying will not help until the queue is back.
        return { statusCode: 502, messageId, message: settled.reason ?? 'returned by the broker' };
      case 'nacked':
        return unavailable(messageId, settled.reason ?? 'rejected by the broker');
      case 'failed':
        return unavailable(
          messageId,
          `not confirmed: ${settled.reason ?? 'no confirm'}; ` +
            'it may have reached the broker: retry with the same Idempotency-Key',
        );
    }
  };

  /**
   * A request with an Idempotency-Key: claimed in the store first. A key answered 202
   * before gets that answer again (nothing published); a key still awaiting its confirm
   * in another request (on any instance) gets 409; the same key with another text, 422.
   * Only a 202 is kept: after any other answer the key is free again.
   */
  const publishOnce = async (
    publication: PublicationName,
    payload: string,
    key: string,
    idempotency: NonNullable<PublishServiceOptions['idempotency']>,
  ): Promise<PublishAnswer> => {
    const { store } = idempotency;
    const scope = `publish:${publication}`;
    const digest = createHash('sha256').update(payload).digest('base64url');
    // The claim outlasts the request: its resends end at the deadline.
    const leaseMs = Math.max(idempotency.leaseMs, options.deadlineMs + options.confirmTimeoutMs + 5000);
    let claim;
    try {
      claim = await store.claim(scope, key, leaseMs);
    } catch (err) {
      if (!isDedupStoreUnavailable(err)) throw err;
      return unavailable(
        key,
        'the dedup store is unreachable: the Idempotency-Key cannot be checked; retry with the same Idempotency-Key',
      );
    }
    if (claim.state === 'done') {
      const kept = JSON.parse(claim.answer ?? '{}') as Partial<KeptAnswer>;
      if (kept.digest !== digest) {
        return {
          statusCode: 422,
          messageId: key,
          message: 'this Idempotency-Key was used for another message; use a new key for a new message',
        };
      }
      return {
        statusCode: 202,
        messageId: kept.messageId ?? key,
        publication,
        queue: kept.queue ?? publications[publication].queue,
        replayed: true,
      };
    }
    if (claim.state === 'busy') {
      return {
        statusCode: 409,
        messageId: key,
        message:
          'a request with this Idempotency-Key is still awaiting its confirm; ' +
          'retry with the same key to get its answer',
        retryAfterSeconds: Math.max(1, Math.min(Math.ceil(claim.retryInMs / 1000), options.retryAfterSeconds)),
      };
    }
    const answer = await publishChecked(publication, payload, key);
    try {
      if (answer.statusCode === 202) {
        const kept: KeptAnswer = { digest, messageId: answer.messageId, queue: answer.queue };
        await store.done(scope, key, claim.token, JSON.stringify(kept));
      } else {
        await store.release(scope, key, claim.token);
      }
    } catch (err) {
      if (!isDedupStoreUnavailable(err)) throw err;
      // Confirmed all the same. Unmarked, a repeat of the key publishes again, with the
      // same message-id: the consumers' dedup store still finds it done.
      logger.warn(
        { messageId: key, publication },
        'could not record the Idempotency-Key: the dedup store is unreachable',
      );
    }
    return answer;
  };

  return {
    publish: async (publication, payload, idempotencyKey) => {
      const messageId = idempotencyKey ?? randomUUID();
      const { queue } = publications[publication];
      const answer =
        idempotencyKey === undefined || options.idempotency === undefined
          ? await publishChecked(publication, payload, messageId)
          : await publishOnce(publication, payload, idempotencyKey, options.idempotency);
      const line = {
        messageId,
        queue,
        publication,
        statusCode: answer.statusCode,
        ...(answer.statusCode === 202 ? {} : { reason: answer.message }),
        ...(options.logPayloads ? { payload } : {}),
      };
      if (answer.statusCode === 202)
        logger.info(
          line,
          answer.replayed === true ? 'repeated Idempotency-Key: the first answer again' : 'message confirmed',
        );
      else if (answer.statusCode < 500) logger.info(line, 'message refused');
      else logger.warn(line, 'message not accepted');
      return answer;
    },
    get inFlight() {
      return inFlight;
    },
    stopAccepting: () => {
      stopping.abort();
    },
    abandonInFlight: () => {
      for (const giveUp of waiting) giveUp();
    },
    drained: () =>
      inFlight === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            drainWaiters.add(resolve);
          }),
  };
}
