import { spawn } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isStoreError, openStore, type Store, type StoreError } from '../../../core/store/index.ts';
import { openLowdbStore, type LowdbStore, type LowdbStoreOptions } from '../../../core/store/drivers/lowdb-driver.ts';
import { encodeRecord, nodeJournalIo, type JournalIo } from '../../../core/store/drivers/journal.ts';
import type { Mutation } from '../../../core/store/drivers/kv-state.ts';
import { runStoreContract } from './store-contract.ts';

const root = await fsp.mkdtemp(join(tmpdir(), 'wheelhouse-store-'));
let n = 0;
const newPath = () => join(root, `s${++n}`, 'store.json');
afterAll(() => fsp.rm(root, { recursive: true, force: true }));

runStoreContract('lowdb', () => openStore(`lowdb:${newPath()}`));

async function openAt(path: string, opts?: LowdbStoreOptions): Promise<LowdbStore> {
  return openLowdbStore(path, opts);
}

async function openError(path: string): Promise<StoreError> {
  try {
    const s = await openLowdbStore(path);
    await s.close();
  } catch (e) {
    return e as StoreError;
  }
  throw new Error('store opened, expected an error');
}

/** The bytes of every store file in the directory, to check a failed open left them alone. */
async function filesOf(path: string): Promise<Record<string, string>> {
  const dir = join(path, '..');
  const out: Record<string, string> = {};
  for (const f of await fsp.readdir(dir)) out[f] = (await fsp.readFile(join(dir, f))).toString('base64');
  return out;
}

/** Copies the store files as they are now: the image a crash at this moment would leave. */
async function crashImage(path: string): Promise<string> {
  const to = newPath();
  await fsp.mkdir(join(to, '..'), { recursive: true });
  for (const suffix of ['', '.journal', '.journal.old']) {
    await fsp.copyFile(path + suffix, to + suffix).catch(() => undefined);
  }
  return to;
}

/** Runs lowdb-crash-child.ts on `path` and SIGKILLs it once it printed `killAfter` acknowledgements. */
async function runAndKill(path: string, round: number, killAfter: number, mode: string): Promise<string[]> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'lowdb-crash-child.ts'), path, '20', String(round), mode],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`crash child made no progress: ${stderr}`));
    }, 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').length > killAfter) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        res();
      }
    });
    child.on('exit', () => rej(new Error(`crash child exited early: ${stderr}`)));
  });
  await exited;
  return out.split('\n').filter((l) => /^-?\/crash\/\d+\/\d+\/\d+ \d+$/.test(l));
}

/** Every write the child printed as acknowledged is in the reopened store. */
async function checkAcknowledged(s: Store, acks: string[], round: number): Promise<void> {
  const latest = new Map<string, number>();
  const deleted = new Set<string>();
  let maxRev = 0;
  for (const line of acks) {
    const [k, r] = line.split(' ') as [string, string];
    maxRev = Math.max(maxRev, Number(r));
    if (k.startsWith('-')) deleted.add(k.slice(1));
    else latest.set(k, Math.max(latest.get(k) ?? 0, Number(r)));
  }
  expect(s.currentRevision()).toBeGreaterThanOrEqual(maxRev);
  const ackCount = (k: string) => acks.filter((l) => l.startsWith(k + ' ')).length;
  for (const [key, rev] of latest) {
    if (deleted.has(key)) continue;
    try {
      expect((await s.get(key)).modRevision).toBeGreaterThanOrEqual(rev);
    } catch (e) {
      if (!isStoreError(e, 'NotFound')) throw e;
      // only an unacknowledged delete may have removed it; the child issues it after /w/(n+2) is fully written
      const [, , , w, num] = key.split('/');
      expect(ackCount(`/crash/${round}/${w}/${Number(num) + 2}`)).toBe(3);
    }
  }
  for (const key of deleted) await expect(s.get(key)).rejects.toMatchObject({ code: 'NotFound' });
}

const journalLines = (path: string) => readFileSync(path + '.journal', 'utf8').split('\n').filter(Boolean);

