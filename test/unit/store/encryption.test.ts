/**
 * Secrets encrypted at rest: the EncryptingStore over memory and lowdb, and the key file.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, type Store, type StoreError, type WatchEvent } from '../../../core/store/index.ts';
import { openLowdbStore, type LowdbStore } from '../../../core/store/drivers/lowdb-driver.ts';
import { ENCRYPTED_FIELD, EncryptingStore, SECRETS_PREFIX } from '../../../core/store/encryption.ts';
import { fileKeyProvider, type KeyProvider } from '../../../core/store/key-provider.ts';
import { lookupKind, storageKey } from '../../../core/api/kinds.ts';
import { runStoreContract } from './store-contract.ts';

const root = await fsp.mkdtemp(join(tmpdir(), 'wheelhouse-enc-'));
let n = 0;
const newDir = async () => {
  const d = join(root, `d${++n}`);
  await fsp.mkdir(d, { recursive: true, mode: 0o700 });
  return d;
};
afterAll(() => fsp.rm(root, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

// Every key encrypted: the wrapper must be invisible to the whole store contract.
runStoreContract('encrypting (memory, every key)', async () => new EncryptingStore(new MemoryStore(), randomBytes(32), 'test key', { prefixes: [''] }));

const VALUE = 'hunter2-correct-horse-battery';
const B64 = Buffer.from(VALUE).toString('base64');
const KEY = `${SECRETS_PREFIX}default/db`;

function secret(name: string, value = VALUE): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'Opaque', data: { password: Buffer.from(value).toString('base64') } };
}

function fixedKey(key: Buffer, name = 'test key'): KeyProvider {
  return { name, load: async () => key };
}

/** Every file in `dir` (recursively), as text. */
async function filesIn(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) {
      const p = join(e.parentPath, e.name);
      out.set(p, await fsp.readFile(p, 'latin1'));
    }
  }
  return out;
}

async function filesContaining(dir: string, ...needles: string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const [p, text] of await filesIn(dir)) if (needles.some((s) => text.includes(s))) hits.push(p);
  return hits;
}

async function openEncrypted(dir: string, keys: KeyProvider = fileKeyProvider(dir)): Promise<EncryptingStore> {
  return EncryptingStore.open(await openLowdbStore(join(dir, 'store.json')), keys);
}

async function corruptError(p: Promise<unknown>): Promise<StoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e as StoreError,
  );
  expect(err?.code, String(err)).toBe('Corrupt');
  return err!;
}

