/**
 * A pod's sandbox (its network namespace on the cluster network, its hostname, DNS and host
 * ports). A new one replaces a sandbox that died: whatever still runs in the old one is stopped
 * first, as the kubelet does (`SandboxChanged`), and the old one is removed later, when the node
 * is quiet (reaper.ts). Host ports are published
 * on 127.0.0.1 unless the port names a hostIP — a desktop choice: nothing is exposed to the LAN
 * by accident.
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import { LABEL, type DnsConfig, type PodSandboxConfig, type PodSandboxStatus, type PortMapping, type Protocol } from '../runtime/runtime.ts';
import type { PodRuntime } from './pod-runtime.ts';
import type { SyncDeps } from './pod-sync.ts';
import { killPod, podGracePeriod } from './termination.ts';
import type { AgentContext, PodState } from './types.ts';
import { asObject, errorMessage, type Pod } from './util.ts';

export async function createSandbox(d: SyncDeps, state: PodState, pr: PodRuntime): Promise<PodSandboxStatus> {
  const { ctx } = d;
  const pod = state.pod;
  if (pr.sandboxes.length) {
    await killPod(ctx, pod, pr, { graceSeconds: podGracePeriod(pod) });
    // The old sandboxes (their containers with them) are removed once the node is quiet
    // (reaper.ts): after an engine restart every pod is here at once, and the new sandbox comes first.
    const old = new Set(pr.sandboxes.map((s) => s.id));
    for (const c of pr.containers) if (!old.has(c.sandboxId)) await ctx.runtime.removeContainer(c.id);
    d.reaper.removeSandboxes(old);
    d.probes.removePod(state.uid);
    ctx.recorder.event(asObject(pod), 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
  }
  const cfg = sandboxConfig(ctx, pod, pr.sandboxes.length ? pr.sandboxes[0]!.attempt + 1 : 0);
  let id: string;
  try {
    id = await ctx.runtime.runPodSandbox(cfg);
  } catch (err) {
    if (!/network .*not found/i.test(errorMessage(err))) {
      if ((err as Error).name !== 'RuntimeUnavailableError') {
        ctx.recorder.event(asObject(pod), 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${errorMessage(err)}`);
      }
      throw err;
    }
    // The cluster network went away (an engine reset, a `docker network prune`): make it again.
    await ctx.runtime.ensureNetwork(ctx.network, { [LABEL.cluster]: ctx.cluster });
    id = await ctx.runtime.runPodSandbox(cfg);
  }
  return ctx.runtime.podSandboxStatus(id);
}

export function sandboxConfig(ctx: AgentContext, pod: Pod, attempt: number): PodSandboxConfig {
  const m = pod.metadata;
  const dns = dnsConfig(ctx, pod);
  return {
    cluster: ctx.cluster,
    node: ctx.nodeName,
    namespace: m.namespace ?? 'default',
    podName: m.name ?? '',
    podUid: m.uid ?? '',
    attempt,
    hostname: (pod.spec.hostname || m.name || 'pod').slice(0, 63),
    network: ctx.network,
    ...(dns ? { dns } : {}),
    portMappings: portMappings(pod, ctx.opts.hostPortIP),
    ...(pod.spec.shareProcessNamespace ? { sharePidNamespace: true } : {}),
    labels: { ...(m.labels ?? {}) },
    annotations: {},
  };
}

function portMappings(pod: Pod, defaultHostIP: string): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const p of c.ports ?? []) {
      out.push({
        containerPort: p.containerPort,
        protocol: (p.protocol ?? 'TCP') as Protocol,
        ...(p.hostPort ? { hostPort: p.hostPort, hostIP: p.hostIP || defaultHostIP } : {}),
      });
    }
  }
  return out;
}

/** resolv.conf for the pod by dnsPolicy (ClusterFirst uses `clusterDNS` when the agent has one). */
function dnsConfig(ctx: AgentContext, pod: Pod): DnsConfig | undefined {
  const policy = pod.spec.dnsPolicy ?? 'ClusterFirst';
  const extra: k8s.PodDNSConfig = pod.spec.dnsConfig ?? {};
  const opts = (extra.options ?? []).map((o) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name ?? '')).filter(Boolean);
  let base: DnsConfig | undefined;
  if ((policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') && ctx.opts.clusterDNS.length) {
    const domain = ctx.opts.clusterDomain;
    const ns = pod.metadata.namespace ?? 'default';
    base = { servers: [...ctx.opts.clusterDNS], searches: [`${ns}.svc.${domain}`, `svc.${domain}`, domain], options: ['ndots:5'] };
  } else if (policy === 'None') {
    base = { servers: [], searches: [], options: [] };
  }
  if (!base && !pod.spec.dnsConfig) return undefined;
  base ??= { servers: [], searches: [], options: [] };
  const optNames = new Set(opts.map((o) => o.split(':')[0]));
  return {
    servers: [...new Set([...base.servers, ...(extra.nameservers ?? [])])],
    searches: [...new Set([...base.searches, ...(extra.searches ?? [])])],
    options: [...base.options.filter((o) => !optNames.has(o.split(':')[0])), ...opts],
  };
}
