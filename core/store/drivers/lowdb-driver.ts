/**
 * The default driver, `lowdb:<path>`: the memory driver's state, made durable.
 *
 * Files: `<path>` is the snapshot (lowdb, see snapshot-file.ts); `<path>.journal` is the
 * append-only journal with group commit (journal.ts); `<path>.journal.old` exists only while a
 * fold is under way (or after one failed).
 *
 * A write is planned against the newest state including accepted-but-not-yet-durable writes (an
 * overlay), so Conflict/AlreadyExists checks and revision order are exactly those of a serial
 * log; it becomes visible (get/list/watch) and its promise resolves only once its batch is
 * fsynced. If the batch fails, the write and every write queued behind it reject with
 * StoreError('IO') and the overlay is dropped: nothing that failed to persist is ever visible.
 *
 * Folding: when the journal passes max(8 MiB, the snapshot's size) or 100,000 records, and on
 * close. Between two batches the journal is renamed to `.journal.old` and a fresh one started
 * (writes continue meanwhile); the state as of that moment is written as the new snapshot
 * (temp file, fsync, rename, fsync dir); then `.journal.old` is removed. A crash at any point
 * leaves snapshot + journals from which start-up rebuilds the last acknowledged state: records
 * at or below the snapshot's revision are skipped. Bounding the journal by the snapshot's size
 * keeps start-up under about twice the time to read the snapshot.
 *
 * Start-up: see lowdb-recovery.ts and journal-reader.ts. Watch history starts at the snapshot's
 * revision and holds the replayed journal records.
 */
import { promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Low } from 'lowdb';
import { log } from '../../log.ts';
import { registerStoreDriver, StoreError, type KeyValue } from '../store.ts';
import { planCreate, planDelete, planUpdate, type Entry, type Mutation } from './kv-state.ts';
import { GroupCommitJournal, journalOpenFlags, type JournalIo } from './journal.ts';
import type { JournalRecord } from './journal-reader.ts';
import { corrupt, recover } from './lowdb-recovery.ts';
import { MemoryStore, type MemoryStoreOptions } from './memory-driver.ts';
import { emptySnapshot, fsyncDir, SnapshotFile, snapshotTempPath, type SnapshotData } from './snapshot-file.ts';
import { acquireStoreLock, type StoreLock } from './store-lock.ts';

export interface LowdbStoreOptions extends MemoryStoreOptions {
  /** Fold once the journal is at least this big and at least the snapshot's size (default 8 MiB). */
  foldMinBytes?: number;
  /** Fold once the journal holds this many records, whatever their size (default 100,000). */
  foldRecords?: number;
  /** Journal file operations (tests inject faults here). */
  io?: JournalIo;
}

const FOLD_RETRY_MS = 30_000;

export function openLowdbStore(path: string, opts: LowdbStoreOptions = {}): Promise<LowdbStore> {
  return LowdbStore.open(resolve(path), opts);
}

export class LowdbStore extends MemoryStore {
  private readonly file: SnapshotFile;
  private readonly db: Low<SnapshotData>;
  private readonly journalPath: string;
  private readonly oldPath: string;
  private journal!: GroupCommitJournal;
  private lock!: StoreLock;
  /** Latest accepted state of keys with writes not yet durable (undefined: deleted). */
  private readonly overlay = new Map<string, { entry: Entry | undefined; revision: number }>();
  private pendingRevision = 0;
  /** Readers waiting for a revision to become durable (see get). */
  private revisionWaiters: Array<{ revision: number; wake: () => void }> = [];
  private folding: Promise<void> | null = null;
  private foldBlockedUntil = 0;
  private closed: Promise<void> | null = null;

  static async open(path: string, opts: LowdbStoreOptions = {}): Promise<LowdbStore> {
    const store = new LowdbStore(path, opts);
    await store.load();
    return store;
  }

  private constructor(
    readonly path: string,
    private readonly opts: LowdbStoreOptions = {},
  ) {
    super(opts);
    this.file = new SnapshotFile(path);
    this.db = new Low<SnapshotData>(this.file, emptySnapshot());
    this.journalPath = `${path}.journal`;
    this.oldPath = `${path}.journal.old`;
  }

  /** Rebuild the state from disk and open the journal. */
  private async load(): Promise<void> {
    await fsp.mkdir(dirname(this.path), { recursive: true });
    this.lock = await acquireStoreLock(this.path);
    try {
      await this.recoverAndOpen();
    } catch (err) {
      await this.lock.release();
      throw err;
    }
  }