describe('lowdb driver: durability', () => {
  it('keeps data, revisions and history position across close and reopen', async () => {
    const path = newPath();
    const s = await openAt(path);
    const a = await s.create('/a', { v: 1 });
    await s.create('/b', { v: 2 });
    await s.update('/a', { v: 3 }, a.modRevision);
    await s.delete('/b');
    await s.close();
    const s2 = await openAt(path);
    expect(s2.currentRevision()).toBe(4);
    expect(await s2.get('/a')).toEqual({ key: '/a', value: { v: 3 }, createRevision: 1, modRevision: 3 });
    await expect(s2.get('/b')).rejects.toMatchObject({ code: 'NotFound' });
    expect((await s2.create('/c', {})).modRevision).toBe(5);
    // history after a restart starts at the recovered revision
    expect(() => s2.watch('', 3, () => undefined)).toThrow(expect.objectContaining({ code: 'Compacted' }));
    await s2.close();
    // the snapshot is lowdb's JSON file in the documented shape
    const snap = JSON.parse(await fsp.readFile(path, 'utf8'));
    expect(snap).toMatchObject({ revision: 5, compactRevision: expect.any(Number), kvs: { '/a': { value: { v: 3 }, createRevision: 1, modRevision: 3 } } });
  });

  it('recovers acknowledged writes from the journal alone (no close, no fold)', async () => {
    const path = newPath();
    const s = await openAt(path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => s.create(`/k/${i}`, { i })));
    await s.update('/k/7', { i: 70 }, 0);
    const image = await crashImage(path);
    await s.close();
    const r = await openAt(image);
    expect(r.currentRevision()).toBe(51);
    expect((await r.get('/k/7')).value).toEqual({ i: 70 });
    expect((await r.list('/k/')).items).toHaveLength(50);
    // replayed journal records are watch history
    const seen: number[] = [];
    r.watch('/k/7', 0 + 50, (ev) => seen.push(ev.kv.modRevision));
    await new Promise((res) => setTimeout(res, 10));
    expect(seen).toEqual([51]);
    await r.close();
  });

  it('survives kill -9 in the middle of concurrent writes and folds, again and again', async () => {
    const path = newPath();
    await fsp.mkdir(join(path, '..'), { recursive: true });
    for (const [round, killAfter, mode] of [
      [1, 1500, 'fold-when-due'],
      [2, 700, 'fold-loop'],
      [3, 2200, 'fold-loop'],
      [4, 1100, 'fold-loop'],
    ] as const) {
      const acks = await runAndKill(path, round, killAfter, mode);
      expect(acks.length).toBeGreaterThanOrEqual(killAfter);
      const s = await openAt(path);
      await checkAcknowledged(s, acks, round);
      await s.close();
    }
  }, 45_000);

  it('cuts a torn last journal line (a write that was never acknowledged)', async () => {
    const path = newPath();
    const s = await openAt(path);
    for (let i = 0; i < 3; i++) await s.create(`/k/${i}`, { i });
    const image = await crashImage(path);
    await s.close();
    const good = (await fsp.stat(image + '.journal')).size;
    await fsp.appendFile(image + '.journal', '3a4f0b1c {"r":4,"b":4,"t":"c","k":"/k/3","v":{"i"');
    const r = await openAt(image);
    expect(r.currentRevision()).toBe(3);
    expect((await fsp.stat(image + '.journal')).size).toBe(good);
    expect((await r.create('/k/3', { i: 3 })).modRevision).toBe(4);
    const image2 = await crashImage(image);
    await r.close();
    const r2 = await openAt(image2);
    expect((await r2.get('/k/3')).value).toEqual({ i: 3 });
    await r2.close();
  });

  it('drops the torn remainder of the last batch, even past a damaged line', async () => {
    const path = newPath();
    const s = await openAt(path);
    await s.create('/first', {});
    await Promise.all(Array.from({ length: 5 }, (_, i) => s.create(`/batch/${i}`, { i }))); // one batch: revisions 2..6
    const image = await crashImage(path);
    await s.close();
    const lines = journalLines(image);
    expect(lines.map((l) => JSON.parse(l.slice(9)).b)).toEqual([1, 2, 2, 2, 2, 2]);
    lines[3] = lines[3]!.replace('"i":2', '"i":9'); // a page of the unfinished batch never reached the disk
    await fsp.writeFile(image + '.journal', lines.join('\n') + '\n');
    const r = await openAt(image);
    expect(r.currentRevision()).toBe(3);
    expect((await r.list('/batch/')).items.map((i) => i.key)).toEqual(['/batch/0', '/batch/1']);
    await r.close();
  });

  it('refuses to start on a damaged record in the middle, naming it, and changes no file', async () => {
    const path = newPath();
    const s = await openAt(path);
    for (let i = 0; i < 10; i++) await s.create(`/k/${i}`, { i }); // one batch per write
    const image = await crashImage(path);
    await s.close();
    const lines = journalLines(image);
    lines[2] = lines[2]!.replace('"i":2', '"i":7');
    await fsp.writeFile(image + '.journal', lines.join('\n') + '\n');
    const before = await filesOf(image);
    const err = await openError(image);
    expect(err.code).toBe('Corrupt');
    expect(err.message).toContain(image + '.journal');
    expect(err.message).toMatch(/line 3 \(byte offset \d+\): checksum mismatch/);
    expect(err.message).toMatch(/no file was changed/);
    expect(await filesOf(image)).toEqual(before);
  });

  it('refuses to start on a damaged snapshot, naming it, and changes no file', async () => {
    const path = newPath();
    const s = await openAt(path);
    await s.create('/a', { v: 1 });
    await s.close();
    const text = await fsp.readFile(path, 'utf8');
    await fsp.writeFile(path, text.replace('"createRevision"', '"createRevision'));
    await fsp.appendFile(path + '.journal', 'keep me');
    const before = await filesOf(path);
    const err = await openError(path);
    expect(err.code).toBe('Corrupt');
    expect(err.message).toContain(`snapshot ${path} is damaged: not valid JSON`);
    expect(err.message).toMatch(/at line 2, byte offset \d+/);
    expect(await filesOf(path)).toEqual(before);
  });

  it('finds damage that leaves the snapshot valid JSON by its checksum', async () => {
    const path = newPath();
    const s = await openAt(path);
    await s.create('/a', { v: 'hello world' });
    await s.close();
    const text = await fsp.readFile(path, 'utf8');
    expect(text).toMatch(/},"crc32":"[0-9a-f]{8}"}\n$/);
    await fsp.writeFile(path, text.replace('hello world', 'hello#world'));
    const before = await filesOf(path);
    const err = await openError(path);
    expect(err.code).toBe('Corrupt');
    expect(err.message).toContain(`snapshot ${path} is damaged: checksum mismatch`);
    expect(await filesOf(path)).toEqual(before);
    // A snapshot from before the checksum (no trailer) still opens.
    await fsp.writeFile(path, text.replace(/,"crc32":"[0-9a-f]{8}"}\n$/, '}\n'));
    await fsp.rm(path + '.journal', { force: true });
    const again = await openAt(path);
    expect((await again.get('/a'))?.value).toEqual({ v: 'hello world' });
    await again.close();
  });

  it('refuses a journal whose revisions do not follow the snapshot', async () => {
    const path = newPath();
    const s = await openAt(path);
    await s.create('/a', {});
    await s.create('/b', {});
    await s.close(); // snapshot at revision 2, empty journal
    const m: Mutation = { type: 'ADDED', key: '/c', revision: 5, entry: { value: {}, createRevision: 5, modRevision: 5 } };
    await fsp.writeFile(path + '.journal', encodeRecord(m, 5));
    const before = await filesOf(path);
    const err = await openError(path);
    expect(err.code).toBe('Corrupt');
    expect(err.message).toMatch(/does not follow the snapshot: .*store\.json is at revision 2, but the next record, .*\.journal line 1 .* has revision 5/);
    expect(await filesOf(path)).toEqual(before);
  });

  it('refuses a journal record that does not fit the state (update of a missing key)', async () => {
    const path = newPath();
    const s = await openAt(path);
    await s.close();
    const m: Mutation = { type: 'MODIFIED', key: '/ghost', revision: 1, entry: { value: {}, createRevision: 1, modRevision: 1 } };
    await fsp.writeFile(path + '.journal', encodeRecord(m, 1));
    const err = await openError(path);
    expect(err.code).toBe('Corrupt');
    expect(err.message).toMatch(/line 1 .*cannot update \/ghost: not found/);
  });
});

