/**
 * The lowdb driver's snapshot, `<path>`: a lowdb `Adapter` that reads and writes
 *
 *   {"revision":R,"compactRevision":C,"kvs":{
 *   "<key>":{"value":{…},"createRevision":n,"modRevision":m},
 *   …},"crc32":"<8 hex>"}
 *
 * (one key per line, keys in order). The trailing crc32 covers every byte before `,"crc32"`: a
 * change that leaves the JSON valid (a byte flipped inside a string) is still found. Snapshots
 * written before the checksum existed have none and are read as they are. lowdb's own file adapter (steno) renames a temp file into
 * place but never fsyncs, so a crash just after a fold could leave an empty snapshot; this
 * adapter writes `.<name>.tmp`, fsyncs it, renames it over the snapshot and fsyncs the directory.
 * Reading checks the shape and throws StoreError('Corrupt') naming the file and the place.
 */
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Adapter } from 'lowdb';
import { StoreError } from '../store.ts';
import type { Entry } from './kv-state.ts';

export interface SnapshotData {
  revision: number;
  compactRevision: number;
  /** In key order. */
  entries: [string, Entry][];
}

export const emptySnapshot = (): SnapshotData => ({ revision: 0, compactRevision: 0, entries: [] });

export function snapshotTempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp`);
}

export class SnapshotFile implements Adapter<SnapshotData> {
  /** Size in bytes of the snapshot last read or written. */
  bytes = 0;

  constructor(readonly path: string) {}

  async read(): Promise<SnapshotData | null> {
    let buf: Buffer;
    try {
      buf = await fsp.readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StoreError('IO', `reading snapshot ${this.path} failed: ${(err as Error).message}`);
    }
    this.bytes = buf.length;
    return parseSnapshot(this.path, buf);
  }

  async write(data: SnapshotData): Promise<void> {
    const tmp = snapshotTempPath(this.path);
    const fh = await fsp.open(tmp, 'w', 0o644);
    let bytes = 0;
    try {
      // Serialized and written a slice at a time, so writers are not held up by a 30 MB stringify.
      let unsynced = 0;
      for (const chunk of snapshotChunks(data)) {
        const buf = Buffer.from(chunk, 'utf8');
        await fh.write(buf, 0, buf.length, bytes);
        bytes += buf.length;
        unsynced += buf.length;
        if (unsynced >= SYNC_EVERY_BYTES) {
          await fh.datasync();
          unsynced = 0;
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await renameWithRetry(tmp, this.path);
    await fsyncDir(dirname(this.path));
    this.bytes = bytes;
  }
}

const CHUNK_ENTRIES = 64;
/**
 * Flush the snapshot as it is written, not all at the end: on ext4 (data=ordered) the journal's
 * fdatasync waits for every dirty page of the file system's running transaction, so 30 MB of
 * unflushed snapshot would stall acknowledged writes for as long as they take to reach the disk.
 */
const SYNC_EVERY_BYTES = 1024 * 1024;

const TRAILER = ',"crc32":"';

export function* snapshotChunks(data: SnapshotData): Generator<string> {
  const { entries } = data;
  let crc = 0;
  let text = `{"revision":${data.revision},"compactRevision":${data.compactRevision},"kvs":{`;
  for (let i = 0; i < entries.length; i++) {
    const [key, e] = entries[i]!;
    text += `${i ? ',' : ''}\n${JSON.stringify(key)}:{"value":${JSON.stringify(e.value)},"createRevision":${e.createRevision},"modRevision":${e.modRevision}}`;
    if (i % CHUNK_ENTRIES === CHUNK_ENTRIES - 1) {
      crc = crc32(Buffer.from(text, 'utf8'), crc);
      yield text;
      text = '';
    }
  }
  text += `${entries.length ? '\n' : ''}}`;
  crc = crc32(Buffer.from(text, 'utf8'), crc);
  yield `${text}${TRAILER}${crc.toString(16).padStart(8, '0')}"}\n`;
}

function parseSnapshot(path: string, buf: Buffer): SnapshotData {
  const fail = (what: string): never => {
    throw new StoreError(
      'Corrupt',
      `snapshot ${path} is damaged: ${what}. The store was not opened and no file was changed. ` +
        `Restore ${path} from a backup; or, to start over, move ${path} and ${path}.journal* aside (their data will be missing).`,
    );
  };
  const text = buf.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    fail(`not valid JSON (${describeJsonError(text, err as Error)})`);
  }
  // Valid JSON can still be damaged (a byte changed inside a string): the checksum says so.
  const at = buf.lastIndexOf(TRAILER);
  const m = at >= 0 ? /^"([0-9a-f]{8})"\}\n?$/.exec(buf.toString('latin1', at + TRAILER.length - 1)) : null;
  if (m && crc32(buf.subarray(0, at)) !== parseInt(m[1]!, 16)) {
    fail(`checksum mismatch: its bytes changed after it was written (crc32 ${crc32(buf.subarray(0, at)).toString(16).padStart(8, '0')}, recorded ${m[1]})`);
  }
  if (!isObject(doc)) return fail('the top level is not an object');
  const { revision, compactRevision = 0, kvs } = doc;
  if (!isRevision(revision)) fail('"revision" is not a non-negative integer');
  if (!isRevision(compactRevision)) fail('"compactRevision" is not a non-negative integer');
  if (!isObject(kvs)) return fail('"kvs" is not an object');
  const entries: [string, Entry][] = [];
  for (const [key, kv] of Object.entries(kvs)) {
    if (!isObject(kv) || !isObject(kv.value)) return fail(`kvs[${JSON.stringify(key)}].value is not an object`);
    const { createRevision: c, modRevision: m } = kv;
    if (!isRevision(c) || !isRevision(m) || c < 1 || c > m || m > (revision as number)) {
      return fail(`kvs[${JSON.stringify(key)}] has impossible revisions (create ${String(c)}, mod ${String(m)}, store ${String(revision)})`);
    }
    entries.push([key, { value: kv.value, createRevision: c, modRevision: m }]);
  }
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { revision: revision as number, compactRevision: compactRevision as number, entries };
}

function describeJsonError(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (m) {
    const before = text.slice(0, Number(m[1]));
    const line = before.split('\n').length;
    const col = before.length - before.lastIndexOf('\n');
    return `${err.message.replace(/ in JSON at position \d+.*$/s, '')} at line ${line}, column ${col}, byte offset ${Buffer.byteLength(before)}`;
  }
  // V8 does not always say where; the file holds one key per line, so find the first bad line.
  const lines = text.split('\n');
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const last = i === lines.length - 1 || (i === lines.length - 2 && lines[i + 1] === '');
    const probe = i === 0 ? `${l}}}` : /^}(,"crc32":"[0-9a-f]{8}")?}$/.test(l) || (last && l === '') ? '{}' : `{${l.replace(/,$/, '')}}`;
    try {
      JSON.parse(probe);
    } catch {
      return `${err.message} at line ${i + 1}, byte offset ${offset}`;
    }
    offset += Buffer.byteLength(l) + 1;
  }
  return err.message;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isRevision(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}

async function renameWithRetry(from: string, to: string): Promise<void> {
  // Windows refuses to replace a file another process (a virus scanner, an indexer) holds open.
  for (let i = 0; ; i++) {
    try {
      return await fsp.rename(from, to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (i >= 9 || (code !== 'EPERM' && code !== 'EBUSY' && code !== 'EACCES')) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Make a rename or a new file in `dir` durable. Windows can't open directories; NTFS journals metadata. */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