describe('EncryptingStore', () => {
  it('covers exactly where the API server stores Secrets', () => {
    expect(storageKey(lookupKind('v1', 'Secret')!, 'default', 'db')).toBe(KEY);
    expect(storageKey(lookupKind('v1', 'ConfigMap')!, 'default', 'db').startsWith(SECRETS_PREFIX)).toBe(false);
  });

  it('round-trips Secrets through get, list and watch (prev included); other kinds stay plaintext', async () => {
    const inner = new MemoryStore();
    const s = new EncryptingStore(inner, randomBytes(32), 'test key');
    const events: WatchEvent[] = [];
    s.watch(SECRETS_PREFIX, 0, (ev) => events.push(ev));
    const created = await s.create(KEY, secret('db'));
    expect(created.value).toEqual(secret('db'));
    const updated = await s.update(KEY, secret('db', 'rotated'), created.modRevision);
    await s.create('/registry/core/configmaps/default/c', { data: { a: 'plain' } });
    expect((await s.get(KEY)).value).toEqual(secret('db', 'rotated'));
    expect((await s.list(SECRETS_PREFIX)).items.map((kv) => kv.value)).toEqual([secret('db', 'rotated')]);
    expect((await s.list('/registry/')).items.map((kv) => kv.key)).toEqual(['/registry/core/configmaps/default/c', KEY]);
    // Underneath: the envelope only; the ConfigMap as it was.
    const raw = (await inner.list('/registry/')).items;
    expect(raw.map((kv) => Object.keys(kv.value))).toEqual([['data'], [ENCRYPTED_FIELD]]);
    expect(JSON.stringify(raw)).not.toContain('cm90YXRlZA'); // base64 of "rotated"
    const deleted = await s.delete(KEY);
    expect(deleted.value).toEqual(secret('db', 'rotated'));

    expect(events.map((e) => [e.type, e.kv.value, e.prev?.value])).toEqual([
      ['ADDED', secret('db'), undefined],
      ['MODIFIED', secret('db', 'rotated'), secret('db')],
      ['DELETED', secret('db', 'rotated'), secret('db', 'rotated')],
    ]);
    expect(events[1]!.kv.modRevision).toBe(updated.modRevision);
  });

  it('uses a fresh nonce for every write: the same value never gives the same ciphertext', async () => {
    const inner = new MemoryStore();
    const s = new EncryptingStore(inner, randomBytes(32), 'test key');
    const a = await s.create(KEY, secret('db'));
    await s.update(KEY, secret('db'), a.modRevision);
    await s.create(`${SECRETS_PREFIX}default/db2`, secret('db'));
    const envelopes = new Set<unknown>();
    const first = (await inner.list(SECRETS_PREFIX)).items.map((kv) => kv.value[ENCRYPTED_FIELD]);
    envelopes.add(first[0]).add(first[1]);
    expect(String(first[0])).toMatch(/^k8s:enc:aesgcm:v1:[0-9a-f]{8}:[A-Za-z0-9+/]+=*$/);
    const before = (await inner.get(KEY)).value[ENCRYPTED_FIELD];
    await s.update(KEY, secret('db'), 0);
    envelopes.add(before).add((await inner.get(KEY)).value[ENCRYPTED_FIELD]);
    expect(envelopes.size).toBe(3);
  });

  it('leaves no plaintext of a Secret in the lowdb snapshot or journal', async () => {
    const dir = await newDir();
    const s = await openEncrypted(dir);
    const c = await s.create(KEY, secret('db'));
    await s.update(KEY, { ...secret('db'), metadata: { name: 'db', namespace: 'default', labels: { v: '2' } } }, c.modRevision);
    await s.create(`${SECRETS_PREFIX}default/gone`, secret('gone'));
    await s.delete(`${SECRETS_PREFIX}default/gone`);
    await s.create('/registry/core/configmaps/default/c', { data: { canary: 'visible-canary' } });
    // The journal, while running …
    expect(await filesContaining(dir, 'visible-canary')).not.toEqual([]); // the grep does see plaintext
    expect(await filesContaining(dir, VALUE, B64)).toEqual([]);
    await (s.inner as LowdbStore).fold();
    await s.create(`${SECRETS_PREFIX}default/after-fold`, secret('after-fold'));
    expect(await filesContaining(dir, VALUE, B64)).toEqual([]);
    // … and the snapshot after close.
    await s.close();
    expect(await filesContaining(dir, VALUE, B64)).toEqual([]);
    const again = await openEncrypted(dir);
    expect((await again.get(KEY)).value.data).toEqual({ password: B64 });
    await again.close();
  });

  it('encrypts Secrets stored in plaintext before, once, at start-up, and purges them from the files', async () => {
    const dir = await newDir();
    const plain = await openLowdbStore(join(dir, 'store.json'));
    await plain.create(KEY, secret('db'));
    await plain.create(`${SECRETS_PREFIX}kube-system/token`, secret('token'));
    await plain.create('/registry/core/configmaps/default/c', { data: { a: 'b' } });
    await plain.close();
    expect(await filesContaining(dir, B64)).not.toEqual([]);

    const lines: string[] = [];
    vi.stubEnv('WHEELHOUSE_LOG', 'info');
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (lines.push(String(chunk)), true));
    const s = await openEncrypted(dir);
    const migrated = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'encrypted Secrets that were stored in plaintext');
    expect(migrated?.count).toBe(2);
    expect((await s.get(KEY)).value).toEqual(secret('db'));
    expect((await s.inner.get(KEY)).value).toHaveProperty([ENCRYPTED_FIELD]);
    expect(await filesContaining(dir, VALUE, B64)).toEqual([]); // folded away at once, not at close
    expect(await s.migrate()).toEqual({ encrypted: 0, unreadable: [] });
    await s.close();
    expect(lines.join('')).not.toContain(B64);
  });

  it('a wrong key is a Corrupt error naming the key, never the value', async () => {
    const dir = await newDir();
    const s = await openEncrypted(dir, fixedKey(randomBytes(32), 'key A'));
    await s.create(KEY, secret('db'));
    await s.create('/registry/core/configmaps/default/c', { data: { a: 'b' } });
    await s.close();

    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (lines.push(String(chunk)), true));
    const wrong = await openEncrypted(dir, fixedKey(randomBytes(32), 'key B'));
    expect(lines.join('')).toContain(KEY); // start-up names what the key does not open
    const err = await corruptError(wrong.get(KEY));
    expect(err.key).toBe(KEY);
    expect(err.message).toContain(KEY);
    expect(err.message).toContain('encryption key does not match');
    expect(err.message).toContain('key B');
    for (const text of [err.message, err.stack ?? '', lines.join('')]) {
      expect(text).not.toContain(VALUE);
      expect(text).not.toContain(B64);
    }
    await corruptError(wrong.list(SECRETS_PREFIX)); // like kube-apiserver: the list fails as a whole
    expect((await wrong.get('/registry/core/configmaps/default/c')).value).toEqual({ data: { a: 'b' } });
    expect(await wrong.migrate()).toEqual({ encrypted: 0, unreadable: [KEY] });
    await wrong.close();

    // The key is lost for good: the way out deletes what it encrypted, and nothing else.
    vi.stubEnv('WHEELHOUSE_DELETE_UNREADABLE_SECRETS', '1');
    const fresh = await openEncrypted(dir, fixedKey(randomBytes(32), 'key C'));
    await expect(fresh.get(KEY)).rejects.toMatchObject({ code: 'NotFound' });
    expect((await fresh.get('/registry/core/configmaps/default/c')).value).toEqual({ data: { a: 'b' } });
    await fresh.create(KEY, secret('db', 'recreated'));
    expect((await fresh.get(KEY)).value).toEqual(secret('db', 'recreated'));
    await fresh.close();
  });

  it('a ciphertext moved to another key, or altered, fails authentication', async () => {
    const inner = new MemoryStore();
    const s = new EncryptingStore(inner, randomBytes(32), 'test key');
    await s.create(KEY, secret('db'));
    const envelope = (await inner.get(KEY)).value;
    const other = `${SECRETS_PREFIX}default/other`;
    await inner.create(other, envelope);
    const moved = await corruptError(s.get(other));
    expect(moved.message).toContain(other);
    expect(moved.message).toMatch(/authentication failed/);

    const text = String(envelope[ENCRYPTED_FIELD]);
    const body = Buffer.from(text.slice(text.lastIndexOf(':') + 1), 'base64');
    body[20]! ^= 1;
    await inner.update(KEY, { [ENCRYPTED_FIELD]: text.slice(0, text.lastIndexOf(':') + 1) + body.toString('base64') }, 0);
    await corruptError(s.get(KEY));
    // A watch skips what it cannot open (and says so) instead of handing out garbage.
    const seen: WatchEvent[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    s.watch(SECRETS_PREFIX, 0, (ev) => seen.push(ev));
    await inner.update(other, envelope, 0);
    await s.create(`${SECRETS_PREFIX}default/fine`, secret('fine'));
    expect(seen.map((e) => e.kv.key)).toEqual([`${SECRETS_PREFIX}default/fine`]);
  });
});

