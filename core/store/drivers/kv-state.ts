/**
 * The in-memory key-value state every driver shares: entries by key, a sorted key index, the
 * store revision, and the rules that turn a create/update/delete into a `Mutation` (or a typed
 * StoreError). Drivers differ only in what happens between planning a mutation and applying it
 * (the memory driver applies at once; the lowdb driver first makes it durable).
 *
 * Values are copied in with JSON semantics (`jsonCopy`: what a round trip through JSON text
 * would give, so memory and lowdb agree on e.g. Dates and undefined fields) and copied out with
 * `clonePlain`; no caller ever holds a reference into the store. Stored values are never mutated.
 */
import { StoreError, type KeyValue, type StoredValue, type WatchEvent, type WatchEventType } from '../store.ts';
import { clonePlain, jsonCopy } from './json-copy.ts';
import { SortedKeys } from './sorted-keys.ts';

/** One stored version of a key. Never mutated once built; safe to share between state, history and snapshots. */
export interface Entry {
  /** Plain JSON data owned by the store: never handed out, never mutated. */
  readonly value: StoredValue;
  readonly createRevision: number;
  readonly modRevision: number;
}

/** A planned (validated) change. For DELETED, `entry` is the last state with modRevision = the delete's revision. */
export interface Mutation {
  readonly type: WatchEventType;
  readonly key: string;
  readonly revision: number;
  readonly entry: Entry;
  readonly prev?: Entry;
}

/** Where planning looks a key up: the committed state, or the state including writes not yet durable. */
export type Lookup = (key: string) => Entry | undefined;

/** The store's own copy of a value given to create/update. */
export function copyIn(key: string, value: StoredValue): StoredValue {
  if (typeof key !== 'string' || key === '') throw new TypeError('store key must be a non-empty string');
  const copy = value === null || typeof value !== 'object' || Array.isArray(value) ? undefined : jsonCopy(value);
  if (copy === null || typeof copy !== 'object' || Array.isArray(copy)) {
    throw new TypeError(`store value for ${key} must be a JSON object`);
  }
  return copy as StoredValue;
}

export function toKeyValue(key: string, entry: Entry): KeyValue {
  return {
    key,
    value: clonePlain(entry.value),
    createRevision: entry.createRevision,
    modRevision: entry.modRevision,
  };
}

export function toWatchEvent(m: Mutation): WatchEvent {
  const ev: WatchEvent = { type: m.type, kv: toKeyValue(m.key, m.entry) };
  if (m.prev) ev.prev = toKeyValue(m.key, m.prev);
  return ev;
}

export function planCreate(lookup: Lookup, key: string, value: StoredValue, revision: number): Mutation {
  if (lookup(key)) throw new StoreError('AlreadyExists', `key ${key} already exists`, key);
  return { type: 'ADDED', key, revision, entry: { value, createRevision: revision, modRevision: revision } };
}

export function planUpdate(lookup: Lookup, key: string, value: StoredValue, expectedRevision: number, revision: number): Mutation {
  const prev = existing(lookup, key, expectedRevision, 'update');
  return { type: 'MODIFIED', key, revision, entry: { value, createRevision: prev.createRevision, modRevision: revision }, prev };
}

export function planDelete(lookup: Lookup, key: string, expectedRevision: number, revision: number): Mutation {
  const prev = existing(lookup, key, expectedRevision, 'delete');
  return { type: 'DELETED', key, revision, entry: { ...prev, modRevision: revision }, prev };
}

function existing(lookup: Lookup, key: string, expectedRevision: number, verb: string): Entry {
  const prev = lookup(key);
  if (!prev) throw new StoreError('NotFound', `cannot ${verb} ${key}: not found`, key);
  if (expectedRevision && prev.modRevision !== expectedRevision) {
    throw new StoreError(
      'Conflict',
      `cannot ${verb} ${key}: expected revision ${expectedRevision}, but it is at ${prev.modRevision}`,
      key,
    );
  }
  return prev;
}

export class KvState {
  private readonly entries = new Map<string, Entry>();
  private readonly keys = new SortedKeys();
  revision = 0;

  readonly lookup: Lookup = (key) => this.entries.get(key);

  get size(): number {
    return this.entries.size;
  }

  /** Apply a planned mutation; its revision must be the next one. */
  apply(m: Mutation): void {
    if (m.revision !== this.revision + 1) {
      throw new Error(`internal: mutation at revision ${m.revision} applied to state at ${this.revision}`);
    }
    if (m.type === 'DELETED') {
      this.entries.delete(m.key);
      this.keys.remove(m.key);
    } else {
      if (!this.entries.has(m.key)) this.keys.insert(m.key);
      this.entries.set(m.key, m.entry);
    }
    this.revision = m.revision;
  }

  /** Load an entry as is (snapshot restore); does not move the revision. */
  load(key: string, entry: Entry): void {
    if (!this.entries.has(key)) this.keys.insert(key);
    this.entries.set(key, entry);
  }

  /** Up to `limit` (0: all) keys under `prefix` after `after`, and whether more remain. */
  range(prefix: string, limit: number, after?: string): { keys: [string, Entry][]; more: boolean } {
    const out: [string, Entry][] = [];
    for (const key of this.keys.scan(prefix, after)) {
      if (limit > 0 && out.length === limit) return { keys: out, more: true };
      out.push([key, this.entries.get(key)!]);
    }
    return { keys: out, more: false };
  }

  /** Every entry in key order (entries are immutable, so this is a consistent snapshot). */
  all(): [string, Entry][] {
    return this.range('', 0).keys;
  }
}
