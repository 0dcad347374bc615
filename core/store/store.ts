/**
 * The store — kine's shape: a handful of calls over keys, one global revision that only grows,
 * optimistic concurrency on update/delete, and an ordered watch that resumes from a revision.
 *
 * Values are plain JSON objects. The store never mutates a value it was given and never hands out
 * a value a caller could mutate in place (drivers copy on the way in and out).
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type StoredValue = Record<string, unknown>;

export interface KeyValue {
  key: string;
  value: StoredValue;
  /** Revision of the write that created the key (etcd's create_revision). */
  createRevision: number;
  /** Revision of the last write to the key (etcd's mod_revision; the object's resourceVersion). */
  modRevision: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  /** For ADDED/MODIFIED the new state; for DELETED the last state, with `modRevision` = the delete's revision. */
  kv: KeyValue;
  /** The state before this event (MODIFIED and DELETED). */
  prev?: KeyValue;
}

export interface ListOptions {
  /** At most this many items (0 / undefined: all). */
  limit?: number;
  /** Start strictly after this key (for paging). */
  after?: string;
}

export interface ListResult {
  items: KeyValue[];
  /** The store revision the list reflects. */
  revision: number;
  /** True when `limit` cut the list short. */
  more: boolean;
}

export interface Watcher {
  close(): void;
}

export interface Store {
  /** The newest revision (0 for an empty, fresh store). */
  currentRevision(): number;
  /** The oldest revision from which `watch` can still resume (events after it are kept). */
  compactedRevision(): number;
  /** @throws StoreError NotFound */
  get(key: string): Promise<KeyValue>;
  /** Keys that start with `prefix`, in key order. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** @returns the new revision. @throws StoreError AlreadyExists */
  create(key: string, value: StoredValue): Promise<KeyValue>;
  /** Replace the value if the key's modRevision equals `expectedRevision` (0: any). @throws NotFound, Conflict */
  update(key: string, value: StoredValue, expectedRevision: number): Promise<KeyValue>;
  /** @returns the deleted key-value, modRevision = the delete's revision. @throws NotFound, Conflict */
  delete(key: string, expectedRevision?: number): Promise<KeyValue>;
  /**
   * Every change under `prefix` with revision > `fromRevision`, in revision order, then live ones.
   * `fromRevision` 0 means "from now". @throws StoreError Compacted when that history is gone.
   */
  watch(prefix: string, fromRevision: number, listener: (ev: WatchEvent) => void): Watcher;
  /** Drop history up to and including `revision`; later watches from before it get Compacted. */
  compact(revision: number): Promise<void>;
  /** Flush and release files; later calls fail. */
  close(): Promise<void>;
}

export type StoreErrorCode = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Compacted' | 'Corrupt' | 'Closed' | 'IO';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly key?: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}

/** Options every driver takes (on top of what its URL says). */
export interface StoreOpenOptions {
  /** Watch history kept for resuming watches: at most this many events (default 10,000)… */
  historyLimit?: number;
  /** …and none older than this (default 5 minutes). */
  historyMaxAgeMs?: number;
}

export type StoreFactory = (rest: string, url: string, opts: StoreOpenOptions) => Promise<Store>;

const drivers = new Map<string, StoreFactory>();

/** Drivers register under a URL scheme: `memory:`, `lowdb:<path>`, `etcd://…`. */
export function registerStoreDriver(scheme: string, factory: StoreFactory): void {
  drivers.set(scheme, factory);
}

/** Open a store from its URL, e.g. `memory:` or `lowdb:/home/me/.wheelhouse/store.json`. */
export async function openStore(url: string, opts: StoreOpenOptions = {}): Promise<Store> {
  const m = /^([a-z0-9+.-]+):(.*)$/i.exec(url);
  if (!m) throw new Error(`store URL "${url}" has no scheme (expected memory:, lowdb:<path> or etcd://…)`);
  const scheme = m[1]!.toLowerCase();
  const factory = drivers.get(scheme);
  if (!factory) {
    throw new Error(`no store driver for "${scheme}:" (known: ${[...drivers.keys()].map((s) => s + ':').join(', ')})`);
  }
  return factory(m[2]!, url, opts);
}