  private async recoverAndOpen(): Promise<void> {
    const rec = await recover(this.path, this.db);
    const { snapshot } = rec;
    for (const [key, entry] of snapshot.entries) this.state.load(key, entry);
    this.state.revision = snapshot.revision;
    this.hub.resetHistory(Math.max(snapshot.revision, snapshot.compactRevision));
    for (const { rec: r, file } of rec.replay) this.applyCommitted(this.replayMutation(r, file));
    this.pendingRevision = this.state.revision;

    // Everything checked: only now touch the files.
    for (const f of [rec.old, rec.journal]) {
      if (!f.torn || !f.exists) continue;
      log.warn('store journal: cutting a torn last record (a write that was never acknowledged)', {
        file: f.path,
        line: f.torn.line,
        offset: f.torn.offset,
        reason: f.torn.reason,
        bytes: f.diskSize - f.size,
      });
      const fh = await fsp.open(f.path, 'r+');
      try {
        await fh.truncate(f.size);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
    await fsp.rm(snapshotTempPath(this.path), { force: true });
    const fh = await fsp.open(this.journalPath, journalOpenFlags(), 0o644);
    if (!rec.journal.exists) await fsyncDir(dirname(this.path));
    this.journal = new GroupCommitJournal(
      fh,
      this.journalPath,
      rec.journal.size,
      rec.journal.records,
      { durable: (batch) => this.durable(batch), failed: () => this.failed() },
      this.opts.io,
    );
  }

  /** Write the state into the snapshot and start a fresh journal. Runs by itself; exposed for tests. */
  async fold(): Promise<void> {
    this.assertOpen('fold');
    return this.foldNow();
  }

  private foldNow(): Promise<void> {
    this.folding ??= this.doFold().finally(() => {
      this.folding = null;
    });
    return this.folding;
  }

  override close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      await this.journal.drain();
      await this.folding?.catch(() => undefined);
      if (!this.journal.broken && (this.journal.records > 0 || (await exists(this.oldPath)))) {
        await this.foldNow().catch((err: unknown) =>
          log.warn('store fold on close failed; the journal keeps the data', { file: this.path, error: String(err) }),
        );
      }
      await this.journal.close();
      await this.lock.release();
      await super.close();
    })();
    return this.closed;
  }

  /**
   * Read-your-writes for read-modify-write loops: a key with a write accepted but not yet
   * durable is read once that write is on disk (or has failed), never before — a reader never
   * sees an unacknowledged value, and a retry after a Conflict sees the write that caused it.
   */
  override async get(key: string): Promise<KeyValue> {
    const pending = this.overlay.get(key);
    if (pending && pending.revision > this.state.revision) {
      await new Promise<void>((wake) => this.revisionWaiters.push({ revision: pending.revision, wake }));
    }
    return super.get(key);
  }

  private wakeReaders(all: boolean): void {
    if (!this.revisionWaiters.length) return;
    const durable = this.state.revision;
    const keep: typeof this.revisionWaiters = [];
    for (const w of this.revisionWaiters) (all || w.revision <= durable ? w.wake() : keep.push(w));
    this.revisionWaiters = keep;
  }

  protected override latest = (key: string): Entry | undefined => {
    const o = this.overlay.get(key);
    return o ? o.entry : this.state.lookup(key);
  };

  protected override nextRevision(): number {
    return this.pendingRevision + 1;
  }

  protected override commit(m: Mutation): Promise<void> {
    if (this.journal.broken) return Promise.reject(this.journal.broken);
    this.pendingRevision = m.revision;
    this.overlay.set(m.key, { entry: m.type === 'DELETED' ? undefined : m.entry, revision: m.revision });
    return this.journal.append(m);
  }

  private durable(batch: Mutation[]): void {
    for (const m of batch) {
      this.applyCommitted(m);
      if (this.overlay.get(m.key)?.revision === m.revision) this.overlay.delete(m.key);
    }
    this.wakeReaders(false);
    this.maybeFold();
  }

  private failed(): void {
    this.overlay.clear();
    this.pendingRevision = this.state.revision;
    this.wakeReaders(true);
  }

  private maybeFold(): void {
    if (this.folding || this.closing || Date.now() < this.foldBlockedUntil) return;
    const minBytes = Math.max(this.opts.foldMinBytes ?? 8 * 1024 * 1024, this.file.bytes);
    if (this.journal.size < minBytes && this.journal.records < (this.opts.foldRecords ?? 100_000)) return;
    this.foldNow().catch((err: unknown) => {
      this.foldBlockedUntil = Date.now() + FOLD_RETRY_MS;
      log.warn('store fold failed; the journal keeps the data, retrying later', { file: this.path, error: String(err) });
    });
  }

  private async doFold(): Promise<void> {
    let snap: SnapshotData | undefined;
    await this.journal.exclusive(async () => {
      // No batch in flight: the state is exactly what the journal files hold.
      snap = { revision: this.state.revision, compactRevision: this.hub.compactedRevision(), entries: this.state.all() };
      if (!(await exists(this.oldPath))) await this.journal.rotate(this.oldPath, dirname(this.path));
    });
    this.db.data = snap!;
    await this.db.write();
    await fsp.rm(this.oldPath, { force: true });
  }

  private replayMutation(r: JournalRecord, file: string): Mutation {
    const lookup = this.state.lookup;
    try {
      if (r.t === 'c') return planCreate(lookup, r.k, r.v!, r.r);
      if (r.t === 'u') return planUpdate(lookup, r.k, r.v!, 0, r.r);
      return planDelete(lookup, r.k, 0, r.r);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      throw corrupt(
        `${file} line ${r.line} (byte offset ${r.offset}) does not fit the state before it: ${err.message}`,
        `Restore ${file} from a backup, or move it aside (the writes it holds will be lost).`,
      );
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return fsp.access(path).then(
    () => true,
    () => false,
  );
}

/** `lowdb:<path>`, `lowdb:relative/path`, or `lowdb:///abs/path` (a file URL). */
export function lowdbPathFromUrl(rest: string, url: string): string {
  const path = rest.startsWith('//') ? fileURLToPath(`file:${rest}`) : rest;
  if (!path) throw new Error(`store URL "${url}" names no file (expected lowdb:<path>)`);
  return path;
}

registerStoreDriver('lowdb', (rest, url, opts) => openLowdbStore(lowdbPathFromUrl(rest, url), opts));
