/**
 * The store contract: one suite every driver must pass (memory, lowdb, and etcd when it comes).
 * `open` returns a fresh, empty store each time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isStoreError, type Store, type StoreErrorCode, type WatchEvent } from '../../../core/store/store.ts';

async function expectCode(p: Promise<unknown> | (() => unknown), code: StoreErrorCode): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(isStoreError(err), `expected StoreError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
}

/** Collects a watch's events; `until(n)` waits for at least n of them. */
function collect(store: Store, prefix: string, from: number) {
  const events: WatchEvent[] = [];
  const watcher = store.watch(prefix, from, (ev) => events.push(ev));
  return {
    events,
    watcher,
    async until(n: number, timeoutMs = 2000): Promise<WatchEvent[]> {
      const t0 = Date.now();
      while (events.length < n) {
        if (Date.now() - t0 > timeoutMs) throw new Error(`waited for ${n} events, got ${events.length}`);
        await new Promise((r) => setTimeout(r, 2));
      }
      return events;
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

export function runStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`store contract: ${name}`, () => {
    const opened: Store[] = [];
    const fresh = async () => {
      const s = await open();
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    });

    it('starts empty at revision 0', async () => {
      const s = await fresh();
      expect(s.currentRevision()).toBe(0);
      expect(s.compactedRevision()).toBe(0);
      expect(await s.list('')).toEqual({ items: [], revision: 0, more: false });
    });

    it('revisions strictly increase across create, update and delete', async () => {
      const s = await fresh();
      const a = await s.create('/a', { n: 1 });
      expect(a).toEqual({ key: '/a', value: { n: 1 }, createRevision: 1, modRevision: 1 });
      const b = await s.create('/b', { n: 2 });
      const a2 = await s.update('/a', { n: 3 }, a.modRevision);
      const d = await s.delete('/b');
      const revs = [a.modRevision, b.modRevision, a2.modRevision, d.modRevision];
      expect(revs).toEqual([1, 2, 3, 4]);
      expect(a2.createRevision).toBe(1);
      expect(s.currentRevision()).toBe(4);
    });

    it('get, create, update and delete report typed errors', async () => {
      const s = await fresh();
      await expectCode(s.get('/missing'), 'NotFound');
      await s.create('/x', { v: 1 });
      await expectCode(s.create('/x', { v: 2 }), 'AlreadyExists');
      await expectCode(s.update('/missing', { v: 1 }, 0), 'NotFound');
      await expectCode(s.delete('/missing'), 'NotFound');
      expect((await s.get('/x')).value).toEqual({ v: 1 });
      // failed writes do not move the revision
      expect(s.currentRevision()).toBe(1);
    });

    it('a stale update or delete is a Conflict; expectedRevision 0 means any', async () => {
      const s = await fresh();
      const v1 = await s.create('/x', { v: 1 });
      const v2 = await s.update('/x', { v: 2 }, v1.modRevision);
      await expectCode(s.update('/x', { v: 3 }, v1.modRevision), 'Conflict');
      await expectCode(s.delete('/x', v1.modRevision), 'Conflict');
      expect((await s.get('/x')).value).toEqual({ v: 2 });
      const v3 = await s.update('/x', { v: 3 }, 0);
      expect(v3.modRevision).toBe(v2.modRevision + 1);
      expect(v3.createRevision).toBe(v1.createRevision);
    });

    it('of concurrent updates from the same revision exactly one wins', async () => {
      const s = await fresh();
      const v = await s.create('/x', { v: 0 });
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => s.update('/x', { v: i }, v.modRevision)));
      const ok = results.filter((r) => r.status === 'fulfilled');
      expect(ok).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(isStoreError(r.reason, 'Conflict')).toBe(true);
      expect(s.currentRevision()).toBe(2);
    });

    it('delete returns the last value with the delete revision; re-create starts a new life', async () => {
      const s = await fresh();
      const c = await s.create('/x', { v: 1 });
      const d = await s.delete('/x', c.modRevision);
      expect(d).toEqual({ key: '/x', value: { v: 1 }, createRevision: 1, modRevision: 2 });
      await expectCode(s.get('/x'), 'NotFound');
      const again = await s.create('/x', { v: 2 });
      expect(again.createRevision).toBe(3);
    });

    it('lists keys under a prefix in key order, at the current revision', async () => {
      const s = await fresh();
      for (const k of ['/p/b', '/q/a', '/p/a', '/pp/a', '/p/c/d', '/o']) await s.create(k, { k });
      const res = await s.list('/p/');
      expect(res.items.map((i) => i.key)).toEqual(['/p/a', '/p/b', '/p/c/d']);
      expect(res.items[0]!.value).toEqual({ k: '/p/a' });
      expect(res.revision).toBe(6);
      expect(res.more).toBe(false);
      expect((await s.list('')).items.map((i) => i.key)).toEqual(['/o', '/p/a', '/p/b', '/p/c/d', '/pp/a', '/q/a']);
      expect((await s.list('/nothing/')).items).toEqual([]);
    });

    it('pages with limit and after, without gaps or repeats', async () => {
      const s = await fresh();
      const keys = Array.from({ length: 25 }, (_, i) => `/r/${String(i).padStart(3, '0')}`);
      for (const k of [...keys].reverse()) await s.create(k, { k });
      await s.create('/s/other', {});
      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await s.list('/r/', { limit: 10, after });
        pages++;
        seen.push(...page.items.map((i) => i.key));
        if (!page.more) break;
        after = page.items.at(-1)!.key;
      }
      expect(seen).toEqual(keys);
      expect(pages).toBe(3);
      const exact = await s.list('/r/', { limit: 25 });
      expect(exact.more).toBe(false);
      expect((await s.list('/r/', { after: '/r/023' })).items.map((i) => i.key)).toEqual(['/r/024']);
      expect((await s.list('/r/', { after: '/a', limit: 1 })).items.map((i) => i.key)).toEqual(['/r/000']);
    });

    it('never aliases values: not the input, not a returned value, not a watch event', async () => {
      const s = await fresh();
      const input = { spec: { replicas: 1, tags: ['a'] } };
      const w1 = collect(s, '/v', 0);
      const w2 = collect(s, '/v', 0);
      const created = await s.create('/v', input);
      input.spec.replicas = 99;
      input.spec.tags.push('mutated');
      created.value.spec = 'mutated';
      const got = await s.get('/v');
      expect(got.value).toEqual({ spec: { replicas: 1, tags: ['a'] } });
      (got.value.spec as { replicas: number }).replicas = 7;
      const listed = (await s.list('/v')).items[0]!;
      expect(listed.value).toEqual({ spec: { replicas: 1, tags: ['a'] } });
      listed.value.spec = null;
      const [e1] = await w1.until(1);
      const [e2] = await w2.until(1);
      (e1!.kv.value.spec as { replicas: number }).replicas = 5;
      expect(e2!.kv.value).toEqual({ spec: { replicas: 1, tags: ['a'] } });
      expect((await s.get('/v')).value).toEqual({ spec: { replicas: 1, tags: ['a'] } });
    });

    it('stores values with JSON semantics', async () => {
      const s = await fresh();
      const kv = await s.create('/j', { d: new Date(0), u: undefined, n: Number.NaN, a: [undefined, 1], f: () => 1 } as never);
      const want = { d: '1970-01-01T00:00:00.000Z', n: null, a: [null, 1] };
      expect(kv.value).toEqual(want);
      expect((await s.get('/j')).value).toStrictEqual(want);
      await expect(s.create('/bad', [] as never)).rejects.toThrow(TypeError);
    });

    it('watch from 0 delivers later changes in order, with prev states', async () => {
      const s = await fresh();
      const before = await s.create('/w/a', { v: 0 });
      const w = collect(s, '/w/', 0);
      const u = await s.update('/w/a', { v: 1 }, before.modRevision);
      await s.create('/w/b', { v: 2 });
      await s.delete('/w/a');
      const evs = await w.until(3);
      await settle();
      expect(evs.map((e) => [e.type, e.kv.key, e.kv.modRevision])).toEqual([
        ['MODIFIED', '/w/a', 2],
        ['ADDED', '/w/b', 3],
        ['DELETED', '/w/a', 4],
      ]);
      expect(evs[0]!.prev).toEqual(before);
      expect(evs[0]!.kv).toEqual(u);
      expect(evs[1]!.prev).toBeUndefined();
      expect(evs[2]!.kv.value).toEqual({ v: 1 });
      expect(evs[2]!.prev).toEqual(u);
    });

    it('watch resumes from a revision: history first, then live, never duplicated', async () => {
      const s = await fresh();
      for (let i = 1; i <= 5; i++) await s.create(`/h/${i}`, { i });
      const w = collect(s, '/h/', 2);
      await s.create('/h/6', { i: 6 });
      const evs = await w.until(4);
      await settle();
      expect(evs.map((e) => e.kv.modRevision)).toEqual([3, 4, 5, 6]);
      // a watch from the current revision sees only what comes next
      const w2 = collect(s, '/h/', s.currentRevision());
      await s.update('/h/1', { i: 10 }, 0);
      expect((await w2.until(1)).map((e) => e.kv.modRevision)).toEqual([7]);
    });

    it('watch filters by prefix', async () => {
      const s = await fresh();
      const w = collect(s, '/pods/default/', 0);
      await s.create('/pods/default/a', {});
      await s.create('/pods/kube-system/b', {});
      await s.create('/pods/default-x/c', {});
      await s.create('/pods/default/d', {});
      const evs = await w.until(2);
      await settle();
      expect(evs.map((e) => e.kv.key)).toEqual(['/pods/default/a', '/pods/default/d']);
    });

    it('concurrent writers: every watcher sees every revision once, in order', async () => {
      const s = await fresh();
      const all = collect(s, '', 0);
      const half = collect(s, '/c/0', 0);
      await Promise.all(
        Array.from({ length: 20 }, async (_, w) => {
          const kv = await s.create(`/c/${w % 2}/${w}`, { n: 0 });
          let rev = kv.modRevision;
          for (let n = 1; n <= 5; n++) rev = (await s.update(kv.key, { n }, rev)).modRevision;
        }),
      );
      const evs = await all.until(120);
      await settle();
      expect(evs.map((e) => e.kv.modRevision)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      const part = half.events.map((e) => e.kv.modRevision);
      expect(part).toHaveLength(60);
      expect([...part].sort((a, b) => a - b)).toEqual(part);
    });

    it('a listener that throws breaks neither its own stream nor others', async () => {
      const s = await fresh();
      const seenByThrower: number[] = [];
      s.watch('', 0, (ev) => {
        seenByThrower.push(ev.kv.modRevision);
        throw new Error('listener bug');
      });
      const good = collect(s, '', 0);
      await s.create('/a', {});
      await s.create('/b', {});
      await good.until(2);
      await settle();
      expect(seenByThrower).toEqual([1, 2]);
      expect(good.events.map((e) => e.kv.modRevision)).toEqual([1, 2]);
    });

    it('a closed watcher gets nothing more', async () => {
      const s = await fresh();
      const w = collect(s, '', 0);
      await s.create('/a', {});
      await w.until(1);
      w.watcher.close();
      await s.create('/b', {});
      await settle();
      expect(w.events).toHaveLength(1);
    });

    it('compact drops history: older watches fail with Compacted, newer ones resume', async () => {
      const s = await fresh();
      for (let i = 1; i <= 6; i++) await s.create(`/k/${i}`, {});
      await s.compact(4);
      expect(s.compactedRevision()).toBe(4);
      await expectCode(() => s.watch('/k/', 3, () => undefined), 'Compacted');
      const w = collect(s, '/k/', 4);
      expect((await w.until(2)).map((e) => e.kv.modRevision)).toEqual([5, 6]);
      // compacting backwards is a no-op; watching from now still works
      await s.compact(2);
      expect(s.compactedRevision()).toBe(4);
      const now = collect(s, '/k/', 0);
      await s.create('/k/7', {});
      expect((await now.until(1)).map((e) => e.kv.modRevision)).toEqual([7]);
    });

    it('fails every call after close with Closed', async () => {
      const s = await open();
      await s.create('/a', {});
      await s.close();
      await expectCode(s.get('/a'), 'Closed');
      await expectCode(s.list(''), 'Closed');
      await expectCode(s.create('/b', {}), 'Closed');
      await expectCode(s.update('/a', {}, 0), 'Closed');
      await expectCode(s.delete('/a'), 'Closed');
      await expectCode(() => s.watch('', 0, () => undefined), 'Closed');
    });

    it('lists 10,000 objects quickly, and pages through them', async () => {
      const s = await fresh();
      const pad = 'x'.repeat(500);
      await Promise.all(
        Array.from({ length: 10_000 }, (_, i) => s.create(`/big/${String(i).padStart(5, '0')}`, { i, pad })),
      );
      const t0 = performance.now();
      const all = await s.list('/big/');
      const full = performance.now() - t0;
      expect(all.items).toHaveLength(10_000);
      const t1 = performance.now();
      let after: string | undefined;
      let n = 0;
      for (let more = true; more; ) {
        const page = await s.list('/big/', { limit: 500, after });
        n += page.items.length;
        after = page.items.at(-1)?.key;
        more = page.more;
      }
      const paged = performance.now() - t1;
      expect(n).toBe(10_000);
      expect(full).toBeLessThan(1000);
      expect(paged).toBeLessThan(1000);
    }, 30_000);
  });
}
