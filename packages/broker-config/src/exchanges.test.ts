import { describe, expect, expectTypeOf, it } from 'vitest';
import { decodeMessage, encodeMessage } from './codec.js';
import {
  bindingKeyProblems,
  exchangePublications,
  exchanges,
  exchangeSubscriptions,
  routingKeyProblem,
  rpcCalls,
} from './exchanges.js';
import type { ExchangePublicationPayload, RpcReply, RpcRequest } from './exchanges.js';
import { ExchangeName, isExchangeName } from './names.js';
import { queues, subscriptions } from './topology.js';

describe('the exchanges of tutorials 3 to 5', () => {
  it('are declared as pika declares them: of their type, not durable, not auto-delete, no arguments', () => {
    expect(Object.values(exchanges).map(({ name, type }) => [name, type])).toEqual([
      ['logs', 'fanout'],
      ['direct_logs', 'direct'],
      ['topic_logs', 'topic'],
    ]);
    for (const exchange of Object.values(exchanges)) {
      expect(exchange.options).toEqual({ durable: false, autoDelete: false, internal: false, arguments: {} });
    }
  });

  it('each has a publication and a subscription of log lines, with the tutorial programs’ default keys', () => {
    for (const name of Object.values(ExchangeName)) {
      expect(exchangePublications[name].exchange).toBe(name);
      expect(exchangeSubscriptions[name].exchange).toBe(name);
    }
    expect(exchangePublications.direct_logs.defaultRoutingKey).toBe('info');
    expect(exchangePublications.topic_logs.defaultRoutingKey).toBe('anonymous.info');
    expectTypeOf<ExchangePublicationPayload<'logs'>>().toEqualTypeOf<string>();
  });
});

describe('routing and binding keys', () => {
  it.each([
    ['none', '', false, undefined],
    ['none', 'info', true, 'a fanout exchange takes no key'],
    ['word', 'error', false, undefined],
    ['word', '', true, 'it is empty'],
    ['topic', 'kern.critical', false, undefined],
    ['topic', 'kern.*', true, undefined],
    ['topic', '#', true, undefined],
    ['topic', '*.critical.#', true, undefined],
  ] as const)('rule %s, key %j (binding: %s): %s', (rule, key, binding, problem) => {
    expect(routingKeyProblem(rule, key, binding)).toBe(problem);
  });

  it('refuses wildcards in a topic routing key, empty words, and keys over 255 bytes', () => {
    expect(routingKeyProblem('topic', 'kern.*', false)).toMatch(/'\*' is not a word/);
    expect(routingKeyProblem('topic', 'kern..info', true)).toMatch(/'' is not a word/);
    expect(routingKeyProblem('word', 'x'.repeat(256), false)).toMatch(/longer than 255 bytes/);
  });
});

describe("tutorial 6's messages", () => {
  it('a request is n as decimal text, from 0 to 1000, checked at both ends', () => {
    expectTypeOf<RpcRequest<'rpc_queue'>>().toEqualTypeOf<number>();
    expect(encodeMessage(rpcCalls.rpc_queue.request, 30).content.toString()).toBe('30');
    expect(() => encodeMessage(rpcCalls.rpc_queue.request, 1001)).toThrow(/n must be at most 1000/);
    expect(() => encodeMessage(rpcCalls.rpc_queue.request, 1.5)).toThrow(/whole number/);
    expect(decodeMessage(rpcCalls.rpc_queue.request, Buffer.from('30'), undefined)).toEqual({ ok: true, payload: 30 });
    expect(decodeMessage(rpcCalls.rpc_queue.request, Buffer.from('-1'), undefined).ok).toBe(false);
    expect(decodeMessage(rpcCalls.rpc_queue.request, Buffer.from('9'.repeat(40)), undefined).ok).toBe(false);
  });

  it('a reply is a whole number of any size, as str(response) writes it', () => {
    expectTypeOf<RpcReply<'rpc_queue'>>().toEqualTypeOf<bigint>();
    const big = 2n ** 200n;
    const { content } = encodeMessage(rpcCalls.rpc_queue.reply, big);
    expect(decodeMessage(rpcCalls.rpc_queue.reply, content, 'text/plain')).toEqual({ ok: true, payload: big });
    expect(decodeMessage(rpcCalls.rpc_queue.reply, Buffer.from('oops'), undefined).ok).toBe(false);
  });

  it('rpc_queue is declared as pika declares it, and its server is a subscription with a dead-letter queue', () => {
    expect(queues.rpc_queue.options).toEqual({ durable: false, exclusive: false, autoDelete: false, arguments: {} });
    expect(subscriptions.rpc_queue).toMatchObject({
      queue: 'rpc_queue',
      deadLetterQueue: 'rpc_queue.dlq',
      retryQueues: [],
      prefetch: 1,
    });
  });
});

describe('isExchangeName', () => {
  it('tells the exchanges of tutorials 3 to 5 from the queues', () => {
    expect(Object.values(ExchangeName).every((name) => isExchangeName(name))).toBe(true);
    for (const name of ['hello', 'task_queue', 'rpc_queue', '', 'amq.direct'])
      expect(isExchangeName(name), name).toBe(false);
  });
});

describe('bindingKeyProblems', () => {
  it('wants no key for the fanout exchange, at least one for the others, each valid', () => {
    expect(bindingKeyProblems('logs', [])).toEqual([]);
    expect(bindingKeyProblems('logs', ['info'])).toEqual([
      "'logs' is a fanout exchange: every subscriber gets every message, so it takes no --key",
    ]);
    expect(bindingKeyProblems('direct_logs', [])).toEqual([
      "'direct_logs' needs at least one --key to bind with, e.g. --key info --key error",
    ]);
    expect(bindingKeyProblems('topic_logs', [])).toEqual([
      "'topic_logs' needs at least one --key to bind with, e.g. --key 'kern.*' --key '*.critical'",
    ]);
    expect(bindingKeyProblems('direct_logs', ['info', 'error'])).toEqual([]);
    expect(bindingKeyProblems('topic_logs', ['kern.*', '#.critical'])).toEqual([]);
    expect(bindingKeyProblems('topic_logs', ['kern.*', 'a..b', 'x.y*'])).toHaveLength(2);
  });
});
