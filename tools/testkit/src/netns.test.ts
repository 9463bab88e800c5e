import { describe, expect, it } from 'vitest';
import { NetnsNetwork, netnsUnavailable, parseLinkNames, type CommandRunner } from './netns.js';

/** A runner that records each command and answers from a table (a throw for a failure). */
function fakeRunner(answers: Record<string, string | Error> = {}): CommandRunner & { calls: string[] } {
  const calls: string[] = [];
  const runner = (file: string, args: readonly string[]) => {
    const command = [file, ...args].join(' ');
    calls.push(command);
    const answer = Object.entries(answers).find(([start]) => command.startsWith(start))?.[1] ?? '';
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
  return Object.assign(runner, { calls });
}

const oneLine = (text: string | undefined) => {
  expect(text).toBeDefined();
  expect(text?.includes('\n')).toBe(false);
  return text ?? '';
};

describe('netnsUnavailable: why the partition suite cannot run here, in one line', () => {
  // It removes the namespace it made to find out.
  it('is undefined on Linux, as root, with ip and tc and a namespace it could create', async () => {
    const runner = fakeRunner();
    expect(await netnsUnavailable({ runner, uid: 0, platform: 'linux' })).toBeUndefined();
    expect(runner.calls).toEqual(['ip -V', 'tc -V', 'ip netns add hrp-probe', 'ip netns del hrp-probe']);
  });

  it('says root is needed, and runs nothing, when not root', async () => {
    const runner = fakeRunner();
    const reason = oneLine(await netnsUnavailable({ runner, uid: 1000, platform: 'linux' }));
    expect(reason).toMatch(/needs root/);
    expect(reason).toMatch(/uid 1000/);
    expect(runner.calls).toEqual([]);
  });

  it('says Linux is needed elsewhere', async () => {
    expect(oneLine(await netnsUnavailable({ runner: fakeRunner(), uid: 0, platform: 'darwin' }))).toMatch(
      /needs Linux \(this is darwin\)/,
    );
  });

  it('names the missing tool (ip, tc) with the error', async () => {
    const noIp = await netnsUnavailable({
      runner: fakeRunner({ 'ip -V': new Error('spawn ip ENOENT') }),
      uid: 0,
      platform: 'linux',
    });
    expect(oneLine(noIp)).toMatch(/needs `ip` \(iproute2\): spawn ip ENOENT/);
    const noTc = await netnsUnavailable({
      runner: fakeRunner({ 'tc -V': new Error('spawn tc ENOENT\nmore') }),
      uid: 0,
      platform: 'linux',
    });
    expect(oneLine(noTc)).toMatch(/needs `tc` \(iproute2\): spawn tc ENOENT$/);
  });

  it('says when the kernel refuses a namespace (a container without CAP_NET_ADMIN)', async () => {
    const runner = fakeRunner({
      'ip netns add': new Error(
        'ip netns add hrp-probe: mount --make-shared /run/netns failed: Operation not permitted',
      ),
    });
    expect(oneLine(await netnsUnavailable({ runner, uid: 0, platform: 'linux' }))).toMatch(
      /refuses to create one: .*Operation not permitted/,
    );
  });
});

describe('NetnsNetwork', () => {
  it('parses link names out of `ip -o link show`', () => {
    const out =
      '1: lo: <LOOPBACK,UP> mtu 65536\n7: hrp-v1@if8: <BROADCAST> mtu 1500\n9: hrp-br0: <BROADCAST> mtu 1500\n';
    expect(parseLinkNames(out)).toEqual(['lo', 'hrp-v1', 'hrp-br0']);
  });

  it('sweeps only what carries its prefix', async () => {
    const runner = fakeRunner({
      'ip netns list': 'hrp-n1 (id: 3)\nother-n1\nhrp-n2\n',
      'ip netns pids': '',
      'ip -o link show':
        '1: lo: <LOOPBACK>\n5: hrp-br0: <BROADCAST>\n6: hrpx0: <BROADCAST>\n7: eth0: <UP>\n8: hrp-v1@if9: <UP>\n',
    });
    const removed = await NetnsNetwork.sweep('hrp', runner);
    expect(removed).toEqual(['netns hrp-n1', 'netns hrp-n2', 'link hrp-br0', 'link hrp-v1']);
    expect(runner.calls.filter((call) => call.includes(' del '))).toEqual([
      'ip netns del hrp-n1',
      'ip netns del hrp-n2',
      'ip link del hrp-br0',
      'ip link del hrp-v1',
    ]);
  });

  it('names and addresses: node i in <prefix>-n<i+1> at <subnet>.1<i+1>', () => {
    const network = NetnsNetwork.attach({ prefix: 'hrp', subnet: '10.213.0', size: 3 }, fakeRunner());
    expect([0, 1, 2].map((i) => [network.namespace(i), network.address(i), network.hostLink(i)])).toEqual([
      ['hrp-n1', '10.213.0.11', 'hrp-v1'],
      ['hrp-n2', '10.213.0.12', 'hrp-v2'],
      ['hrp-n3', '10.213.0.13', 'hrp-v3'],
    ]);
    expect(() => network.address(3)).toThrow(RangeError);
  });

  it('a split cuts every pair across it, both ways, and nothing else', async () => {
    const runner = fakeRunner();
    await NetnsNetwork.attach({ prefix: 'hrp', subnet: '10.213.0', size: 3 }, runner).split([0]);
    expect(runner.calls).toEqual([
      'ip -n hrp-n1 route replace blackhole 10.213.0.12/32',
      'ip -n hrp-n2 route replace blackhole 10.213.0.11/32',
      'ip -n hrp-n1 route replace blackhole 10.213.0.13/32',
      'ip -n hrp-n3 route replace blackhole 10.213.0.11/32',
    ]);
  });
});

describe('NetnsNetwork: the tc commands that slow and squeeze a node link', () => {
  const network = (runner: CommandRunner) =>
    NetnsNetwork.attach({ prefix: 'hrpt', subnet: '10.213.9', size: 3 }, runner);

  it('slowClients: on the bridge end, the apps (by source address) in a narrow class, the rest at 10gbit', async () => {
    const runner = fakeRunner();
    await network(runner).slowClients(1, 4000);
    expect(runner.calls).toEqual([
      'tc qdisc del dev hrpt-v2 root',
      'tc qdisc add dev hrpt-v2 root handle 1: htb default 20',
      'tc class add dev hrpt-v2 parent 1: classid 1:10 htb rate 4000kbit ceil 4000kbit',
      'tc class add dev hrpt-v2 parent 1: classid 1:20 htb rate 10gbit',
      'tc filter add dev hrpt-v2 parent 1: protocol ip prio 1 u32 match ip src 10.213.9.1/32 flowid 1:10',
    ]);
  });

  it('slowClients 0: only the root removed', async () => {
    const runner = fakeRunner();
    await network(runner).slowClients(0, 0);
    expect(runner.calls).toEqual(['tc qdisc del dev hrpt-v1 root']);
  });

  it('impair: the other traffic class narrowed on the bridge end, and an htb class on the node end', async () => {
    const runner = fakeRunner({ 'tc qdisc show dev hrpt-v1': 'qdisc htb 1: root refcnt 2 r2q 10 default 0x20' });
    await network(runner).impair(0, 1000);
    expect(runner.calls).toEqual([
      'tc -n hrpt-n1 qdisc del dev hrpt-e1 root',
      'tc qdisc show dev hrpt-v1',
      'tc class change dev hrpt-v1 parent 1: classid 1:20 htb rate 1000kbit ceil 1000kbit',
      'tc -n hrpt-n1 qdisc add dev hrpt-e1 root handle 1: htb default 10',
      'tc -n hrpt-n1 class add dev hrpt-e1 parent 1: classid 1:10 htb rate 1000kbit ceil 1000kbit',
    ]);
  });

  it('impair without slowed clients: builds the bridge end first (clients at full speed)', async () => {
    const runner = fakeRunner({ 'tc qdisc show dev hrpt-v1': '' });
    await network(runner).impair(0, 1000);
    expect(runner.calls.slice(0, 4)).toEqual([
      'tc -n hrpt-n1 qdisc del dev hrpt-e1 root',
      'tc qdisc show dev hrpt-v1',
      'tc qdisc del dev hrpt-v1 root',
      'tc qdisc add dev hrpt-v1 root handle 1: htb default 20',
    ]);
    expect(runner.calls).toContain(
      'tc class add dev hrpt-v1 parent 1: classid 1:10 htb rate 10000000kbit ceil 10000000kbit',
    );
    expect(runner.calls.at(-1)).toBe(
      'tc -n hrpt-n1 class add dev hrpt-e1 parent 1: classid 1:10 htb rate 1000kbit ceil 1000kbit',
    );
  });

  it('impair 0: the node end removed, the other traffic back to 10gbit where a root is', async () => {
    const runner = fakeRunner({ 'tc qdisc show dev hrpt-v1': 'qdisc htb 1: root' });
    await network(runner).impair(0, 0);
    expect(runner.calls).toEqual([
      'tc -n hrpt-n1 qdisc del dev hrpt-e1 root',
      'tc qdisc show dev hrpt-v1',
      'tc class change dev hrpt-v1 parent 1: classid 1:20 htb rate 10gbit',
    ]);
    const bare = fakeRunner({ 'tc qdisc show dev hrpt-v1': '' });
    await network(bare).impair(0, 0);
    expect(bare.calls).toHaveLength(2);
  });
});