describe('lowdb driver: folding', () => {
  it('fold writes the snapshot, empties the journal, and reopens to the same state', async () => {
    const path = newPath();
    const s = await openAt(path);
    for (let i = 0; i < 20; i++) await s.create(`/k/${i}`, { i });
    await s.fold();
    expect((await fsp.stat(path + '.journal')).size).toBe(0);
    await fsp.access(path + '.journal.old').then(
      () => expect.fail('.journal.old left behind'),
      () => undefined,
    );
    expect(JSON.parse(await fsp.readFile(path, 'utf8')).revision).toBe(20);
    await s.delete('/k/3');
    const image = await crashImage(path);
    await s.close();
    const r = await openAt(image);
    expect(r.currentRevision()).toBe(21);
    expect((await r.list('/k/')).items).toHaveLength(19);
    await r.close();
  });

  it('writes go on while folding, and all of them survive', async () => {
    const path = newPath();
    const s = await openAt(path, { foldMinBytes: 4096 }); // folds many times along the way
    const pad = 'x'.repeat(1000);
    await Promise.all(
      Array.from({ length: 10 }, async (_, w) => {
        for (let i = 0; i < 40; i++) await s.create(`/w/${w}/${i}`, { w, i, pad });
      }),
    );
    const fold = s.fold();
    const during = await Promise.all(Array.from({ length: 20 }, (_, i) => s.create(`/during/${i}`, { i })));
    await fold;
    expect(during.map((kv) => kv.modRevision).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => 401 + i));
    const image = await crashImage(path);
    await s.close();
    const r = await openAt(image);
    expect(r.currentRevision()).toBe(420);
    expect((await r.list('/w/')).items).toHaveLength(400);
    expect((await r.list('/during/')).items).toHaveLength(20);
    await r.close();
  });

  it('recovers from a crash at each step of a fold', async () => {
    const path = newPath();
    const s = await openAt(path);
    for (let i = 1; i <= 5; i++) await s.create(`/k/${i}`, { i });
    await s.fold(); // snapshot at 5
    for (let i = 6; i <= 9; i++) await s.create(`/k/${i}`, { i });
    const beforeFold = await crashImage(path); // snapshot 5, journal 6..9
    await s.fold(); // snapshot 9
    const afterFold = await crashImage(path); // snapshot 9, empty journal
    await s.close();

    // 1. journal rotated, new snapshot not written yet: snapshot 5 + .journal.old 6..9 + empty journal
    await fsp.rename(beforeFold + '.journal', beforeFold + '.journal.old');
    await fsp.writeFile(beforeFold + '.journal', '');
    const r1 = await openAt(beforeFold);
    expect(r1.currentRevision()).toBe(9);
    expect((await r1.create('/k/10', {})).modRevision).toBe(10);
    await r1.close();
    const again = await openAt(beforeFold); // close folded and removed .journal.old
    expect(again.currentRevision()).toBe(10);
    await fsp.access(beforeFold + '.journal.old').then(() => expect.fail('.journal.old left behind'), () => undefined);
    await again.close();

    // 2. new snapshot in place, .journal.old not yet removed: its records are all <= 9, skipped
    const m = (r: number): Mutation => ({ type: 'ADDED', key: `/k/${r}`, revision: r, entry: { value: { i: r }, createRevision: r, modRevision: r } });
    await fsp.writeFile(afterFold + '.journal.old', [6, 7, 8, 9].map((r) => encodeRecord(m(r), 6)).join(''));
    await fsp.writeFile(afterFold + '.journal', encodeRecord(m(10), 10));
    await fsp.writeFile(join(afterFold, '..', '.store.json.tmp'), '{"half a snap');
    const r2 = await openAt(afterFold);
    expect(r2.currentRevision()).toBe(10);
    expect((await r2.list('/k/')).items).toHaveLength(10);
    await fsp.access(join(afterFold, '..', '.store.json.tmp')).then(() => expect.fail('temp snapshot left behind'), () => undefined);
    await r2.close();
  });
});

