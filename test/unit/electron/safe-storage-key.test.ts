/**
 * The desktop app's key provider (electron/safe-storage-key.ts), with Electron's safeStorage
 * replaced by a fake keychain: sealing, reuse, adopting headless mode's key file, fallback.
 */
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const keychain = vi.hoisted(() => ({
  available: true,
  backend: 'gnome_libsecret' as string,
  secret: 'fake-keychain-secret',
}));

vi.mock('electron', () => ({
  safeStorage: {
    isEncryptionAvailable: () => keychain.available,
    getSelectedStorageBackend: () => keychain.backend,
    encryptString: (s: string) => Buffer.from(`${keychain.secret}|${Buffer.from(s).toString('hex')}`),
    decryptString: (b: Buffer) => {
      const [tag, hex] = b.toString().split('|');
      if (tag !== keychain.secret) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      return Buffer.from(hex!, 'hex').toString();
    },
  },
}));

const { safeStorageKeyProvider } = await import('../../../electron/safe-storage-key.ts');
const { fileKeyProvider } = await import('../../../core/store/key-provider.ts');

const root = await fsp.mkdtemp(join(tmpdir(), 'wheelhouse-safe-key-'));
let n = 0;
let dir = '';
beforeEach(async () => {
  dir = join(root, `d${++n}`);
  await fsp.mkdir(dir, { mode: 0o700 });
  Object.assign(keychain, { available: true, backend: 'gnome_libsecret', secret: 'fake-keychain-secret' });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());
afterAll(() => fsp.rm(root, { recursive: true, force: true }));

describe('safeStorage key provider', () => {
  it('creates a key sealed by the keychain, 0600, never in the clear, and reuses it', async () => {
    const key = await safeStorageKeyProvider(dir).load();
    expect(key).toHaveLength(32);
    const sealed = await fsp.readFile(join(dir, 'encryption-key.safe'));
    expect(sealed.toString()).not.toContain(key.toString('base64'));
    if (process.platform !== 'win32') expect((await fsp.stat(join(dir, 'encryption-key.safe'))).mode & 0o777).toBe(0o600);
    await expect(fsp.access(join(dir, 'encryption-key'))).rejects.toThrow();
    expect(await safeStorageKeyProvider(dir).load()).toEqual(key);
  });

  it("moves headless mode's key file into the keychain, so its Secrets stay readable", async () => {
    const headless = await fileKeyProvider(dir).load();
    expect(await safeStorageKeyProvider(dir).load()).toEqual(headless);
    await expect(fsp.access(join(dir, 'encryption-key'))).rejects.toThrow();
    expect(await safeStorageKeyProvider(dir).load()).toEqual(headless);
    // Headless mode now refuses the folder instead of making a second key.
    await expect(fileKeyProvider(dir).load()).rejects.toThrow('encryption-key.safe');
  });

  it('falls back to the key file without a real keychain (unavailable, or Linux basic_text)', async () => {
    keychain.available = false;
    const p = safeStorageKeyProvider(dir);
    expect(p.name).toBe(`key file ${join(dir, 'encryption-key')}`);
    const key = await p.load();
    if (process.platform === 'linux') {
      keychain.available = true;
      keychain.backend = 'basic_text';
      expect(await safeStorageKeyProvider(dir).load()).toEqual(key);
    }
    await expect(fsp.access(join(dir, 'encryption-key.safe'))).rejects.toThrow();
  });

  it('says which file the keychain cannot unseal', async () => {
    await safeStorageKeyProvider(dir).load();
    keychain.secret = 'another-keychain';
    await expect(safeStorageKeyProvider(dir).load()).rejects.toThrow(join(dir, 'encryption-key.safe'));
    await fsp.writeFile(join(dir, 'encryption-key.safe'), Buffer.from(`another-keychain|${Buffer.from('short').toString('hex')}`));
    await expect(safeStorageKeyProvider(dir).load()).rejects.toThrow(/malformed/);
  });
});
