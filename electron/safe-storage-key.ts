/**
 * The desktop app's key for Secrets at rest: kept sealed by the OS keychain through Electron's
 * safeStorage (Keychain on macOS, DPAPI on Windows, libsecret/kwallet on Linux), in
 * `<dataDir>/encryption-key.safe`. Without a real keychain (Linux with none running: safeStorage
 * unavailable or on its hard-coded "basic_text" password) it falls back to the 0600 key file
 * headless mode uses, with a warning.
 *
 * A key file left by headless mode is adopted on first start: sealed into `.safe`, then removed,
 * so the Secrets it encrypted stay readable and the key no longer sits on disk in the clear.
 * Call after `app.whenReady()`.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { safeStorage } from 'electron';
import { log } from '../core/log.ts';
import { createFileExclusive, fileKeyProvider, KEY_BYTES, KEY_FILE, parseKey, readKeyFile, SEALED_KEY_FILE, type KeyProvider } from '../core/store/key-provider.ts';

export function safeStorageKeyProvider(dataDir: string): KeyProvider {
  const backend = process.platform === 'linux' ? safeStorage.getSelectedStorageBackend() : undefined;
  if (!safeStorage.isEncryptionAvailable() || backend === 'basic_text') {
    const fallback = fileKeyProvider(dataDir);
    log.warn('the OS keychain is not available (safeStorage); the key that encrypts Secrets is kept in a 0600 file instead', {
      file: join(dataDir, KEY_FILE),
      ...(backend ? { backend } : {}),
    });
    return fallback;
  }
  const sealedPath = join(dataDir, SEALED_KEY_FILE);
  const plainPath = join(dataDir, KEY_FILE);
  return {
    name: `key sealed by the OS keychain in ${sealedPath}`,
    async load() {
      const sealed = await fsp.readFile(sealedPath).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (sealed) return unseal(sealed, sealedPath);

      const adopted = await readKeyFile(plainPath); // headless mode's key: keep its Secrets readable
      const key = adopted ?? randomBytes(KEY_BYTES);
      if (!(await createFileExclusive(sealedPath, safeStorage.encryptString(key.toString('base64'))))) {
        return unseal(await fsp.readFile(sealedPath), sealedPath); // created meanwhile
      }
      if (adopted) {
        await fsp.rm(plainPath, { force: true });
        log.info('moved the key that encrypts Secrets into the OS keychain', { from: plainPath, to: sealedPath });
      } else {
        log.info('created the key that encrypts Secrets at rest, sealed by the OS keychain', { file: sealedPath });
      }
      return key;
    },
  };
}

function unseal(sealed: Buffer, path: string): Buffer {
  let text: string;
  try {
    text = safeStorage.decryptString(sealed);
  } catch (err) {
    throw new Error(
      `the OS keychain cannot unseal ${path} (${(err as Error).message}): it was sealed by another user, machine or keychain. ` +
        `Secrets stored with it cannot be read until that keychain is available again.`,
    );
  }
  const key = parseKey(text);
  if (!key) throw new Error(`${path} is malformed: it does not unseal to a ${KEY_BYTES}-byte base64 key`);
  return key;
}
