/**
 * Secrets encrypted at rest — kube-apiserver's EncryptionConfiguration `aesgcm` provider, as a
 * Store that wraps another one.
 *
 * A value under an encrypted prefix (Secrets: `/registry/core/secrets/`) is stored as an envelope
 *
 *     { "wheelhouse.io/encrypted": "k8s:enc:aesgcm:v1:<keyName>:<base64 nonce | ciphertext | tag>" }
 *
 * holding the whole object as JSON, sealed with AES-256-GCM under a random 12-byte nonce, with the
 * storage key as additional authenticated data (a ciphertext copied to another key does not
 * open). `<keyName>` is a fingerprint of the key, so a mismatch can be told apart from tampering.
 * get / list / watch (including `prev`) decrypt transparently; a value without the envelope reads
 * as plaintext (written before encryption was on). `open` rewrites every such Secret once, then
 * folds the lowdb journal so the plaintext leaves the disk.
 *
 * A value that does not decrypt throws StoreError('Corrupt') naming the key, never the contents.
 * Like kube-apiserver, a list that meets one fails as a whole; a watch logs it and skips the event.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { log } from '../log.ts';
import type { KeyProvider } from './key-provider.ts';
import {
  StoreError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type StoredValue,
  type Watcher,
  type WatchEvent,
} from './store.ts';

/** The field of the stored envelope. */
export const ENCRYPTED_FIELD = 'wheelhouse.io/encrypted';
/** Where Secrets live (storageKey of core/api/kinds.ts). */
export const SECRETS_PREFIX = '/registry/core/secrets/';
const SCHEME = 'k8s:enc:aesgcm:v1:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface EncryptionOptions {
  /** Key prefixes whose values are encrypted (default: Secrets only). */
  prefixes?: string[];
  /**
   * At start-up, delete the values this key does not open (after the key was lost, so the objects
   * can be recreated). Default: the environment variable WHEELHOUSE_DELETE_UNREADABLE_SECRETS=1.
   */
  deleteUnreadable?: boolean;
}

export const DELETE_UNREADABLE_ENV = 'WHEELHOUSE_DELETE_UNREADABLE_SECRETS';

/** The key's name in envelopes: a fingerprint that reveals nothing about the key. */
export function keyName(key: Buffer): string {
  return createHash('sha256').update('wheelhouse.io/encryption-key-id\0').update(key).digest('hex').slice(0, 8);
}

export class EncryptingStore implements Store {
  private readonly name: string;
  private readonly prefixes: string[];
  private readonly deleteUnreadable: boolean;

  /**
   * Loads the key, wraps `inner`, and encrypts the Secrets still stored in plaintext. On failure
   * `inner` is closed and the error (naming the key's file) thrown.
   */
  static async open(inner: Store, provider: KeyProvider, opts: EncryptionOptions = {}): Promise<EncryptingStore> {
    try {
      const store = new EncryptingStore(inner, await provider.load(), provider.name, opts);
      await store.migrate();
      return store;
    } catch (err) {
      await inner.close().catch(() => undefined);
      throw err;
    }
  }

  constructor(
    readonly inner: Store,
    private readonly key: Buffer,
    /** Where the key came from, for messages (`key file /…/encryption-key`). */
    private readonly keySource: string,
    opts: EncryptionOptions = {},
  ) {
    if (key.length !== 32) throw new Error(`encryption key from ${keySource} must be 32 bytes, got ${key.length}`);
    this.name = keyName(key);
    this.prefixes = opts.prefixes ?? [SECRETS_PREFIX];
    this.deleteUnreadable = opts.deleteUnreadable ?? process.env[DELETE_UNREADABLE_ENV] === '1';
  }

  /**
   * Rewrites every plaintext value under the encrypted prefixes as an envelope, and reports values
   * that do not decrypt with this key. Runs once at start-up, before anyone else writes.
   */
  async migrate(): Promise<{ encrypted: number; unreadable: string[] }> {
    let encrypted = 0;
    const unreadable: string[] = [];
    for (const prefix of this.prefixes) {
      for (const kv of (await this.inner.list(prefix)).items) {
        if (envelopeOf(kv.value) !== undefined) {
          try {
            this.open(kv.key, kv.value);
          } catch {
            unreadable.push(kv.key);
          }
          continue;
        }
        try {
          await this.inner.update(kv.key, this.seal(kv.key, JSON.stringify(kv.value)), kv.modRevision);
          encrypted++;
        } catch (err) {
          if (!(err instanceof StoreError) || (err.code !== 'Conflict' && err.code !== 'NotFound')) throw err;
        }
      }
    }
    if (encrypted > 0) {
      log.info('encrypted Secrets that were stored in plaintext', { count: encrypted, key: this.name });
      // The journal and the old snapshot still hold the plaintext: fold them away now.
      const fold = (this.inner as { fold?: () => Promise<void> }).fold;
      if (typeof fold === 'function') await fold.call(this.inner);
    }
    if (unreadable.length > 0 && this.deleteUnreadable) {
      for (const key of unreadable) await this.inner.delete(key).catch(() => undefined);
      log.warn('deleted the Secrets that the encryption key does not open (their values were lost with the key)', { keys: unreadable.slice(0, 20), count: unreadable.length });
    } else if (unreadable.length > 0) {
      log.error(
        'Secrets that the encryption key does not open: they cannot be read until the key they were written with is restored. ' +
          `If it is lost, start once with ${DELETE_UNREADABLE_ENV}=1 to delete them, then recreate them`,
        { keys: unreadable.slice(0, 20), count: unreadable.length, key: this.name, keySource: this.keySource },
      );
    }
    return { encrypted, unreadable };
  }

