/** The actions of the workload list and details: scale, restart, delete, suspend, trigger. */
import type { WorkloadKind } from '../../../core/desktop-api.ts';
import { api } from './api.ts';
import { attempt, confirm } from './ui.svelte.ts';

export const SCALABLE = new Set<WorkloadKind>(['Deployment', 'StatefulSet', 'ReplicaSet']);
export const RESTARTABLE = new Set<WorkloadKind>(['Deployment', 'StatefulSet', 'DaemonSet']);

/** Resolves to whether the scale was sent and accepted (a failure is an error toast). */
export async function scale(kind: WorkloadKind, namespace: string, name: string, replicas: number): Promise<boolean> {
  if (!SCALABLE.has(kind) || !Number.isInteger(replicas) || replicas < 0) return false;
  return !!(await attempt('Scale', () => api.call('workloads.scale', { kind: kind as 'Deployment', namespace, name, replicas }).then(() => true), `${kind} ${name} scaled to ${replicas}`));
}

export async function restart(kind: WorkloadKind, namespace: string, name: string): Promise<void> {
  if (!(await confirm({ title: `Restart ${name}`, text: `Replace every pod of ${kind} ${namespace}/${name}, following its update strategy?`, confirmLabel: 'Restart' }))) return;
  await attempt('Restart', () => api.call('workloads.restart', { kind: kind as 'Deployment', namespace, name }), `${kind} ${name} is restarting`);
}

export async function remove(kind: WorkloadKind, namespace: string, name: string): Promise<boolean> {
  if (!(await confirm({ title: `Delete ${name}`, text: `Delete ${kind} ${namespace}/${name} and its pods?`, confirmLabel: 'Delete', danger: true }))) return false;
  return !!(await attempt('Delete', () => api.call('resources.delete', { kind, namespace, name }).then(() => true), `${kind} ${name} deleted`));
}

export async function suspend(kind: 'Job' | 'CronJob', namespace: string, name: string, value: boolean): Promise<void> {
  await attempt(value ? 'Suspend' : 'Resume', () => api.call('workloads.suspend', { kind, namespace, name, suspend: value }), `${kind} ${name} ${value ? 'suspended' : 'resumed'}`);
}

export async function trigger(namespace: string, name: string): Promise<void> {
  const r = await attempt('Run now', () => api.call('workloads.trigger', { namespace, name }));
  if (r) await attempt('', async () => r, `Job ${r.job} created`);
}
