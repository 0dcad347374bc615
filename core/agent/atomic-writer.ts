/**
 * The kubelet's AtomicWriter: a configMap/secret/downwardAPI volume's files live in a timestamped
 * folder `..2024_05_01_12_00_00.123456`, `..data` is a symlink to it, and every user-visible name
 * is a symlink through `..data`. An update writes a new folder and swaps `..data` with one
 * rename, so a reader inside the container sees either the old or the new set, never a mix.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, readdir, readlink, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';

export interface FileProjection {
  data: Buffer;
  /** File mode, e.g. 0o644. */
  mode: number;
}

const DATA = '..data';
const DATA_TMP = '..data_tmp';

/** Writes `payload` (relative path → content) into `dir`; true when anything changed. */
export async function writeAtomic(dir: string, payload: Map<string, FileProjection>): Promise<boolean> {
  for (const p of payload.keys()) checkPath(p);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  let current: string | undefined;
  try {
    current = await readlink(join(dir, DATA));
  } catch {
    current = undefined;
  }
  if (current && (await samePayload(join(dir, current), payload))) {
    await linkNames(dir, payload);
    return false;
  }
  const ts = `..${stamp(new Date())}.${randomBytes(4).toString('hex')}`;
  const tsDir = join(dir, ts);
  await mkdir(tsDir, { mode: 0o755 });
  await chmod(tsDir, 0o755);
  for (const [p, f] of payload) {
    const file = join(tsDir, p);
    await mkdir(dirname(file), { recursive: true, mode: 0o755 });
    await writeFile(file, f.data);
    await chmod(file, f.mode);
  }
  await unlink(join(dir, DATA_TMP)).catch(() => {});
  await symlink(ts, join(dir, DATA_TMP));
  await rename(join(dir, DATA_TMP), join(dir, DATA));
  await linkNames(dir, payload);
  if (current && current !== ts) await rm(join(dir, current), { recursive: true, force: true });
  return true;
}

/** Top-level names → `..data/<name>` symlinks; names no longer in the payload are removed. */
async function linkNames(dir: string, payload: Map<string, FileProjection>): Promise<void> {
  const top = new Set([...payload.keys()].map((p) => normalize(p).split(sep)[0]!));
  for (const name of top) {
    const link = join(dir, name);
    try {
      const st = await lstat(link);
      if (st.isSymbolicLink() && (await readlink(link)) === join(DATA, name)) continue;
      await rm(link, { recursive: true, force: true });
    } catch {
      /* missing */
    }
    await symlink(join(DATA, name), link);
  }
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('..') || top.has(entry)) continue;
    const st = await lstat(join(dir, entry)).catch(() => undefined);
    if (st?.isSymbolicLink()) await unlink(join(dir, entry)).catch(() => {});
  }
}

async function samePayload(tsDir: string, payload: Map<string, FileProjection>): Promise<boolean> {
  const existing = await walk(tsDir, '');
  if (existing.length !== payload.size) return false;
  for (const rel of existing) {
    const want = payload.get(rel);
    if (!want) return false;
    const file = join(tsDir, rel);
    const [st, data] = await Promise.all([lstat(file), readFile(file)]);
    if ((st.mode & 0o7777) !== want.mode || !data.equals(want.data)) return false;
  }
  return true;
}

async function walk(root: string, rel: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(root, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = rel ? join(rel, e.name) : e.name;
    if (e.isDirectory()) out.push(...(await walk(root, p)));
    else out.push(p);
  }
  return out;
}

function checkPath(p: string): void {
  const n = normalize(p);
  if (!p || p.startsWith('/') || n.split(sep).includes('..') || n.startsWith('..')) {
    throw new Error(`invalid path in volume payload: ${JSON.stringify(p)}`);
  }
}

function stamp(d: Date): string {
  const z = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}_${z(d.getUTCMonth() + 1)}_${z(d.getUTCDate())}_${z(d.getUTCHours())}_${z(d.getUTCMinutes())}_${z(d.getUTCSeconds())}`;
}
