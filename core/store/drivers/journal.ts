/**
 * The lowdb driver's append-only journal, `<snapshot>.journal`, with group commit.
 *
 * Format: one record per line, `<crc32 of payload, 8 hex digits> <payload JSON>\n`, where the
 * payload is `{"r":rev,"b":batch,"t":"c"|"u"|"d","k":key,"v":value}` (no "v" for deletes).
 * `b` is the revision of the first record of the group-commit batch the record was written in;
 * recovery uses it to tell a batch torn by a crash (cut away) from damage to acknowledged data
 * (refuse to start). See journal-reader.ts.
 *
 * Group commit: `append` queues a mutation; one flush per event-loop turn takes every queued
 * mutation, writes them with one positioned write and one fdatasync, and only then applies them
 * (the `durable` hook) and resolves their promises. While a batch is on its way to disk new
 * appends queue for the next one, so 50 concurrent writers cost about one fsync per 50 writes.
 *
 * Failure: if the write or the fsync fails, the batch and everything queued behind it (planned
 * against it) is rejected with StoreError('IO'), the `failed` hook runs, and the file is cut back
 * to its last good length so the next batch can try again. If that cut fails, or fsync failed
 * (the kernel may have dropped the dirty pages: nothing about the file can be trusted), the
 * journal is broken and every later write fails until the store is reopened and recovers.
 */
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { StoreError } from '../store.ts';
import type { Mutation } from './kv-state.ts';
import { fsyncDir } from './snapshot-file.ts';

/** The file operations the journal performs, replaceable in tests to inject faults. */
export interface JournalIo {
  write(fh: FileHandle, buf: Buffer, position: number): Promise<void>;
  datasync(fh: FileHandle): Promise<void>;
  truncate(fh: FileHandle, size: number): Promise<void>;
}

export const nodeJournalIo: JournalIo = {
  async write(fh, buf, position) {
    for (let off = 0; off < buf.length; ) {
      const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
      off += bytesWritten;
    }
  },
  datasync: (fh) => fh.datasync(),
  truncate: (fh, size) => fh.truncate(size),
};

export interface JournalHooks {
  /** A batch is on disk: apply it. Runs before any of its promises resolve. */
  durable(batch: Mutation[]): void;
  /** A batch failed; everything not yet durable was rejected. */
  failed(err: StoreError): void;
}

const TYPE_CODE = { ADDED: 'c', MODIFIED: 'u', DELETED: 'd' } as const;

export function encodeRecord(m: Mutation, batch: number): string {
  let payload = `{"r":${m.revision},"b":${batch},"t":"${TYPE_CODE[m.type]}","k":${JSON.stringify(m.key)}`;
  payload += m.type === 'DELETED' ? '}' : `,"v":${JSON.stringify(m.entry.value)}}`;
  return `${crc32(payload).toString(16).padStart(8, '0')} ${payload}\n`;
}

export function journalOpenFlags(): number {
  return constants.O_RDWR | constants.O_CREAT;
}

interface Pending {
  m: Mutation;
  resolve: () => void;
  reject: (e: StoreError) => void;
}

export class GroupCommitJournal {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = false;
  private idleWaiters: (() => void)[] = [];
  private lock: Promise<unknown> = Promise.resolve();
  /** Set when the journal can no longer be trusted; every append fails with it. */
  broken: StoreError | null = null;

  constructor(
    private fh: FileHandle,
    readonly path: string,
    /** Bytes in the file (all of them valid records). */
    public size: number,
    /** Records in the file. */
    public records: number,
    private readonly hooks: JournalHooks,
    private readonly io: JournalIo = nodeJournalIo,
  ) {}

  append(m: Mutation): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ m, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // Wait one event-loop turn: every writer resumed by the previous batch appends first.
        setImmediate(() => void this.exclusive(() => this.flush()));
      }
    });
  }

  /** Run `fn` with no batch in flight (for rotation at a fold). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every appended record has been written or rejected. */
  drain(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Move the current file to `oldPath` and continue in a fresh, empty file at `path`.
   * Call inside `exclusive`. On failure the journal is left as it was (or marked broken).
   */
  async rotate(oldPath: string, dir: string): Promise<void> {
    await fsp.rename(this.path, oldPath);
    let fh: FileHandle;
    try {
      fh = await fsp.open(this.path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o644);
      await fsyncDir(dir);
    } catch (err) {
      try {
        await fsp.rm(this.path, { force: true });
        await fsp.rename(oldPath, this.path);
      } catch {
        this.broken = ioError(this.path, 'rotating the journal', err);
      }
      throw err;
    }
    const old = this.fh;
    this.fh = fh;
    this.size = 0;
    this.records = 0;
    await old.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.drain();
    await this.exclusive(() => this.fh.close());
  }

  private idle(): boolean {
    return this.queue.length === 0 && !this.scheduled && !this.inFlight;
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return this.settle();
    this.inFlight = true;
    const first = batch[0]!.m.revision;
    let text = '';
    for (const p of batch) text += encodeRecord(p.m, first);
    const buf = Buffer.from(text, 'utf8');
    let stage = 'writing';
    try {
      if (this.broken) throw this.broken;
      await this.io.write(this.fh, buf, this.size);
      stage = 'syncing';
      await this.io.datasync(this.fh);
    } catch (err) {
      await this.fail(batch, stage, err);
      this.inFlight = false;
      return this.settle();
    }
    this.size += buf.length;
    this.records += batch.length;
    this.inFlight = false;
    this.hooks.durable(batch.map((p) => p.m));
    for (const p of batch) p.resolve();
    this.settle();
  }

  private async fail(batch: Pending[], stage: string, err: unknown): Promise<void> {
    const e = err instanceof StoreError ? err : ioError(this.path, stage, err);
    // Everything queued meanwhile was planned on top of this batch: reject it too, before any
    // new write can be planned on top of it.
    const rejected = [...batch, ...this.queue];
    this.queue = [];
    this.hooks.failed(e);
    for (const p of rejected) p.reject(e);
    if (this.broken) return;
    try {
      await this.io.truncate(this.fh, this.size); // cut away whatever part of the batch got written
      if (stage === 'syncing') this.broken = e; // after a failed fsync the page cache can't be trusted
    } catch {
      this.broken = e;
    }
  }

  private settle(): void {
    if (!this.idle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

export function ioError(path: string, stage: string, err: unknown): StoreError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const msg = err instanceof Error ? err.message : String(err);
  return new StoreError('IO', `${stage} ${path} failed${code ? ` (${code})` : ''}: ${msg}; the write was not applied`);
}
