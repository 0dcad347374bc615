/**
 * Image pull progress from every local node agent, fanned out to the open sessions (each batches
 * it: the latest state per pod, ≤ 4 updates a second). `attach()` subscribes to agents added
 * since the last call (nodes.add calls it).
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

export class PullFanout {
  private readonly subscribed = new Map<string, () => void>();

  constructor(
    private readonly cluster: Cluster,
    private readonly deliver: (ref: PodRef, images: ImagePullState[]) => void,
  ) {}

  attach(): void {
    for (const [name, agent] of this.cluster.agents) {
      if (this.subscribed.has(name)) continue;
      const off = agent.onPullProgress((e) => {
        this.deliver({ namespace: e.namespace, pod: e.pod }, toPullStates(agent.pullProgress(e.namespace, e.pod)));
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
  }
}