describe('lowdb driver: IO failures', () => {
  function faultyIo() {
    const f = { failWrite: 0, partialWrite: 0, failSync: 0 };
    const io: JournalIo = {
      async write(fh, buf, pos) {
        if (f.partialWrite > 0) {
          f.partialWrite--;
          await nodeJournalIo.write(fh, buf.subarray(0, buf.length >> 1), pos);
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        if (f.failWrite > 0) {
          f.failWrite--;
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        return nodeJournalIo.write(fh, buf, pos);
      },
      async datasync(fh) {
        if (f.failSync > 0) {
          f.failSync--;
          throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
        }
        return nodeJournalIo.datasync(fh);
      },
      truncate: nodeJournalIo.truncate,
    };
    return { f, io };
  }

  it('a failed write rejects with IO, is not visible, and the store carries on', async () => {
    const path = newPath();
    const { f, io } = faultyIo();
    const s = await openAt(path, { io });
    const events: number[] = [];
    s.watch('', 0, (ev) => events.push(ev.kv.modRevision));
    await s.create('/ok', { v: 1 });
    f.partialWrite = 1; // half the batch reaches the file, then the disk is full
    const failed = await Promise.allSettled([s.create('/lost', {}), s.update('/ok', { v: 2 }, 1), s.create('/lost2', {})]);
    for (const r of failed) {
      expect(r.status).toBe('rejected');
      expect(isStoreError((r as PromiseRejectedResult).reason, 'IO')).toBe(true);
      expect((r as PromiseRejectedResult).reason.message).toMatch(/store\.json\.journal failed \(ENOSPC\)/);
    }
    expect(s.currentRevision()).toBe(1);
    await expect(s.get('/lost')).rejects.toMatchObject({ code: 'NotFound' });
    expect((await s.get('/ok')).value).toEqual({ v: 1 });
    // planning starts again from the durable state
    f.failWrite = 1;
    await expect(s.create('/lost', {})).rejects.toMatchObject({ code: 'IO' });
    expect((await s.create('/lost', { again: true })).modRevision).toBe(2);
    expect((await s.update('/ok', { v: 3 }, 1)).modRevision).toBe(3);
    await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual([1, 2, 3]);
    const image = await crashImage(path);
    await s.close();
    const r = await openAt(image); // the half-written batch was cut away: the journal is clean
    expect(r.currentRevision()).toBe(3);
    expect((await r.get('/ok')).value).toEqual({ v: 3 });
    await r.close();
  });

  it('after a failed fsync every write fails until the store is reopened', async () => {
    const path = newPath();
    const { f, io } = faultyIo();
    const s = await openAt(path, { io });
    await s.create('/a', {});
    f.failSync = 1;
    await expect(s.create('/b', {})).rejects.toMatchObject({ code: 'IO' });
    await expect(s.create('/c', {})).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(/EIO/) });
    await expect(s.get('/b')).rejects.toMatchObject({ code: 'NotFound' });
    await s.close();
    const r = await openAt(path);
    expect(r.currentRevision()).toBe(1);
    expect((await r.create('/c', {})).modRevision).toBe(2);
    await r.close();
  });
});

describe('lowdb driver: one process per store', () => {
  it('refuses a second open while the store is open, and takes over a dead owner\'s lock', async () => {
    const path = newPath();
    const s = await openAt(path);
    await expect(openAt(path)).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(/in use by process \d+/) });
    await s.close();
    await fsp.writeFile(path + '.lock', '999999999\n'); // a pid that cannot be running
    const r = await openAt(path);
    await r.close();
    await fsp.access(path + '.lock').then(() => expect.fail('lock left behind'), () => undefined);
  });
});

describe('lowdb driver: URLs', () => {
  it('opens lowdb:<path> and lowdb:///<abs path>', async () => {
    const p1 = newPath();
    const a: Store = await openStore(`lowdb:${p1}`);
    await a.create('/x', {});
    await a.close();
    const b = await openStore(`lowdb://${p1}`);
    expect(b.currentRevision()).toBe(1);
    await b.close();
  });
});
