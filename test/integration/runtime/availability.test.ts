/**
 * The engine going away and coming back, without touching the real engine: the runtime talks to
 * it through a socket proxy that the test takes down and brings back.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../../core/runtime/docker/docker-runtime.ts';
import { LABEL, type RuntimeEvent, type RuntimeUnavailableError } from '../../../core/runtime/runtime.ts';
import { BUSYBOX, cleanupCluster, docker, requireBusybox, testCluster, waitFor } from './helpers.ts';

const cluster = testCluster('avail');
const sockPath = `/tmp/wh-rt-proxy-${randomBytes(4).toString('hex')}.sock`;

class SocketProxy {
  private server: Server | undefined;
  private readonly conns = new Set<Socket>();
  async up(): Promise<void> {
    rmSync(sockPath, { force: true });
    this.server = createServer((client) => {
      const upstream = connect('/var/run/docker.sock');
      this.conns.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.conns.delete(client);
        this.conns.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => this.server!.listen(sockPath, resolve));
  }
  async down(): Promise<void> {
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
    rmSync(sockPath, { force: true });
  }
}

const proxy = new SocketProxy();
let rt: DockerRuntime;

beforeAll(async () => {
  await requireBusybox();
  await proxy.up();
  rt = new DockerRuntime({ host: `unix://${sockPath}`, minBackoffMs: 50, maxBackoffMs: 200, healthIntervalMs: 250 });
});

afterAll(async () => {
  await rt?.close();
  await proxy.down();
  await cleanupCluster(cluster);
});

async function runOnce(name: string): Promise<string> {
  const c = await docker.createContainer({ name: `${cluster}-${name}`, Image: BUSYBOX, Cmd: ['true'], Labels: { [LABEL.cluster]: cluster } });
  await c.start();
  return c.id;
}

describe('engine availability', () => {
  it('notices the engine going away and coming back; the event stream resumes and replays what it missed', async () => {
    const changes: Array<{ up: boolean; err?: RuntimeUnavailableError }> = [];
    const unsubscribe = rt.onAvailabilityChange((up, err) => changes.push({ up, ...(err ? { err } : {}) }));
    const events: RuntimeEvent[] = [];
    const stop = rt.events((e) => events.push(e), { cluster, types: ['container'] });
    try {
      await rt.ping();
      const before = await runOnce('before');
      await waitFor('die of the first container', async () => events.some((e) => e.id === before && e.action === 'die'));

      await proxy.down();
      await waitFor('the runtime to notice', async () => changes.some((c) => !c.up), 5_000);
      const down = changes.find((c) => !c.up)!;
      expect(down.err?.message).toMatch(new RegExp(`^cannot reach the Docker engine at unix://${sockPath}: .*; is Docker running\\?$`));
      await expect(rt.listContainers({ cluster })).rejects.toMatchObject({ name: 'RuntimeUnavailableError' });

      const during = await runOnce('during'); // happens while the runtime cannot see the engine

      await proxy.up();
      await waitFor('the runtime to see the engine again', async () => changes.at(-1)?.up === true, 5_000);
      expect(changes.map((c) => c.up)).toEqual([false, true]);
      await waitFor('the missed die event to be replayed', async () => events.some((e) => e.id === during && e.action === 'die'), 5_000);

      const after = await runOnce('after');
      await waitFor('a live event after reconnecting', async () => events.some((e) => e.id === after && e.action === 'die'), 5_000);
      // No duplicates from the replay.
      const dies = events.filter((e) => e.action === 'die').map((e) => e.id);
      expect(dies).toEqual([before, during, after]);
      expect((await rt.listContainers({ cluster })).length).toBe(0); // not Wheelhouse containers (no type label)
    } finally {
      stop();
      unsubscribe();
    }
  });
});
