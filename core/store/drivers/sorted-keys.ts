/**
 * A sorted index of keys: binary search to find a position, splice to insert or remove.
 * Inserting or removing is one memmove of the array (microseconds at 100,000 keys); a prefix
 * scan is a binary search plus a walk, so listing never sorts.
 *
 * Keys compare as JavaScript strings (UTF-16 code units). For the ASCII keys the store uses
 * (`/registry/<group>/<plural>/<namespace>/<name>`) that is etcd's byte order.
 */
export class SortedKeys {
  private keys: string[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** Index of the first key >= `key`. */
  lowerBound(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first key > `key`. */
  upperBound(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(key: string): void {
    const i = this.lowerBound(key);
    if (this.keys[i] !== key) this.keys.splice(i, 0, key);
  }

  remove(key: string): void {
    const i = this.lowerBound(key);
    if (this.keys[i] === key) this.keys.splice(i, 1);
  }

  at(i: number): string | undefined {
    return this.keys[i];
  }

  /** Keys starting with `prefix` and strictly after `after` (if given), in order. */
  *scan(prefix: string, after?: string): Generator<string> {
    let i = this.lowerBound(prefix);
    if (after !== undefined && after >= prefix) i = Math.max(i, this.upperBound(after));
    for (; i < this.keys.length; i++) {
      const key = this.keys[i]!;
      if (!key.startsWith(prefix)) return;
      yield key;
    }
  }
}
