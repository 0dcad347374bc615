/**
 * Image pull progress from every local node agent, fanned out to the open sessions (each batches
 * it: the latest state per pod, ≤ 4 updates a second). `attach()` subscribes to agents added
 * since the last call (nodes.add calls it).
 *
 * The agent reports progress as it streams in, but a pull's end (done, or failed) comes after its
 * last progress line: a pod with a pull under way is looked at again every half second until
 * every pull of it has ended, so the renderer sees the bars complete (or fail).
 */
import type { ImagePullState as AgentPullState } from '../agent/images.ts';
import type { Cluster } from '../cluster.ts';
import type { ImagePullState, PodRef } from '../desktop-api.ts';

export function toPullStates(states: AgentPullState[]): ImagePullState[] {
  return states.map((p) => ({
    image: p.image,
    container: p.container,
    done: p.done,
    ...(p.error ? { error: p.error } : {}),
    currentBytes: p.currentBytes,
    totalBytes: p.totalBytes,
    layers: Object.keys(p.layers).length,
  }));
}

const FOLLOW_MS = 500;
/** Stop following a pod's pulls after this long without an end (the agent's backoff takes over). */
const FOLLOW_MAX_MS = 10 * 60_000;

export class PullFanout {
  private readonly subscribed = new Map<string, () => void>();
  private readonly following = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly cluster: Cluster,
    private readonly deliver: (ref: PodRef, images: ImagePullState[]) => void,
  ) {}

  attach(): void {
    for (const [name, agent] of this.cluster.agents) {
      if (this.subscribed.has(name)) continue;
      const off = agent.onPullProgress((e) => {
        this.deliver({ namespace: e.namespace, pod: e.pod }, toPullStates(agent.pullProgress(e.namespace, e.pod)));
        this.follow(name, e.namespace, e.pod);
      });
      this.subscribed.set(name, off);
    }
    for (const [name, off] of this.subscribed) {
      if (!this.cluster.agents.has(name)) {
        off();
        this.subscribed.delete(name);
      }
    }
  }

  detach(): void {
    for (const off of this.subscribed.values()) off();
    this.subscribed.clear();
    for (const t of this.following.values()) clearInterval(t);
    this.following.clear();
  }

  private follow(node: string, namespace: string, pod: string): void {
    const key = `${namespace}/${pod}`;
    if (this.following.has(key)) return;
    const started = Date.now();
    let last = '';
    const timer = setInterval(() => {
      const agent = this.cluster.agents.get(node);
      const states = agent ? toPullStates(agent.pullProgress(namespace, pod)) : [];
      const seen = JSON.stringify(states);
      if (seen !== last) {
        last = seen;
        this.deliver({ namespace, pod }, states);
      }
      if (!states.length || states.every((s) => s.done || s.error) || Date.now() - started > FOLLOW_MAX_MS) {
        clearInterval(timer);
        this.following.delete(key);
      }
    }, FOLLOW_MS);
    timer.unref?.();
    this.following.set(key, timer);
  }
}
