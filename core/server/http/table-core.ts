/** Table printers for the core kinds (pods, services, nodes, namespaces, events, config …), as kube-apiserver prints them. */
import type { KubeObject } from '../../api/types.ts';
import { AGE, col, formatLabels, NAME, since, type Printer } from './table-util.ts';

function podRow(pod: KubeObject, now: number): unknown[] {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart = 0;
  let lastSidecarRestart = 0;
  const initSpecs: any[] = spec.initContainers ?? [];
  const sidecar = (name: string) => initSpecs.find((c) => c.name === name)?.restartPolicy === 'Always';
  // Sidecars (restartable init containers) count as containers, as kubectl's printPod counts them.
  const total = (spec.containers ?? []).length + initSpecs.filter((c) => c?.restartPolicy === 'Always').length;
  let ready = 0;
  let reason: string = status.reason || status.phase || '';
  const conditions: any[] = status.conditions ?? [];
  for (const c of conditions) {
    if (c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }
  const finishedAt = (cs: any) => {
    const at = Date.parse(cs.lastState?.terminated?.finishedAt ?? '');
    return Number.isNaN(at) ? 0 : at;
  };
  let initializing = false;
  const inits: any[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const cs = inits[i];
    restarts += cs.restartCount ?? 0;
    lastRestart = Math.max(lastRestart, finishedAt(cs));
    if (sidecar(cs.name)) {
      sidecarRestarts += cs.restartCount ?? 0;
      lastSidecarRestart = Math.max(lastSidecarRestart, finishedAt(cs));
    }
    const t = cs.state?.terminated;
    const w = cs.state?.waiting;
    if (t && t.exitCode === 0) continue;
    if (sidecar(cs.name) && cs.started) {
      if (cs.ready) ready++;
      continue;
    }
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (w?.reason && w.reason !== 'PodInitializing') reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${initSpecs.length}`;
    initializing = true;
    break;
  }
  const initialized = conditions.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const css: any[] = status.containerStatuses ?? [];
    for (let i = css.length - 1; i >= 0; i--) {
      const cs = css[i];
      restarts += cs.restartCount ?? 0;
      lastRestart = Math.max(lastRestart, finishedAt(cs));
      const w = cs.state?.waiting;
      const t = cs.state?.terminated;
      if (w?.reason) reason = w.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
      else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  const restartsText = restarts !== 0 && lastRestart ? `${restarts} (${since(new Date(lastRestart).toISOString(), now)} ago)` : String(restarts);
  const ip = status.podIPs?.[0]?.ip ?? status.podIP ?? '<none>';
  const gates: any[] = spec.readinessGates ?? [];
  const gatesText = gates.length
    ? `${gates.filter((g) => conditions.some((c) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}`
    : '<none>';
  return [
    pod.metadata.name,
    `${ready}/${total}`,
    reason,
    restartsText,
    since(pod.metadata.creationTimestamp, now),
    ip,
    spec.nodeName || '<none>',
    status.nominatedNodeName || '<none>',
    gatesText,
  ];
}

function servicePorts(svc: KubeObject): string {
  const ports: any[] = svc.spec?.ports ?? [];
  if (!ports.length) return '<none>';
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

function externalIP(svc: KubeObject): string {
  const s = svc.spec ?? {};
  const ext: string[] = s.externalIPs ?? [];
  switch (s.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const ing: any[] = svc.status?.loadBalancer?.ingress ?? [];
      const all = [...ing.map((i) => i.ip || i.hostname).filter(Boolean), ...ext];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return s.externalName ?? '<none>';
    default:
      return '<unknown>';
  }
}

function nodeStatus(node: KubeObject): string {
  const ready = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const parts = [!ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(node: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/') && k.length > 'node-role.kubernetes.io/'.length) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function nodeAddress(node: KubeObject, type: string): string {
  return (node.status?.addresses ?? []).find((a: any) => a.type === type)?.address ?? '<none>';
}

function endpointsText(ep: KubeObject): string {
  const list: string[] = [];
  for (const ss of (ep.subsets as any[]) ?? []) {
    const ports: any[] = ss.ports?.length ? ss.ports : [{}];
    for (const a of ss.addresses ?? []) for (const p of ports) list.push(p.port !== undefined ? `${a.ip}:${p.port}` : a.ip);
  }
  if (!list.length) return '<none>';
  return list.length > 3 ? `${list.slice(0, 3).join(',')} + ${list.length - 3} more...` : list.join(',');
}

const ACCESS: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
const accessModes = (modes: string[] | undefined) => (modes ?? []).map((m) => ACCESS[m] ?? m).join(',');

function eventLastSeen(e: any): string | undefined {
  return e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp;
}

function quotaCell(q: KubeObject, limits: boolean): string {
  const hard = q.status?.hard ?? q.spec?.hard ?? {};
  const used = q.status?.used ?? {};
  return Object.keys(hard)
    .filter((k) => k.startsWith('limits.') === limits)
    .sort()
    .map((k) => `${k}: ${used[k] ?? '0'}/${hard[k]}`)
    .join(', ');
}

const createdAt = (o: KubeObject) => o.metadata.creationTimestamp ?? '<unknown>';

export const PRINTERS_CORE: Record<string, Printer> = {
  Pod: {
    columns: [NAME(), col('Ready'), col('Status'), col('Restarts'), AGE(), col('IP', 'string', 1), col('Node', 'string', 1), col('Nominated Node', 'string', 1), col('Readiness Gates', 'string', 1)],
    row: podRow,
  },
  Service: {
    columns: [NAME(), col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE(), col('Selector', 'string', 1)],
    row: (s, now) => [s.metadata.name, s.spec?.type ?? 'ClusterIP', s.spec?.clusterIP || '<none>', externalIP(s), servicePorts(s), since(s.metadata.creationTimestamp, now), formatLabels(s.spec?.selector)],
  },
  Node: {
    columns: [NAME(), col('Status'), col('Roles'), AGE(), col('Version'), col('Internal-IP', 'string', 1), col('External-IP', 'string', 1), col('OS-Image', 'string', 1), col('Kernel-Version', 'string', 1), col('Container-Runtime', 'string', 1)],
    row: (n, now) => {
      const i = n.status?.nodeInfo ?? {};
      return [n.metadata.name, nodeStatus(n), nodeRoles(n), since(n.metadata.creationTimestamp, now), i.kubeletVersion ?? '', nodeAddress(n, 'InternalIP'), nodeAddress(n, 'ExternalIP'), i.osImage || '<unknown>', i.kernelVersion || '<unknown>', i.containerRuntimeVersion || '<unknown>'];
    },
  },
  Namespace: {
    columns: [NAME(), col('Status'), AGE()],
    row: (n, now) => [n.metadata.name, n.status?.phase ?? '', since(n.metadata.creationTimestamp, now)],
  },
  Event: {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Subobject', 'string', 1), col('Source', 'string', 1), col('Message'), col('First Seen', 'string', 1), col('Count', 'string', 1), { ...NAME(), priority: 1 }],
    row: (e: any, now) => {
      const io = e.involvedObject ?? e.regarding ?? {};
      const src = e.source?.component ? [e.source.component, e.source.host].filter(Boolean).join(', ') : e.reportingComponent ?? '';
      const first = e.firstTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp;
      return [since(eventLastSeen(e), now), e.type ?? '', e.reason ?? '', `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`, io.fieldPath ?? '', src, String(e.message ?? e.note ?? '').trim(), since(first, now), String(e.series?.count ?? e.count ?? 1), e.metadata.name];
    },
  },
  ConfigMap: {
    columns: [NAME(), col('Data', 'integer'), AGE()],
    row: (c, now) => [c.metadata.name, Object.keys((c.data as object) ?? {}).length + Object.keys((c.binaryData as object) ?? {}).length, since(c.metadata.creationTimestamp, now)],
  },
  Secret: {
    columns: [NAME(), col('Type'), col('Data', 'integer'), AGE()],
    row: (s, now) => [s.metadata.name, (s.type as string) ?? 'Opaque', Object.keys((s.data as object) ?? {}).length + Object.keys((s.stringData as object) ?? {}).length, since(s.metadata.creationTimestamp, now)],
  },
  ServiceAccount: {
    columns: [NAME(), col('Secrets', 'integer'), AGE()],
    row: (s, now) => [s.metadata.name, ((s.secrets as unknown[]) ?? []).length, since(s.metadata.creationTimestamp, now)],
  },
  Endpoints: {
    columns: [NAME(), col('Endpoints'), AGE()],
    row: (e, now) => [e.metadata.name, endpointsText(e), since(e.metadata.creationTimestamp, now)],
  },
  PersistentVolumeClaim: {
    columns: [NAME(), col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'), col('VolumeAttributesClass'), AGE(), col('VolumeMode', 'string', 1)],
    row: (p, now) => {
      const bound = p.status?.phase === 'Bound';
      return [p.metadata.name, p.metadata.deletionTimestamp ? 'Terminating' : p.status?.phase ?? '', p.spec?.volumeName ?? '', bound ? p.status?.capacity?.storage ?? '' : '', bound ? accessModes(p.status?.accessModes) : '', p.spec?.storageClassName ?? '<unset>', p.spec?.volumeAttributesClassName ?? '<unset>', since(p.metadata.creationTimestamp, now), p.spec?.volumeMode ?? 'Filesystem'];
    },
  },
  PersistentVolume: {
    columns: [NAME(), col('Capacity'), col('Access Modes'), col('Reclaim Policy'), col('Status'), col('Claim'), col('StorageClass'), col('VolumeAttributesClass'), col('Reason'), AGE(), col('VolumeMode', 'string', 1)],
    row: (p, now) => {
      const claim = p.spec?.claimRef ? `${p.spec.claimRef.namespace}/${p.spec.claimRef.name}` : '';
      return [p.metadata.name, p.spec?.capacity?.storage ?? '', accessModes(p.spec?.accessModes), p.spec?.persistentVolumeReclaimPolicy ?? 'Retain', p.metadata.deletionTimestamp ? 'Terminating' : p.status?.phase ?? '', claim, p.spec?.storageClassName ?? '', p.spec?.volumeAttributesClassName ?? '<unset>', p.status?.reason ?? '', since(p.metadata.creationTimestamp, now), p.spec?.volumeMode ?? 'Filesystem'];
    },
  },
  ResourceQuota: {
    columns: [NAME(), AGE(), col('Request'), col('Limit')],
    row: (q, now) => [q.metadata.name, since(q.metadata.creationTimestamp, now), quotaCell(q, false), quotaCell(q, true)],
  },
  LimitRange: { columns: [NAME(), col('Created At', 'date')], row: (o) => [o.metadata.name, createdAt(o)] },
  Lease: {
    columns: [NAME(), col('Holder'), AGE()],
    row: (l, now) => [l.metadata.name, l.spec?.holderIdentity ?? '', since(l.metadata.creationTimestamp, now)],
  },
};