  currentRevision(): number {
    return this.inner.currentRevision();
  }

  compactedRevision(): number {
    return this.inner.compactedRevision();
  }

  async get(key: string): Promise<KeyValue> {
    return this.decrypt(await this.inner.get(key));
  }

  async list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    const res = await this.inner.list(prefix, opts);
    return { ...res, items: res.items.map((kv) => this.decrypt(kv)) };
  }

  async create(key: string, value: StoredValue): Promise<KeyValue> {
    if (!this.covers(key)) return this.inner.create(key, value);
    const json = toJson(key, value);
    const kv = await this.inner.create(key, this.seal(key, json));
    return { ...kv, value: JSON.parse(json) as StoredValue };
  }

  async update(key: string, value: StoredValue, expectedRevision: number): Promise<KeyValue> {
    if (!this.covers(key)) return this.inner.update(key, value, expectedRevision);
    const json = toJson(key, value);
    const kv = await this.inner.update(key, this.seal(key, json), expectedRevision);
    return { ...kv, value: JSON.parse(json) as StoredValue };
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    const kv = await this.inner.delete(key, expectedRevision);
    try {
      return this.decrypt(kv);
    } catch (err) {
      // The delete happened; what was deleted cannot be shown. Hand back the envelope as stored.
      log.warn('deleted a value that the encryption key does not open', { key, error: (err as Error).message });
      return kv;
    }
  }

  watch(prefix: string, fromRevision: number, listener: (ev: WatchEvent) => void): Watcher {
    return this.inner.watch(prefix, fromRevision, (ev) => {
      let out: WatchEvent;
      try {
        out = { type: ev.type, kv: this.decrypt(ev.kv) };
        if (ev.prev) out.prev = this.decrypt(ev.prev);
      } catch (err) {
        log.error('watch: skipping an event whose value does not decrypt', { key: ev.kv.key, revision: ev.kv.modRevision, error: (err as Error).message });
        return;
      }
      listener(out);
    });
  }

  compact(revision: number): Promise<void> {
    return this.inner.compact(revision);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private covers(key: string): boolean {
    return this.prefixes.some((p) => key.startsWith(p));
  }

  private decrypt(kv: KeyValue): KeyValue {
    if (!this.covers(kv.key) || envelopeOf(kv.value) === undefined) return kv; // plaintext from before
    return { ...kv, value: this.open(kv.key, kv.value) };
  }

  /** The envelope for `json` stored at `key`. */
  private seal(key: string, json: string): StoredValue {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(key, 'utf8'));
    const body = Buffer.concat([nonce, cipher.update(json, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { [ENCRYPTED_FIELD]: `${SCHEME}${this.name}:${body.toString('base64')}` };
  }

  /** The object inside the envelope stored at `key`. @throws StoreError Corrupt */
  private open(key: string, value: StoredValue): StoredValue {
    const env = envelopeOf(value)!;
    const fail = (why: string) =>
      new StoreError(
        'Corrupt',
        `stored value at ${key} cannot be decrypted: ${why}. ` +
          `Restore the key it was written with as ${this.keySource}; if that key is lost, so is the value: start once with ${DELETE_UNREADABLE_ENV}=1 to delete such values.`,
        key,
      );
    const m = /^k8s:enc:aesgcm:v1:([^:]+):([A-Za-z0-9+/]*={0,2})$/.exec(env);
    if (!m) throw fail('the envelope is not k8s:enc:aesgcm:v1:<key>:<base64> (written by a newer Wheelhouse, or damaged)');
    const [, name, b64] = m as unknown as [string, string, string];
    if (name !== this.name) {
      throw fail(`the encryption key does not match (the value was encrypted with key ${name}, the loaded key is ${this.name})`);
    }
    const body = Buffer.from(b64, 'base64');
    if (body.length < NONCE_BYTES + TAG_BYTES) throw fail('the ciphertext is truncated');
    let json: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, body.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(key, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      json = Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw fail('authentication failed: the encryption key does not match, or the value was altered or moved from another key');
    }
    let obj: unknown;
    try {
      obj = JSON.parse(json);
    } catch {
      obj = undefined;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw fail('the decrypted value is not a JSON object');
    return obj as StoredValue;
  }
}

/** The envelope string when `value` is an encrypted value, else undefined (plaintext). */
function envelopeOf(value: StoredValue): string | undefined {
  const env = value[ENCRYPTED_FIELD];
  if (typeof env !== 'string' || !env.startsWith('k8s:enc:')) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 ? env : undefined;
}

/** JSON of a value the way the store copies it (JSON semantics), refusing what is not an object. */
function toJson(key: string, value: StoredValue): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`store value for ${key} must be a JSON object`);
  return JSON.stringify(value);
}
