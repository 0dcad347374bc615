/**
 * `kubectl logs` and `kubectl exec` on this node: find the pod's container instance (the current
 * one, or with `previous` the one before — kept until the next restart, as the kubelet keeps it)
 * and stream from the runtime. Errors are the API server's, with its wording:
 * `previous terminated container "web" in pod "web-1" not found`,
 * `container "web" in pod "web-1" is waiting to start: ContainerCreating`.
 */
import { badRequest, notFound } from '../api/errors.ts';
import type { ExecSession, LogLine, LogOptions } from '../runtime/runtime.ts';
import { loadPodRuntime, instancesOf } from './pod-runtime.ts';
import type { AgentContext, PodState } from './types.ts';
import type { Pod } from './util.ts';

export interface PodLogOptions extends LogOptions {
  /** The previous instance (the one that exited before the current one started). */
  previous?: boolean;
  signal?: AbortSignal;
}

export interface PodExecOptions {
  tty?: boolean;
  stdin?: boolean;
}

export class LogsExec {
  constructor(
    private readonly ctx: AgentContext,
    private readonly findPod: (namespace: string, name: string) => PodState | undefined,
  ) {}

  async logs(namespace: string, podName: string, container: string | undefined, opts: PodLogOptions = {}): Promise<AsyncIterable<LogLine>> {
    const { state, name } = this.resolve(namespace, podName, container);
    const pr = await loadPodRuntime(this.ctx.runtime, this.ctx.cluster, this.ctx.nodeName, state.uid);
    const [cur, prev] = instancesOf(pr, name);
    const pick = opts.previous ? prev : cur;
    if (!pick) {
      if (opts.previous) throw badRequest(`previous terminated container "${name}" in pod "${podName}" not found`);
      const reason = this.waitingReason(state, name);
      throw badRequest(`container "${name}" in pod "${podName}" is waiting to start: ${reason}`);
    }
    const { previous: _p, signal, ...rest } = opts;
    const follow = rest.follow && pick.state === 'running';
    return this.ctx.runtime.logs(pick.id, { ...rest, follow }, signal);
  }

  async exec(namespace: string, podName: string, container: string | undefined, cmd: string[], opts: PodExecOptions = {}): Promise<ExecSession> {
    const { state, name } = this.resolve(namespace, podName, container);
    if (!cmd.length) throw badRequest('you must specify at least one command for the container');
    const pr = await loadPodRuntime(this.ctx.runtime, this.ctx.cluster, this.ctx.nodeName, state.uid);
    const cur = instancesOf(pr, name)[0];
    if (!cur || cur.state !== 'running') throw badRequest(`unable to upgrade connection: container not found ("${name}")`);
    return this.ctx.runtime.exec(cur.id, { cmd, ...(opts.tty ? { tty: true } : {}), ...(opts.stdin ? { stdin: true } : {}) });
  }

  private resolve(namespace: string, podName: string, container: string | undefined): { state: PodState; name: string } {
    const state = this.findPod(namespace, podName);
    if (!state) throw notFound({ kind: 'Pod', name: podName }, 'pods');
    const pod: Pod = state.pod;
    const names = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.name);
    let name = container;
    if (!name) {
      if (pod.spec.containers.length !== 1) {
        throw badRequest(`a container name must be specified for pod ${podName}, choose one of: [${pod.spec.containers.map((c) => c.name).join(' ')}]`);
      }
      name = pod.spec.containers[0]!.name;
    }
    if (!names.includes(name)) throw badRequest(`container ${name} is not valid for pod ${podName}`);
    return { state, name };
  }

  private waitingReason(state: PodState, name: string): string {
    const w = state.waiting.get(name);
    if (w) return w.reason;
    const all = [...(state.pod.status?.initContainerStatuses ?? []), ...(state.pod.status?.containerStatuses ?? [])];
    return all.find((s) => s.name === name)?.state?.waiting?.reason ?? 'ContainerCreating';
  }
}

