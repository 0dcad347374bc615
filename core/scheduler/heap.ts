/** A binary heap with keyed removal and update (the scheduling queue's activeQ and backoffQ). */
export class Heap<T> {
  private readonly items: T[] = [];
  private readonly pos = new Map<string, number>();

  constructor(
    private readonly less: (a: T, b: T) => boolean,
    private readonly keyOf: (t: T) => string,
  ) {}

  get size(): number {
    return this.items.length;
  }

  has(key: string): boolean {
    return this.pos.has(key);
  }

  get(key: string): T | undefined {
    const i = this.pos.get(key);
    return i === undefined ? undefined : this.items[i];
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds, or replaces the item with the same key. */
  push(t: T): void {
    const k = this.keyOf(t);
    const i = this.pos.get(k);
    if (i !== undefined) {
      this.items[i] = t;
      this.fix(i);
      return;
    }
    this.items.push(t);
    this.pos.set(k, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    if (!this.items.length) return undefined;
    const top = this.items[0]!;
    this.removeAt(0);
    return top;
  }

  remove(key: string): T | undefined {
    const i = this.pos.get(key);
    if (i === undefined) return undefined;
    const t = this.items[i]!;
    this.removeAt(i);
    return t;
  }

  values(): readonly T[] {
    return this.items;
  }

  private removeAt(i: number): void {
    const last = this.items.pop()!;
    this.pos.delete(this.keyOf(i < this.items.length ? this.items[i]! : last));
    if (i < this.items.length) {
      this.items[i] = last;
      this.pos.set(this.keyOf(last), i);
      this.fix(i);
    }
  }

  private fix(i: number): void {
    if (!this.up(i)) this.down(i);
  }

  private up(i: number): boolean {
    const items = this.items;
    const t = items[i]!;
    let moved = false;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(t, items[p]!)) break;
      items[i] = items[p]!;
      this.pos.set(this.keyOf(items[i]!), i);
      i = p;
      moved = true;
    }
    items[i] = t;
    this.pos.set(this.keyOf(t), i);
    return moved;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const t = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(items[r]!, items[l]!) ? r : l;
      if (!this.less(items[c]!, t)) break;
      items[i] = items[c]!;
      this.pos.set(this.keyOf(items[i]!), i);
      i = c;
    }
    items[i] = t;
    this.pos.set(this.keyOf(t), i);
  }
}
