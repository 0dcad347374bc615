/**
 * Start-up of the lowdb driver: read the snapshot (through lowdb), then `<path>.journal.old` (left
 * by a fold that had not finished) and `<path>.journal`, and check that the journal records carry
 * on exactly from the snapshot's revision. Records at or below the snapshot's revision were
 * folded already and are skipped. Nothing is written here: the caller cuts a torn tail only
 * after the whole state has been rebuilt without error.
 */
import { promises as fsp } from 'node:fs';
import type { Low } from 'lowdb';
import { StoreError } from '../store.ts';
import { scanJournal, type JournalRecord } from './journal-reader.ts';
import type { SnapshotData } from './snapshot-file.ts';

export interface JournalFileState {
  path: string;
  exists: boolean;
  /** Good bytes and records (after cutting a torn tail). */
  size: number;
  records: number;
  /** The file's length on disk now; > size when the tail is torn. */
  diskSize: number;
  torn?: { line: number; offset: number; reason: string };
}

export interface Recovered {
  snapshot: SnapshotData;
  /** Records newer than the snapshot, in revision order, with the file each came from. */
  replay: { rec: JournalRecord; file: string }[];
  old: JournalFileState;
  journal: JournalFileState;
}

export async function recover(path: string, db: Low<SnapshotData>): Promise<Recovered> {
  await db.read();
  const snapshot = db.data;
  const S = snapshot.revision;
  const oldPath = `${path}.journal.old`;
  const journalPath = `${path}.journal`;
  const [oldBuf, journalBuf] = await Promise.all([readIfExists(oldPath), readIfExists(journalPath)]);
  const whatToDo = (file: string) =>
    `Restore ${file} from a backup; or, to open the store without it, move ${file} aside ` +
    `(the writes it holds after revision ${S}, the snapshot ${path}'s revision, will be lost).`;

  const oldScan = oldBuf ? scanJournal(oldPath, oldBuf, S, journalBuf === null, whatToDo(oldPath)) : undefined;
  const lastOld = oldScan?.records.at(-1)?.r ?? S;
  const journalScan = journalBuf ? scanJournal(journalPath, journalBuf, lastOld, true, whatToDo(journalPath)) : undefined;

  const replay: Recovered['replay'] = [];
  let prev = 0;
  let expected = S + 1;
  for (const [file, scan] of [
    [oldPath, oldScan],
    [journalPath, journalScan],
  ] as const) {
    for (const rec of scan?.records ?? []) {
      const where = `${file} line ${rec.line} (byte offset ${rec.offset})`;
      if (rec.r <= prev) {
        throw corrupt(`${where} has revision ${rec.r}, not after the previous record's ${prev}`, whatToDo(file));
      }
      prev = rec.r;
      if (rec.r <= S) continue;
      if (rec.r !== expected) {
        throw corrupt(
          expected === S + 1
            ? `the journal does not follow the snapshot: ${path} is at revision ${S}, but the next record, ${where}, has revision ${rec.r}`
            : `revision ${expected} is missing: ${where} has revision ${rec.r}`,
          whatToDo(file),
        );
      }
      expected++;
      replay.push({ rec, file });
    }
  }
  return {
    snapshot,
    replay,
    old: fileState(oldPath, oldBuf, oldScan),
    journal: fileState(journalPath, journalBuf, journalScan),
  };
}

export function corrupt(what: string, whatToDo: string): StoreError {
  return new StoreError('Corrupt', `${what}. The store was not opened and no file was changed. ${whatToDo}`);
}

function fileState(path: string, buf: Buffer | null, scan: ReturnType<typeof scanJournal> | undefined): JournalFileState {
  return {
    path,
    exists: buf !== null,
    size: scan?.goodBytes ?? 0,
    records: scan?.records.length ?? 0,
    diskSize: buf?.length ?? 0,
    torn: scan?.torn,
  };
}

async function readIfExists(path: string): Promise<Buffer | null> {
  try {
    return await fsp.readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StoreError('IO', `reading ${path} failed: ${(err as Error).message}`);
  }
}
