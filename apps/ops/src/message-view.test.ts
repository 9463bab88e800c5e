import type { QueueMessage } from '@hello-rabbit/transport/operations';
import { describe, expect, it } from 'vitest';
import { viewBody, viewMessage } from './message-view.js';

describe('viewBody', () => {
  it('shows a UTF-8 body as text', () => {
    expect(viewBody(Buffer.from('Hello, wörld'), 100)).toEqual({
      bytes: 13,
      encoding: 'utf8',
      text: 'Hello, wörld',
      truncated: false,
    });
  });

  it('cuts a long body without leaving half a character', () => {
    // 'ö' is bytes 9 and 10: a cut after 9 bytes falls inside it.
    expect(viewBody(Buffer.from('Hello, wörld'), 9)).toEqual({
      bytes: 13,
      encoding: 'utf8',
      text: 'Hello, w',
      truncated: true,
    });
  });

  it('shows a body that is not UTF-8 as base64', () => {
    expect(viewBody(Buffer.from([0xff, 0xfe, 0x00, 0x01]), 3)).toEqual({
      bytes: 4,
      encoding: 'base64',
      text: Buffer.from([0xff, 0xfe, 0x00]).toString('base64'),
      truncated: true,
    });
  });
});

describe('viewMessage', () => {
  it('keeps the properties that are set, dates the timestamp, and makes header values readable', () => {
    const message: QueueMessage = {
      content: Buffer.from('x'),
      redelivered: true,
      exchange: '',
      routingKey: 'q',
      properties: {
        contentType: 'text/plain',
        contentEncoding: undefined,
        headers: {
          bytes: Buffer.from('abc'),
          'x-death': [
            {
              time: { '!': 'timestamp', value: 1_700_000_000 },
              count: 1,
              reason: 'expired',
              queue: 'q.retry',
              exchange: '',
              'routing-keys': ['q.retry'],
            },
          ],
        },
        deliveryMode: 2,
        priority: undefined,
        correlationId: undefined,
        replyTo: undefined,
        expiration: undefined,
        messageId: 'm1',
        timestamp: 1_700_000_000,
        type: undefined,
        userId: undefined,
        appId: 'consumer',
        clusterId: undefined,
      },
    };
    expect(viewMessage(message, 3, 10)).toEqual({
      position: 3,
      redelivered: true,
      properties: {
        contentType: 'text/plain',
        deliveryMode: 2,
        messageId: 'm1',
        timestamp: 1_700_000_000,
        timestampIso: '2023-11-14T22:13:20.000Z',
        appId: 'consumer',
      },
      headers: {
        bytes: 'abc',
        'x-death': [
          {
            time: '2023-11-14T22:13:20.000Z',
            count: 1,
            reason: 'expired',
            queue: 'q.retry',
            exchange: '',
            'routing-keys': ['q.retry'],
          },
        ],
      },
      body: { bytes: 1, encoding: 'utf8', text: 'x', truncated: false },
    });
  });
});
