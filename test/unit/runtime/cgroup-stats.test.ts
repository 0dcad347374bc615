import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CgroupStats, heldCgroupFiles, keyed, parseNetDev, pick } from '../../../core/runtime/docker/cgroup-stats.ts';

const ID = 'a'.repeat(64);
let root = '';

afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function files(base: string, entries: Record<string, string>): Promise<void> {
  await mkdir(base, { recursive: true });
  for (const [name, text] of Object.entries(entries)) await writeFile(join(base, name), text);
}

describe('CgroupStats', () => {
  it('reads cgroup v2 (systemd driver): cpu ns, usage, inactive file, anon, pids', async () => {
    root = await mkdtemp(join(tmpdir(), 'wh-cg-'));
    await writeFile(join(root, 'cgroup.controllers'), 'cpu memory pids\n');
    const dir = join(root, `system.slice/docker-${ID}.scope`);
    await files(dir, {
      'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n',
      'memory.current': '10485760\n',
      'memory.stat': 'anon 4194304\nfile 6291456\ninactive_file 2097152\n',
      'pids.current': '3\n',
      'cgroup.procs': '',
    });
    const s = await new CgroupStats(root).read(ID);
    expect(s).toMatchObject({ cpuTotalNs: 1_500_000, memoryUsageBytes: 10485760, inactiveFileBytes: 2097152, rssBytes: 4194304, pids: 3 });
    expect(s!.network).toBeUndefined(); // no process: nothing to read the namespace from
  });

  it('reads cgroup v1 (cgroupfs driver) across the controllers', async () => {
    root = await mkdtemp(join(tmpdir(), 'wh-cg-'));
    await files(join(root, 'cpuacct/docker', ID), { 'cpuacct.usage': '123456789\n', 'cgroup.procs': `${process.pid}\n` });
    await files(join(root, 'memory/docker', ID), { 'memory.usage_in_bytes': '2048000\n', 'memory.stat': 'rss 100\ntotal_rss 1000000\ntotal_inactive_file 48000\ninactive_file 1\n' });
    await files(join(root, 'pids/docker', ID), { 'pids.current': '2\n' });
    const s = await new CgroupStats(root).read(ID);
    expect(s).toMatchObject({ cpuTotalNs: 123456789, memoryUsageBytes: 2048000, inactiveFileBytes: 48000, rssBytes: 1000000, pids: 2 });
    // Our own pid stands in for the container's first process: its namespace's counters are read.
    expect(s!.network).toEqual({ rxBytes: expect.any(Number), txBytes: expect.any(Number) });
  });

  it('does not keep a file whose read failed', async () => {
    root = await mkdtemp(join(tmpdir(), 'wh-cg-'));
    await files(join(root, 'cpuacct/docker', ID), { 'cpuacct.usage': '1\n', 'cgroup.procs': '' });
    await files(join(root, 'memory/docker', ID), { 'memory.usage_in_bytes': '2\n', 'memory.stat': 'total_rss 1\n' });
    // A directory opens but cannot be read (EISDIR): an optional figure that fails to read.
    await mkdir(join(root, 'pids/docker', ID, 'pids.current'), { recursive: true });
    const cg = new CgroupStats(root);
    const before = heldCgroupFiles();
    const s = await cg.read(ID);
    expect(s).toMatchObject({ cpuTotalNs: 1, memoryUsageBytes: 2 });
    expect(s!.pids).toBeUndefined();
    // cpuacct.usage, memory.usage_in_bytes, memory.stat and cgroup.procs stay open; pids.current does not.
    expect(heldCgroupFiles() - before).toBe(4);
    cg.close();
    expect(heldCgroupFiles()).toBe(before);
  });

  it('answers undefined for a container with no cgroup here (remote engine, or stopped), and looks again later', async () => {
    root = await mkdtemp(join(tmpdir(), 'wh-cg-'));
    await writeFile(join(root, 'cgroup.controllers'), '');
    const cg = new CgroupStats(root);
    expect(await cg.read(ID)).toBeUndefined();
    expect(await cg.read('not-an-id/../../etc')).toBeUndefined();
    await files(join(root, 'docker', ID), { 'cpu.stat': 'usage_usec 1\n', 'memory.current': '1\n', 'memory.stat': '' });
    expect((await cg.read(ID))?.cpuTotalNs).toBe(1000);
    // The files are kept open and read again from the start: a new figure is seen.
    await writeFile(join(root, 'docker', ID, 'cpu.stat'), 'usage_usec 22\n');
    expect((await cg.read(ID))?.cpuTotalNs).toBe(22_000);
    // Gone (forgotten when the container is removed): the files are closed, and with no cgroup
    // left the answer is undefined, not an error. (Reading a removed cgroup's open file fails in
    // the kernel: the runtime integration test checks that case on a real container.)
    const held = heldCgroupFiles();
    cg.forget(ID);
    expect(heldCgroupFiles()).toBeLessThan(held);
    await rm(join(root, 'docker', ID), { recursive: true });
    expect(await cg.read(ID)).toBeUndefined();
  });

  it('parses key-value and net/dev text', () => {
    expect(keyed('a 1\nb 22\n\n')).toEqual(new Map([['a', 1], ['b', 22]]));
    const stat = 'cache 5\nrss 7\ntotal_rss 70\ninactive_file 3\ntotal_inactive_file 30';
    expect(pick(stat, ['rss', 'total_inactive_file', 'cache', 'missing'])).toEqual(new Map([['rss', 7], ['total_inactive_file', 30], ['cache', 5]]));
    expect(pick('\nanon 1\n', ['anon'])).toEqual(new Map([['anon', 1]]));
    expect(pick('xanon 1\nanon 2\n', ['anon'])).toEqual(new Map([['anon', 2]]));
    const dev = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:  9999      10    0    0    0     0          0         0     9999      10    0    0    0     0       0          0',
      '  eth0:  1200      12    0    0    0     0          0         0      340       4    0    0    0     0       0          0',
      '  eth1:    10       1    0    0    0     0          0         0       20       1    0    0    0     0       0          0',
    ].join('\n');
    expect(parseNetDev(dev)).toEqual({ rxBytes: 1210, txBytes: 360 });
  });
});