describe('key file (headless)', () => {
  it('is created 0600 with 32 random bytes on first start, and reused across restarts', async () => {
    const dir = await newDir();
    const s = await openEncrypted(dir);
    await s.create(KEY, secret('db'));
    await s.close();
    const path = join(dir, 'encryption-key');
    const st = await fsp.stat(path);
    if (process.platform !== 'win32') expect(st.mode & 0o777).toBe(0o600);
    const text = await fsp.readFile(path, 'utf8');
    expect(Buffer.from(text.trim(), 'base64')).toHaveLength(32);
    expect((await fsp.readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);

    const again = await openEncrypted(dir);
    expect((await again.get(KEY)).value).toEqual(secret('db'));
    await again.close();
    expect(await fsp.readFile(path, 'utf8')).toBe(text);
    expect(await fileKeyProvider(dir).load()).toEqual(Buffer.from(text.trim(), 'base64'));
  });

  it('refuses a malformed key file, naming the file and not its content', async () => {
    const dir = await newDir();
    const path = join(dir, 'encryption-key');
    for (const content of ['not base64 at all!\n', Buffer.alloc(16, 7).toString('base64'), '']) {
      await fsp.writeFile(path, content, { mode: 0o600 });
      const err = await fileKeyProvider(dir).load().then(() => undefined, (e: Error) => e);
      expect(err?.message).toContain(path);
      expect(err?.message).toMatch(/malformed/);
      if (content.trim()) expect(err?.message).not.toContain(content.trim());
    }
    // Through open: the store is closed again (its lock released), so a retry can open it.
    await expect(openEncrypted(dir)).rejects.toThrow(path);
    await fsp.writeFile(path, randomBytes(32).toString('base64'));
    await (await openEncrypted(dir)).close();
  });

  it.skipIf(process.platform === 'win32')('refuses a key file other users can read', async () => {
    const dir = await newDir();
    await (await openEncrypted(dir)).close();
    const path = join(dir, 'encryption-key');
    await fsp.chmod(path, 0o644);
    await expect(fileKeyProvider(dir).load()).rejects.toThrow(`chmod 600 ${path}`);
  });

  it('will not make a new key where the desktop app sealed one in the OS keychain', async () => {
    const dir = await newDir();
    await fsp.writeFile(join(dir, 'encryption-key.safe'), randomBytes(64));
    await expect(fileKeyProvider(dir).load()).rejects.toThrow(join(dir, 'encryption-key.safe'));
    await expect(fsp.access(join(dir, 'encryption-key'))).rejects.toThrow();
  });
});

describe('EncryptingStore over lowdb with every key encrypted', () => {
  let store: Store | undefined;
  afterEach(async () => store?.close());
  it('survives a restart with every value encrypted', async () => {
    const dir = await newDir();
    const key = fixedKey(randomBytes(32));
    const open = async () => new EncryptingStore(await openLowdbStore(join(dir, 'store.json')), await key.load(), key.name, { prefixes: [''] });
    store = await open();
    await store.create('/a', { v: VALUE });
    await store.close();
    expect(await filesContaining(dir, VALUE)).toEqual([]);
    store = await open();
    expect((await store.get('/a')).value).toEqual({ v: VALUE });
  });
});
