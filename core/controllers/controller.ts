/**
 * What every controller gets and what it must offer. The shape is client-go's sample-controller:
 * informer handlers only enqueue keys (`namespace/name`), `reconcile(key)` reads the informer
 * cache, structuredClone()s before changing anything, writes through the client, and throws to
 * be retried with per-key backoff. Owner references route a child's events to its owner's key.
 */
import type { Client } from '../client/client.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import type { InformerFactory } from './informer.ts';

export interface ControllerContext {
  client: Client;
  informers: InformerFactory;
  /** An event recorder whose source component is `component`. */
  recorder(component: string): EventRecorder;
  /** The clock (tests pass a fake one). */
  now(): Date;
  /** Cluster-wide switches, e.g. `autoRollback` (see ControllerOptions). */
  options: ControllerOptions;
}

export interface ControllerOptions {
  /** Roll a failed Deployment rollout back to the last good revision by itself (default true). */
  autoRollback: boolean;
  /** Node heartbeat grace period before NotReady (Kubernetes 50 s; desktop default 20 s). */
  nodeMonitorGracePeriodSeconds: number;
  /** Node status/lease check interval of the node-lifecycle controller. */
  nodeMonitorPeriodSeconds: number;
  /** How often every HPA is evaluated (Kubernetes: 15 s). */
  hpaSyncPeriodSeconds: number;
  /** Events are deleted this long after their last update (kube-apiserver's --event-ttl: 1 h). */
  eventTTLSeconds: number;
}

export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = {
  autoRollback: true,
  nodeMonitorGracePeriodSeconds: 20,
  nodeMonitorPeriodSeconds: 5,
  hpaSyncPeriodSeconds: 15,
  eventTTLSeconds: 3600,
};

export interface Controller {
  readonly name: string;
  /** Start workers; informers are started by the manager afterwards (handlers already registered). */
  run(workers: number): void;
  stop(): void;
  /** The key reconciler, public so unit tests can call it on a seeded cache. */
  reconcile(key: string): Promise<void>;
}

/** The owner's key for a child that has a controller ownerReference of `kind`, else undefined. */
export function controllerOwnerKey(
  obj: { metadata: { namespace?: string; ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }> } },
  kind: string,
): string | undefined {
  const ref = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === kind);
  if (!ref) return undefined;
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${ref.name}` : ref.name;
}
