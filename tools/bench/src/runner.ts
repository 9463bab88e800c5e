/**
 * One measurement in a process of its own: the orchestrator forks this file with a job
 * (JSON, first argument) and reads the result over IPC. The CPU time and peak RSS it
 * reports are this process's, so they belong to the client measured and nothing else.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { plainBody, readStamp, stamper } from './body.js';
import type { BenchClient } from './clients/client.js';
import { connectClient } from './clients/connect.js';
import { epochMs } from './clock.js';
import type {
  ConsumeJob,
  ConsumeResult,
  Job,
  JobResult,
  OverloadJob,
  OverloadResult,
  PublishJob,
  PublishResult,
  RunnerMessage,
} from './jobs.js';
import { createHistogram, encodeHistogram, recordMs } from './latency.js';
import { pump } from './pump.js';

function send(message: RunnerMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) {
      reject(new Error('the runner is started by the benchmark (with an IPC channel), not by hand'));
      return;
    }
    process.send(message, (err: Error | null) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

function cpuMicros(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

function usage(cpu: NodeJS.CpuUsage, readyRssBytes: number) {
  // maxRSS is in kilobytes.
  return { cpuMicros: cpuMicros(cpu), maxRssBytes: process.resourceUsage().maxRSS * 1024, readyRssBytes };
}

async function runPublish(client: BenchClient, job: PublishJob): Promise<PublishResult> {
  const fixed = plainBody(job.bodySize);
  const stamp = job.stamp ? stamper(job.bodySize) : undefined;
  const prefix = `${String(process.pid)}-`;
  const latency = createHistogram();
  const readyRss = process.memoryUsage.rss();
  await send({ type: 'ready' });
  const cpu = process.cpuUsage();
  const result = await pump({
    count: job.count,
    window: job.window,
    rate: job.rate,
    latency,
    send: (index, sentAt, done) => {
      client.publish(job.queue, stamp === undefined ? fixed : stamp(sentAt), prefix + String(index), done);
    },
  });
  return {
    role: 'publish',
    ...usage(cpu, readyRss),
    ...result,
    latency: encodeHistogram(latency),
  };
}

async function runConsume(client: BenchClient, job: ConsumeJob): Promise<ConsumeResult> {
  const latency = createHistogram();
  const readyRss = process.memoryUsage.rss();
  let cpu = process.cpuUsage();
  let received = 0;
  let firstDeliveryAt = 0;
  let lastDeliveryAt = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const consumer = await client.consume(job.queue, job.prefetch, (body) => {
    const now = epochMs();
    if (received === 0) {
      // The measurement runs from the first delivery to the last: consumer set-up is not in it.
      firstDeliveryAt = now;
      cpu = process.cpuUsage();
    }
    received++;
    if (job.stamped) recordMs(latency, now - readStamp(body));
    if (received === job.count) {
      lastDeliveryAt = now;
      finish();
    }
  });
  await send({ type: 'ready' });
  await finished;
  const measured = usage(cpu, readyRss);
  // Let the last acks reach the broker before the consumer is cancelled.
  await sleep(50);
  await consumer.stop();
  return { role: 'consume', ...measured, received, firstDeliveryAt, lastDeliveryAt, latency: encodeHistogram(latency) };
}

async function runOverload(client: BenchClient, job: OverloadJob): Promise<OverloadResult> {
  // A fresh body per message, as a real producer makes them: retained bodies would show.
  const stamp = stamper(job.bodySize);
  const prefix = `${String(process.pid)}-`;
  const rssSamples: number[] = [];
  const readyRss = process.memoryUsage.rss();
  await send({ type: 'ready' });
  const cpu = process.cpuUsage();
  const sampler = setInterval(() => {
    rssSamples.push(process.memoryUsage.rss());
  }, 100);

  // The source offers `offeredRate` messages a second; what the client has not taken yet is
  // a count (a backlog of work), never a buffer. `concurrency` publishes are started at
  // once: over the client's window, its own back-pressure is what holds them.
  const start = epochMs();
  const end = start + job.seconds * 1000;
  const lanes = job.concurrency;
  let offered = 0;
  let taken = 0;
  let confirmed = 0;
  let failed = 0;
  let pending = 0;
  let maxPending = 0;
  const lane = async () => {
    for (;;) {
      const now = epochMs();
      if (now >= end) return;
      offered = Math.floor(((now - start) * job.offeredRate) / 1000);
      if (taken >= offered) {
        await sleep(1);
        continue;
      }
      const index = taken++;
      pending++;
      maxPending = Math.max(maxPending, pending);
      const ok = await new Promise<boolean>((resolve) => {
        client.publish(job.queue, stamp(now), prefix + String(index), resolve);
      });
      pending--;
      if (ok) confirmed++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  clearInterval(sampler);
  return {
    role: 'overload',
    ...usage(cpu, readyRss),
    offered: Math.floor(job.seconds * job.offeredRate),
    confirmed,
    failed,
    rssSamples,
    maxPending,
  };
}

async function run(job: Job): Promise<JobResult> {
  const client = await connectClient(job.client, job.url, {
    window: job.role === 'consume' ? 1000 : job.window,
    prefetch: job.role === 'consume' ? job.prefetch : 1000,
  });
  try {
    switch (job.role) {
      case 'publish':
        return await runPublish(client, job);
      case 'consume':
        return await runConsume(client, job);
      case 'overload':
        return await runOverload(client, job);
    }
  } finally {
    await client.close();
  }
}

const [encoded] = process.argv.slice(2);
try {
  if (encoded === undefined) throw new Error('usage: runner.ts <job as JSON>');
  const result = await run(JSON.parse(encoded) as Job);
  await send({ type: 'result', result });
  process.exit(0);
} catch (err) {
  await send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }).catch(
    () => undefined,
  );
  process.exit(1);
}
