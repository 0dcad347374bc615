/** Table printers for workloads, autoscaling, disruption budgets, RBAC and scheduling kinds, as kube-apiserver prints them. */
import type { KubeObject } from '../../api/types.ts';
import { AGE, col, containersAndImages, formatLabels, formatSelector, humanDuration, NAME, since, type Column, type Printer } from './table-util.ts';

const WIDE_TEMPLATE = (): Column[] => [col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)];
const num = (v: unknown) => (typeof v === 'number' ? v : 0);

function template(o: KubeObject): [string, string] {
  return containersAndImages(o.spec?.template?.spec);
}

function jobStatus(j: KubeObject): string {
  const conds: any[] = j.status?.conditions ?? [];
  const has = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (has('Failed')) return 'Failed';
  if (has('Complete')) return 'Complete';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (j.metadata.deletionTimestamp) return 'Terminating';
  return 'Running';
}

function jobCompletions(j: KubeObject): string {
  const succeeded = num(j.status?.succeeded);
  if (j.spec?.completions != null) return `${succeeded}/${j.spec.completions}`;
  const par = j.spec?.parallelism ?? 0;
  return par > 1 ? `${succeeded}/1 of ${par}` : `${succeeded}/1`;
}

function jobDuration(j: KubeObject, now: number): string {
  const start = Date.parse(j.status?.startTime ?? '');
  if (Number.isNaN(start)) return '';
  const end = Date.parse(j.status?.completionTime ?? '');
  return humanDuration((Number.isNaN(end) ? now : end) - start);
}

function hpaTargets(h: KubeObject): string {
  const specs: any[] = h.spec?.metrics ?? [];
  const current: any[] = h.status?.currentMetrics ?? [];
  if (!specs.length) return '<none>';
  const parts = specs.map((m, i) => {
    if (m.type !== 'Resource' && m.type !== 'ContainerResource') return `${m.type}: <unsupported>`;
    const src = m.resource ?? m.containerResource ?? {};
    const cur = current[i]?.resource ?? current[i]?.containerResource;
    const t = src.target ?? {};
    if (t.type === 'Utilization') {
      const c = cur?.current?.averageUtilization;
      return `${src.name}: ${c == null ? '<unknown>' : `${c}%`}/${t.averageUtilization}%`;
    }
    const want = t.averageValue ?? t.value;
    const c = cur?.current?.averageValue ?? cur?.current?.value;
    return `${src.name}: ${c ?? '<unknown>'}/${want}`;
  });
  return parts.length > 2 ? `${parts.slice(0, 2).join(', ')} + ${parts.length - 2} more...` : parts.join(', ');
}

