/**
 * Where the key that encrypts Secrets at rest comes from (see encryption.ts).
 *
 * A `KeyProvider` hands over 32 bytes once, at start-up. Headless (`wheelhouse serve`) the key is
 * `<dataDir>/encryption-key`: 32 random bytes, base64, one line, mode 0600, created atomically on
 * first start — like kube-apiserver's EncryptionConfiguration secret, a file only its owner reads.
 * The desktop app passes a provider that keeps the key sealed by the OS keychain instead
 * (electron/safe-storage-key.ts, `<dataDir>/encryption-key.safe`).
 *
 * Losing the key loses the Secrets encrypted with it (everything else in the store stays readable).
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { log } from '../log.ts';
import { fsyncDir } from './drivers/snapshot-file.ts';

export const KEY_BYTES = 32;
export const KEY_FILE = 'encryption-key';
/** The key sealed by the OS keychain (Electron safeStorage); written by the desktop app only. */
export const SEALED_KEY_FILE = 'encryption-key.safe';

export interface KeyProvider {
  /** Where the key lives, for messages: `key file /home/me/.wheelhouse/encryption-key`. */
  name: string;
  /** The 32-byte AES-256 key; creates it on first use. Errors name the file and the fix. */
  load(): Promise<Buffer>;
}

/** The headless provider: `<dataDir>/encryption-key`, created 0600 on first start. */
export function fileKeyProvider(dataDir: string): KeyProvider {
  const path = join(dataDir, KEY_FILE);
  return {
    name: `key file ${path}`,
    async load() {
      const existing = await readKeyFile(path);
      if (existing) return existing;
      const sealed = join(dataDir, SEALED_KEY_FILE);
      if (await exists(sealed)) {
        throw new Error(
          `the Secrets in ${dataDir} are encrypted with a key sealed by the OS keychain (${sealed}, written by the Wheelhouse desktop app), ` +
            `which cannot be opened here. Start the desktop app with the keychain available, or use another data folder (WHEELHOUSE_DATA_DIR).`,
        );
      }
      const key = randomBytes(KEY_BYTES);
      const winner = await createFileExclusive(path, key.toString('base64') + '\n');
      if (winner) {
        log.info('created the key that encrypts Secrets at rest; keep it with the data folder (Secrets cannot be read without it)', { file: path });
        return key;
      }
      return (await readKeyFile(path))!; // another process created it first
    },
  };
}

/**
 * Reads a key file: undefined when it does not exist; throws (naming the file, never its content)
 * when it is group/world-accessible or not 32 bytes of base64.
 */
export async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    const st = await fsp.stat(path);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new Error(
        `encryption key file ${path} is accessible by other users (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); ` +
          `it must be readable by its owner only: chmod 600 ${path}`,
      );
    }
    if (!st.isFile()) throw new Error(`encryption key file ${path} is not a regular file`);
    text = await fsp.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const key = parseKey(text);
  if (!key) {
    throw new Error(
      `encryption key file ${path} is malformed: expected ${KEY_BYTES} random bytes, base64-encoded, on one line. ` +
        `Restore it from a backup; if it is lost, the Secrets encrypted with it cannot be read.`,
    );
  }
  return key;
}

/** `text` as a key: one line of standard base64 for exactly 32 bytes, else undefined. */
export function parseKey(text: string): Buffer | undefined {
  const s = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  const key = Buffer.from(s, 'base64');
  return key.length === KEY_BYTES ? key : undefined;
}

/**
 * Creates `path` with `content` and mode 0600, atomically: a temp file is written and fsynced,
 * then hard-linked to `path` (which fails if `path` exists, unlike rename) and the folder
 * fsynced. A crash leaves either no file or the whole file. Returns false when `path` already
 * existed (someone else won).
 */
export async function createFileExclusive(path: string, content: string | Buffer): Promise<boolean> {
  const dir = dirname(path);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await fsp.open(tmp, 'wx', 0o600);
  try {
    await fh.chmod(0o600); // whatever the umask
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
  await fsyncDir(dir);
  return true;
}

async function exists(path: string): Promise<boolean> {
  return fsp.access(path).then(
    () => true,
    () => false,
  );
}
