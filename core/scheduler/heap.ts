/** A binary heap with keyed lookup, removal and update (the scheduling queue's activeQ and backoffQ). */
interface Slot<T> {
  item: T;
  key: string;
  index: number;
}

export class Heap<T> {
  private readonly slots: Slot<T>[] = [];
  private readonly byKey = new Map<string, Slot<T>>();

  constructor(
    private readonly less: (a: T, b: T) => boolean,
    private readonly keyOf: (t: T) => string,
  ) {}

  get size(): number {
    return this.slots.length;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get(key: string): T | undefined {
    return this.byKey.get(key)?.item;
  }

  peek(): T | undefined {
    return this.slots[0]?.item;
  }

  /** Adds, or replaces the item with the same key (and restores the order). */
  push(t: T): void {
    const key = this.keyOf(t);
    const existing = this.byKey.get(key);
    if (existing) {
      existing.item = t;
      if (!this.up(existing.index)) this.down(existing.index);
      return;
    }
    const slot: Slot<T> = { item: t, key, index: this.slots.length };
    this.slots.push(slot);
    this.byKey.set(key, slot);
    this.up(slot.index);
  }

  pop(): T | undefined {
    if (!this.slots.length) return undefined;
    const top = this.slots[0]!;
    this.removeAt(0);
    return top.item;
  }

  remove(key: string): T | undefined {
    const slot = this.byKey.get(key);
    if (!slot) return undefined;
    this.removeAt(slot.index);
    return slot.item;
  }

  values(): T[] {
    return this.slots.map((s) => s.item);
  }

  private removeAt(i: number): void {
    const slots = this.slots;
    const removed = slots[i]!;
    this.byKey.delete(removed.key);
    const last = slots.pop()!;
    if (last === removed) return;
    slots[i] = last;
    last.index = i;
    if (!this.up(i)) this.down(i);
  }

  private up(i: number): boolean {
    const slots = this.slots;
    const s = slots[i]!;
    let moved = false;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = slots[p]!;
      if (!this.less(s.item, parent.item)) break;
      slots[i] = parent;
      parent.index = i;
      i = p;
      moved = true;
    }
    slots[i] = s;
    s.index = i;
    return moved;
  }

  private down(i: number): void {
    const slots = this.slots;
    const n = slots.length;
    const s = slots[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(slots[r]!.item, slots[l]!.item) ? r : l;
      const child = slots[c]!;
      if (!this.less(child.item, s.item)) break;
      slots[i] = child;
      child.index = i;
      i = c;
    }
    slots[i] = s;
    s.index = i;
  }
}
