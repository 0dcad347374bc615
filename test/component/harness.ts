/**
 * Component tests mount the real Svelte views in Chromium (vitest browser mode) against a fake
 * main process: `FakeMain` is a `Transport` that answers the contract's calls from handlers the
 * test gives, serves `resources.watch` from per-kind fixtures, pushes watch batches and other
 * events, and records every call so a test can assert what a click asked the main process to do.
 */
import { flushSync, mount, unmount, type Component } from 'svelte';
import type { KubeObject } from '../../core/api/types.ts';
import { DesktopError, type CallArgs, type CallName, type CallResult, type DesktopEvents, type EventName } from '../../core/desktop-api.ts';
import { setTransport } from '../../renderer/src/lib/api.ts';
import type { Transport } from '../../renderer/src/lib/transport.ts';
// The app's stylesheet, so that layout (the virtual list, the dialogs) is as in the app.
import '../../renderer/src/app.css';

type Handler<K extends CallName> = (args: CallArgs<K>) => CallResult<K> | Promise<CallResult<K>>;
export type Handlers = { [K in CallName]?: Handler<K> };

export class FakeMain implements Transport {
  readonly kind = 'browser' as const;
  readonly calls: Array<{ name: CallName; args: unknown }> = [];
  private listeners = new Map<string, Set<(p: unknown) => void>>();
  private objects = new Map<string, KubeObject[]>();
  private watchIds = new Map<string, string>();
  private handlers: Handlers;
  private nextWatch = 1;

  constructor(handlers: Handlers = {}) {
    this.handlers = handlers;
  }

  /** Objects `resources.watch`/`resources.list` return for their kind. */
  set(kind: string, items: KubeObject[]): this {
    this.objects.set(kind, items);
    return this;
  }

  handle<K extends CallName>(name: K, h: Handler<K>): this {
    (this.handlers as Record<string, unknown>)[name] = h;
    return this;
  }

  async call(name: CallName, args: unknown): Promise<unknown> {
    this.calls.push({ name, args });
    const h = this.handlers[name] as ((a: unknown) => unknown) | undefined;
    if (h) return structuredClone(await h(args as never));
    switch (name) {
      case 'resources.watch': {
        const kind = (args as { kind: string }).kind;
        const watchId = `w${this.nextWatch++}`;
        this.watchIds.set(kind, watchId);
        return { watchId, items: structuredClone(this.objects.get(kind) ?? []), resourceVersion: '1' };
      }
      case 'resources.list':
        return { items: structuredClone(this.objects.get((args as { kind: string }).kind) ?? []), resourceVersion: '1' };
      case 'metrics.subscribe':
        return { subscriptionId: `m${this.nextWatch++}`, series: { type: 'usage', points: [], windowMs: 900_000, intervalMs: 5_000 } };
      case 'metrics.unsubscribe':
      case 'resources.unwatch':
      case 'logs.close':
      case 'exec.close':
        return null;
      case 'pull.progress':
        return [];
      default:
        throw new DesktopError('BadRequest', `the fake main process has no handler for ${name}`);
    }
  }

  /** Calls of one name, in order. */
  callsOf<K extends CallName>(name: K): Array<CallArgs<K>> {
    return this.calls.filter((c) => c.name === name).map((c) => c.args as CallArgs<K>);
  }

  on(event: EventName, listener: (payload: unknown) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener);
    this.listeners.set(event, set);
    return () => set.delete(listener);
  }

  onReconnect(): () => void {
    return () => {};
  }

  onStatus(cb: (connected: boolean) => void): () => void {
    cb(true);
    return () => {};
  }

  emit<E extends EventName>(event: E, payload: DesktopEvents[E]): void {
    for (const l of this.listeners.get(event) ?? []) l(structuredClone(payload));
    flushSync();
  }

  /** Pushes changed objects of a kind the way the main process batches watch events. */
  push(kind: string, upserts: KubeObject[], deletes: Array<{ namespace?: string; name: string }> = []): void {
    const watchId = this.watchIds.get(kind);
    if (!watchId) throw new Error(`nothing watches ${kind}`);
    this.emit('watch.batch', { changes: [{ watchId, upserts, deletes }] });
  }
}

let mounted: Array<Record<string, unknown>> = [];

/** Mounts a component into a fresh container in the page. */
export function render<P extends Record<string, unknown>>(component: Component<P>, props: P = {} as P): { target: HTMLElement } {
  const target = document.createElement('div');
  document.body.append(target);
  const instance = mount(component, { target, props });
  mounted.push(instance);
  flushSync();
  return { target };
}

export function cleanup(): void {
  for (const m of mounted) unmount(m);
  mounted = [];
  document.body.innerHTML = '';
}

export function useFake(fake: FakeMain): FakeMain {
  setTransport(fake);
  return fake;
}

/** Waits until `fn` returns something truthy (the UI updates asynchronously after calls resolve). */
export async function until<T>(what: string, fn: () => T, timeoutMs = 3_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    flushSync();
    const v = fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const byTestId = (root: ParentNode, id: string): HTMLElement | null => root.querySelector(`[data-testid="${id}"]`);
export const allByTestId = (root: ParentNode, id: string): HTMLElement[] => [...root.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)];
