/**
 * The order a pod's containers stop in when the whole pod is killed (the kubelet's
 * terminationOrdering, SidecarContainers): main containers and ordinary init containers stop at
 * once; a sidecar (an init container with restartPolicy Always) waits until every main container
 * and every sidecar declared after it has exited — so sidecars stop last, in the reverse order of
 * their declaration. A container waits at most what is left of its grace period.
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import type { Pod } from './util.ts';

/** An init container with restartPolicy Always: it runs for the pod's lifetime. */
export function isSidecar(c: k8s.Container | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

export function hasSidecars(pod: Pod): boolean {
  return (pod.spec.initContainers ?? []).some(isSidecar);
}

export class TerminationOrdering {
  /** Running instances per container name, and who waits for them to reach zero. */
  private readonly left = new Map<string, number>();
  private readonly waiters = new Map<string, Array<() => void>>();
  /** Names a container waits for before it may stop. */
  private readonly prereqs = new Map<string, string[]>();

  /** `running`: the names of the pod's running container instances (one entry per instance). */
  constructor(pod: Pod, running: string[]) {
    for (const n of running) this.left.set(n, (this.left.get(n) ?? 0) + 1);
    const mains = pod.spec.containers.map((c) => c.name);
    let later: string | undefined;
    const inits = pod.spec.initContainers ?? [];
    for (let i = inits.length - 1; i >= 0; i--) {
      const c = inits[i]!;
      if (!isSidecar(c)) continue;
      this.prereqs.set(c.name, later ? [...mains, later] : mains);
      later = c.name;
    }
  }

  /** Waits until `name` may stop (or `graceSeconds` pass); resolves with the seconds waited. */
  async waitForTurn(name: string, graceSeconds: number): Promise<number> {
    const pending = (this.prereqs.get(name) ?? []).filter((n) => (this.left.get(n) ?? 0) > 0);
    if (!pending.length) return 0;
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(pending.map((n) => new Promise<void>((r) => this.waiters.set(n, [...(this.waiters.get(n) ?? []), r])))),
      new Promise<void>((r) => {
        timer = setTimeout(r, graceSeconds * 1000);
      }),
    ]);
    clearTimeout(timer);
    return (Date.now() - started) / 1000;
  }

  /** One instance of `name` has exited (or could not be stopped: it no longer holds anyone up). */
  terminated(name: string): void {
    const n = (this.left.get(name) ?? 0) - 1;
    this.left.set(name, Math.max(0, n));
    if (n > 0) return;
    for (const r of this.waiters.get(name) ?? []) r();
    this.waiters.delete(name);
  }
}
