/**
 * The engine's reachability: once a connection failure has shown the engine lost, answers to
 * ordinary requests (a stopping engine still answers those on connections it already has) do
 * not bring it back — only a ping does, and not while its socket file is missing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { Engine } from '../../../core/runtime/docker/engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'wh-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const gone = () => Object.assign(new Error('connect ENOENT /x.sock'), { code: 'ENOENT' });

function engineWith(socketPath: string, pingOk: () => boolean) {
  const docker = { ping: async () => { if (!pingOk()) throw gone(); return 'OK'; } } as unknown as Docker;
  const e = new Engine(docker, { url: `unix://${socketPath}`, socketPath, source: 'test' }, { minBackoffMs: 10_000, maxBackoffMs: 10_000, healthIntervalMs: 60_000 });
  const seen: boolean[] = [];
  e.onAvailabilityChange((up) => seen.push(up));
  return { e, seen };
}

describe('Engine availability', () => {
  it('stays down on answers to ordinary requests after a connection failure; a ping brings it back', async () => {
    const sock = join(dir, 'a.sock');
    writeFileSync(sock, '');
    let pingOk = true;
    const { e, seen } = engineWith(sock, () => pingOk);
    await e.call(async () => 'first answer');
    expect(e.isAvailable()).toBe(true);
    // A request in flight when the engine goes: its answer comes after another request failed.
    let answer!: (v: string) => void;
    const inFlight = e.call(() => new Promise<string>((r) => (answer = r)));
    await expect(e.call(async () => { throw gone(); })).rejects.toThrow(/cannot reach the Docker engine/);
    expect(e.isAvailable()).toBe(false);
    answer('late answer');
    await inFlight;
    await e.call(async () => 'another answer');
    await expect(e.call(async () => { throw Object.assign(new Error('(HTTP code 500) server error'), { statusCode: 500 }); })).rejects.toThrow();
    expect(e.isAvailable(), 'answers while lost do not count').toBe(false);
    pingOk = true;
    await e.ping();
    expect(e.isAvailable()).toBe(true);
    expect(seen).toEqual([false, true]);
    e.close();
  });

  it('a ping fails while the unix socket file is missing, whatever the connection pool answers', async () => {
    const sock = join(dir, 'b.sock');
    const { e } = engineWith(sock, () => true);
    await expect(e.ping()).rejects.toThrow(/ENOENT/);
    expect(e.isAvailable()).toBe(false);
    writeFileSync(sock, '');
    await e.ping();
    expect(e.isAvailable()).toBe(true);
    e.close();
  });
});
