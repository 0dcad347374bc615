/**
 * Reading a journal at start-up (format in journal.ts).
 *
 * A record is good when its line is complete (ends in "\n"), its CRC matches and its payload is
 * a well-formed record. At the first bad line:
 *  - if nothing good follows it, or everything good that follows belongs to one batch that began
 *    at or before the bad line, it is the tail of the last batch, torn by a crash before that
 *    batch was acknowledged: the caller may cut the file there (only in the newest journal file);
 *  - otherwise an acknowledged record is damaged: StoreError('Corrupt') naming the file, the line
 *    and the byte offset. Nothing is changed on disk in that case.
 */
import { crc32 } from 'node:zlib';
import { StoreError, type StoredValue } from '../store.ts';

export interface JournalRecord {
  r: number;
  /** First revision of the batch the record was written in. */
  b: number;
  t: 'c' | 'u' | 'd';
  k: string;
  /** The value (create/update). */
  v?: StoredValue;
  /** 1-based line number and byte offset in the file, for messages. */
  line: number;
  offset: number;
}

export interface JournalScan {
  records: JournalRecord[];
  /** Length of the good prefix: where the file is cut when its tail is torn. */
  goodBytes: number;
  /** Set when the tail is torn (and `goodBytes` < file size). */
  torn?: { line: number; offset: number; reason: string };
}

export function scanJournal(path: string, buf: Buffer, prevRevision: number, newest: boolean, whatToDo: string): JournalScan {
  const records: JournalRecord[] = [];
  let bad: { line: number; offset: number; reason: string } | undefined;
  const after: JournalRecord[] = [];
  let line = 0;
  for (let pos = 0; pos < buf.length; ) {
    line++;
    const nl = buf.indexOf(10, pos);
    const end = nl < 0 ? buf.length : nl;
    const res = nl < 0 ? 'incomplete last line (no newline)' : decodeLine(buf, pos, end, line);
    if (typeof res === 'string') bad ??= { line, offset: pos, reason: res };
    else if (bad) after.push(res);
    else records.push(res);
    pos = end + 1;
  }
  const goodBytes = bad ? bad.offset : buf.length;
  if (!bad) return { records, goodBytes };
  const last = records.length ? records[records.length - 1]!.r : prevRevision;
  const batches = new Set(after.map((r) => r.b));
  const tornTail = batches.size === 0 || (batches.size === 1 && after[0]!.b <= last + 1);
  if (!newest || !tornTail) {
    throw new StoreError(
      'Corrupt',
      `journal ${path} is damaged at line ${bad.line} (byte offset ${bad.offset}): ${bad.reason}, ` +
        `and records written after it follow, so acknowledged writes are affected. ` +
        `The store was not opened and no file was changed. ${whatToDo}`,
    );
  }
  return { records, goodBytes, torn: bad };
}

function decodeLine(buf: Buffer, start: number, end: number, line: number): JournalRecord | string {
  if (end - start < 11 || buf[start + 8] !== 0x20) return 'not a "<crc> <record>" line';
  const crcText = buf.toString('latin1', start, start + 8);
  if (!/^[0-9a-f]{8}$/.test(crcText)) return 'bad checksum field';
  if (crc32(buf.subarray(start + 9, end)) !== parseInt(crcText, 16)) return 'checksum mismatch';
  let p: unknown;
  try {
    p = JSON.parse(buf.toString('utf8', start + 9, end));
  } catch {
    return 'record is not valid JSON';
  }
  if (typeof p !== 'object' || p === null) return 'record is not an object';
  const { r, b, t, k, v } = p as Record<string, unknown>;
  if (!Number.isInteger(r) || (r as number) < 1 || !Number.isInteger(b) || (b as number) > (r as number)) return 'bad revision';
  if (t !== 'c' && t !== 'u' && t !== 'd') return 'bad record type';
  if (typeof k !== 'string' || k === '') return 'bad key';
  const rec: JournalRecord = { r: r as number, b: b as number, t, k, line, offset: start };
  if (t !== 'd') {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'missing value';
    rec.v = v as StoredValue;
  }
  return rec;
}
