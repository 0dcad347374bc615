/**
 * The in-memory key-value state every driver shares: entries by key, a sorted key index, the
 * store revision, and the rules that turn a create/update/delete into a `Mutation` (or a typed
 * StoreError). Drivers differ only in what happens between planning a mutation and applying it
 * (the memory driver applies at once; the lowdb driver first makes it durable).
 *
 * Values are kept as their JSON text: copying in is `JSON.stringify`, copying out is
 * `JSON.parse`, so no caller ever holds a reference into the store, and the lowdb driver writes
 * the same text to its journal and snapshot without serializing again.
 */
import { StoreError, type KeyValue, type StoredValue, type WatchEvent, type WatchEventType } from '../store.ts';
import { SortedKeys } from './sorted-keys.ts';

/** One stored version of a key. Never mutated once built; safe to share between state, history and snapshots. */
export interface Entry {
  readonly json: string;
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

export function encodeValue(key: string, value: StoredValue): string {
  if (typeof key !== 'string' || key === '') throw new TypeError('store key must be a non-empty string');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`store value for ${key} must be a JSON object`);
  }
  return JSON.stringify(value);
}

export function toKeyValue(key: string, entry: Entry): KeyValue {
  return {
    key,
    value: JSON.parse(entry.json) as StoredValue,
    createRevision: entry.createRevision,
    modRevision: entry.modRevision,
  };
}

export function toWatchEvent(m: Mutation): WatchEvent {
  const ev: WatchEvent = { type: m.type, kv: toKeyValue(m.key, m.entry) };
  if (m.prev) ev.prev = toKeyValue(m.key, m.prev);
  return ev;
}

export function planCreate(lookup: Lookup, key: string, json: string, revision: number): Mutation {
  if (lookup(key)) throw new StoreError('AlreadyExists', `key ${key} already exists`, key);
  return { type: 'ADDED', key, revision, entry: { json, createRevision: revision, modRevision: revision } };
}

export function planUpdate(lookup: Lookup, key: string, json: string, expectedRevision: number, revision: number): Mutation {
  const prev = existing(lookup, key, expectedRevision, 'update');
  return { type: 'MODIFIED', key, revision, entry: { json, createRevision: prev.createRevision, modRevision: revision }, prev };
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
