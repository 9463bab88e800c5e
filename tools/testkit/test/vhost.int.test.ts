import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestVhost, ctl, sweepStaleVhosts, vhostOwner } from '../src/vhost.js';

const tag = randomUUID().slice(0, 8);
const made: string[] = [];

async function vhosts(): Promise<Map<string, string>> {
  const listed = JSON.parse(await ctl('list_vhosts', 'name', 'description', '--formatter', 'json')) as {
    name: string;
    description?: string;
  }[];
  return new Map(listed.map(({ name, description }) => [name, description ?? '']));
}

async function addVhost(name: string, description?: string): Promise<void> {
  made.push(name);
  await ctl('add_vhost', name, ...(description === undefined ? [] : ['--description', description]));
}

afterAll(async () => {
  const left = await vhosts();
  for (const name of made) if (left.has(name)) await ctl('delete_vhost', name);
});

describe('test vhosts on the shared broker', () => {
  it('carry their owner (this process, this machine) and are gone once disposed of', async () => {
    const vhost = await createTestVhost(`vhost-${tag}`);
    made.push(vhost.name);
    expect((await vhosts()).get(vhost.name)).toBe(`hello-rabbit test; pid ${process.pid} on ${os.hostname()}`);
    await vhost.dispose();
    expect((await vhosts()).has(vhost.name)).toBe(false);
  });

  it('left behind by a dead test process of this machine are swept; any other is kept', async () => {
    const dead = 4_000_001;
    const names = {
      deadOwner: `test-sweep-dead-${tag}`,
      liveOwner: `test-sweep-live-${tag}`,
      otherHost: `test-sweep-elsewhere-${tag}`,
      noOwner: `test-sweep-unowned-${tag}`,
      notATest: `sweep-dead-${tag}`,
    };
    await addVhost(names.deadOwner, vhostOwner(dead));
    await addVhost(names.liveOwner, vhostOwner(process.pid));
    await addVhost(names.otherHost, vhostOwner(dead, `not-${os.hostname()}`));
    await addVhost(names.noOwner);
    await addVhost(names.notATest, vhostOwner(dead));

    const swept = await sweepStaleVhosts((pid) => pid !== dead);
    expect(swept.filter((name) => name.endsWith(tag))).toEqual([names.deadOwner]);
    const left = await vhosts();
    expect(left.has(names.deadOwner)).toBe(false);
    for (const kept of [names.liveOwner, names.otherHost, names.noOwner, names.notATest])
      expect(left.has(kept), kept).toBe(true);
  });
});
