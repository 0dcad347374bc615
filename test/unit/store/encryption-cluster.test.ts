/**
 * Secrets at rest through the whole cluster: a Secret created through the API client is nowhere in
 * the data folder in plaintext, and its value shows in no error, event or log line.
 */
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { startCluster } from '../../../core/cluster.ts';
import type { KubeObject } from '../../../core/api/types.ts';

const root = await fsp.mkdtemp(join(tmpdir(), 'wheelhouse-enc-cluster-'));
afterAll(() => fsp.rm(root, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const VALUE = 'pa55-Word-that-must-not-leak';
const B64 = Buffer.from(VALUE).toString('base64');
const SECRET = { apiVersion: 'v1', kind: 'Secret' };

async function grepDataDir(dir: string): Promise<string[]> {
  const hits: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    const text = await fsp.readFile(p, 'latin1');
    if (text.includes(VALUE) || text.includes(B64)) hits.push(p);
  }
  return hits;
}

it('a Secret created through the API is encrypted in every file of the data folder, and leaks into no message', async () => {
  const dataDir = join(root, 'data');
  vi.stubEnv('WHEELHOUSE_LOG', 'debug');
  const logs: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (logs.push(String(chunk)), true));

  let cluster = await startCluster({ dataDir, runtime: false });
  const { client } = cluster;
  await client.create({ ...SECRET, metadata: { name: 'db', namespace: 'default' }, stringData: { password: VALUE } } as KubeObject);
  await client.create({ ...SECRET, metadata: { name: 'db2', namespace: 'default' }, data: { password: B64 } } as KubeObject);
  const got = await client.get<KubeObject>({ ...SECRET, namespace: 'default', name: 'db' });
  expect(got.data).toEqual({ password: B64 });

  // Malformed Secrets: refused, with the field named and the value nowhere.
  const bad = [
    { data: { password: VALUE } },
    { data: VALUE },
    { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': B64 } },
    { type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': VALUE } },
  ];
  for (const [i, body] of bad.entries()) {
    const err = await client.create({ ...SECRET, metadata: { name: `bad-${i}`, namespace: 'default' }, ...body } as KubeObject).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, JSON.stringify(body)).toBeDefined();
    const text = `${String(err)} ${JSON.stringify(err)} ${(err as Error).stack ?? ''}`;
    expect(text).toMatch(/data/);
    for (const needle of [VALUE, B64, VALUE.slice(0, 8)]) expect(text).not.toContain(needle); // V8 quotes only a value's start
  }
  // An update that the API refuses (immutable), and a read of what is there.
  await client.patch({ ...SECRET, namespace: 'default', name: 'db2' }, 'merge', { immutable: true });
  await expect(client.patch({ ...SECRET, namespace: 'default', name: 'db2' }, 'merge', { data: { password: Buffer.from(`${VALUE}!`).toString('base64') } })).rejects.toThrow(/immutable/);

  expect(await grepDataDir(dataDir)).toEqual([]); // the journal, while running
  await cluster.stop();
  expect(await grepDataDir(dataDir)).toEqual([]); // the snapshot, after the fold on close
  const keyFile = await fsp.stat(join(dataDir, 'encryption-key'));
  if (process.platform !== 'win32') expect(keyFile.mode & 0o777).toBe(0o600);

  cluster = await startCluster({ dataDir, runtime: false });
  const again = await cluster.client.get<KubeObject>({ ...SECRET, namespace: 'default', name: 'db' });
  expect(again.data).toEqual({ password: B64 });
  const events = await cluster.client.list<KubeObject>({ apiVersion: 'v1', kind: 'Event' });
  expect(JSON.stringify(events)).not.toContain(B64);
  await cluster.stop();

  expect(logs.length).toBeGreaterThan(0); // debug logging was on
  const all = logs.join('');
  for (const needle of [VALUE, B64, VALUE.slice(0, 8)]) expect(all).not.toContain(needle);
}, 60_000);