function subjects(b: KubeObject, kind: string): string {
  return ((b.subjects as any[]) ?? [])
    .filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? b.metadata.namespace ?? ''}/${s.name}` : s.name))
    .join(', ');
}

const roleBinding: Printer = {
  columns: [NAME(), col('Role'), AGE(), col('Users', 'string', 1), col('Groups', 'string', 1), col('ServiceAccounts', 'string', 1)],
  row: (b: any, now) => [b.metadata.name, `${b.roleRef?.kind}/${b.roleRef?.name}`, since(b.metadata.creationTimestamp, now), subjects(b, 'User'), subjects(b, 'Group'), subjects(b, 'ServiceAccount')],
};
const createdAt: Printer = { columns: [NAME(), col('Created At', 'date')], row: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? '<unknown>'] };

export const PRINTERS_WORKLOADS: Record<string, Printer> = {
  Deployment: {
    columns: [NAME(), col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), AGE(), ...WIDE_TEMPLATE()],
    row: (d, now) => [d.metadata.name, `${num(d.status?.readyReplicas)}/${d.spec?.replicas ?? 1}`, num(d.status?.updatedReplicas), num(d.status?.availableReplicas), since(d.metadata.creationTimestamp, now), ...template(d), formatSelector(d.spec?.selector)],
  },
  ReplicaSet: {
    columns: [NAME(), col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), AGE(), ...WIDE_TEMPLATE()],
    row: (r, now) => [r.metadata.name, r.spec?.replicas ?? 1, num(r.status?.replicas), num(r.status?.readyReplicas), since(r.metadata.creationTimestamp, now), ...template(r), formatSelector(r.spec?.selector)],
  },
  StatefulSet: {
    columns: [NAME(), col('Ready'), AGE(), col('Containers', 'string', 1), col('Images', 'string', 1)],
    row: (s, now) => [s.metadata.name, `${num(s.status?.readyReplicas)}/${s.spec?.replicas ?? 1}`, since(s.metadata.creationTimestamp, now), ...template(s)],
  },
  DaemonSet: {
    columns: [NAME(), col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), col('Up-to-date', 'integer'), col('Available', 'integer'), col('Node Selector'), AGE(), ...WIDE_TEMPLATE()],
    row: (d, now) => {
      const s = d.status ?? {};
      return [d.metadata.name, num(s.desiredNumberScheduled), num(s.currentNumberScheduled), num(s.numberReady), num(s.updatedNumberScheduled), num(s.numberAvailable), formatLabels(d.spec?.template?.spec?.nodeSelector), since(d.metadata.creationTimestamp, now), ...template(d), formatSelector(d.spec?.selector)];
    },
  },
  Job: {
    columns: [NAME(), col('Status'), col('Completions'), col('Duration'), AGE(), ...WIDE_TEMPLATE()],
    row: (j, now) => [j.metadata.name, jobStatus(j), jobCompletions(j), jobDuration(j, now), since(j.metadata.creationTimestamp, now), ...template(j), formatSelector(j.spec?.selector)],
  },
  CronJob: {
    columns: [NAME(), col('Schedule'), col('Timezone'), col('Suspend', 'boolean'), col('Active', 'integer'), col('Last Schedule'), AGE(), ...WIDE_TEMPLATE()],
    row: (c, now) => {
      const [cs, im] = containersAndImages(c.spec?.jobTemplate?.spec?.template?.spec);
      const last = c.status?.lastScheduleTime;
      return [c.metadata.name, c.spec?.schedule ?? '', c.spec?.timeZone ?? '<none>', c.spec?.suspend ? 'True' : 'False', (c.status?.active ?? []).length, last ? since(last, now) : '<none>', since(c.metadata.creationTimestamp, now), cs, im, formatSelector(c.spec?.jobTemplate?.spec?.selector)];
    },
  },
  HorizontalPodAutoscaler: {
    columns: [NAME(), col('Reference'), col('Targets'), col('MinPods', 'string'), col('MaxPods', 'integer'), col('Replicas', 'integer'), AGE()],
    row: (h, now) => {
      const ref = h.spec?.scaleTargetRef ?? {};
      return [h.metadata.name, `${ref.kind}/${ref.name}`, hpaTargets(h), h.spec?.minReplicas != null ? String(h.spec.minReplicas) : '<unset>', h.spec?.maxReplicas ?? 0, num(h.status?.currentReplicas), since(h.metadata.creationTimestamp, now)];
    },
  },
  PodDisruptionBudget: {
    columns: [NAME(), col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions', 'integer'), AGE()],
    row: (p, now) => {
      const io = (v: unknown) => (v === undefined || v === null ? 'N/A' : String(v));
      return [p.metadata.name, io(p.spec?.minAvailable), io(p.spec?.maxUnavailable), num(p.status?.disruptionsAllowed), since(p.metadata.creationTimestamp, now)];
    },
  },
  ControllerRevision: {
    columns: [NAME(), col('Controller'), col('Revision', 'integer'), AGE()],
    row: (r, now) => {
      const ref = (r.metadata.ownerReferences ?? []).find((o) => o.controller);
      const group = ref?.apiVersion.includes('/') ? `.${ref.apiVersion.split('/')[0]}` : '';
      return [r.metadata.name, ref ? `${ref.kind}${group}/${ref.name}` : '<none>', (r.revision as number) ?? 0, since(r.metadata.creationTimestamp, now)];
    },
  },
  Role: createdAt,
  ClusterRole: createdAt,
  RoleBinding: roleBinding,
  ClusterRoleBinding: roleBinding,
  PriorityClass: {
    columns: [NAME(), col('Value', 'integer'), col('Global-Default', 'boolean'), AGE(), col('PreemptionPolicy')],
    row: (p, now) => [p.metadata.name, (p.value as number) ?? 0, Boolean(p.globalDefault), since(p.metadata.creationTimestamp, now), (p.preemptionPolicy as string) ?? 'PreemptLowerPriority'],
  },
};
