import { describe, expect, it } from 'vitest';
import { connections, parseLog, parseReport, parseWorkerOutput, receivedBodies } from './app-output.js';

describe('parseWorkerOutput', () => {
  it("reads the worker's Received and Done lines, and leaves a half-written line for later", () => {
    const stdout =
      ' [*] Waiting for messages. To exit press CTRL+C\n' +
      " [x] Received 'run #1'\n [x] Done\n [x] Received 'it''s #2'\n [x] Rec";
    expect(parseWorkerOutput(stdout)).toEqual([
      { kind: 'received', body: 'run #1' },
      { kind: 'done' },
      { kind: 'received', body: "it''s #2" },
    ]);
    expect(receivedBodies(stdout)).toEqual(['run #1', "it''s #2"]);
  });
});

describe('parseReport', () => {
  it('reads one JSON line per settled message, not a line still being written', () => {
    const text =
      '{"index":1,"messageId":"m1","body":"t #1","status":"confirmed","attempts":1}\n' +
      '{"index":2,"messageId":"m2","body":"t #2","status":"failed","attempts":3}\n' +
      '{"index":3,"messageId":"m3","bo';
    expect(parseReport(text).map((line) => [line.body, line.status, line.attempts])).toEqual([
      ['t #1', 'confirmed', 1],
      ['t #2', 'failed', 3],
    ]);
  });

  it('refuses a line that is not a report line', () => {
    expect(() => parseReport('{"body":"t #1","status":"maybe"}\n')).toThrow(/not a report line/);
  });
});

describe('parseLog', () => {
  it('keeps the JSON log lines and skips the others', () => {
    const stderr =
      '{"level":40,"time":1700000000000,"pid":1,"name":"consumer",' +
      '"msg":"disconnected from the broker; reconnecting"}\n' +
      'consumer: a one-line error\n{"level":30,"time":17';
    expect(parseLog(stderr)).toEqual([
      { level: 40, time: 1700000000000, pid: 1, name: 'consumer', msg: 'disconnected from the broker; reconnecting' },
    ]);
  });
});

describe('connections', () => {
  it('reads the node of each connection an app logged, the first one and each one after a loss', () => {
    const stderr = [
      '{"level":30,"time":1,"msg":"connected to the broker; topology ready","node":"127.0.0.1:5001"}',
      '{"level":40,"time":2,"msg":"disconnected from the broker; reconnecting"}',
      '{"level":30,"time":3,"msg":"connected to the broker","node":"127.0.0.1:5002"}',
      '{"level":30,"time":4,"msg":"connected to the broker"}',
      '{"level":30,"time":5,"msg":"cannot reach this broker node; trying the next","node":"127.0.0.1:5003"}',
      '',
    ].join('\n');
    expect(connections(parseLog(stderr))).toEqual([
      { node: '127.0.0.1:5001', time: 1 },
      { node: '127.0.0.1:5002', time: 3 },
    ]);
  });
});
