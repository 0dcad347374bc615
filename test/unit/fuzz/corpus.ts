/**
 * Seeds and mutators for the property-based fuzz tests: one valid object of every common kind,
 * and a fast-check arbitrary that damages them — a field replaced by any JSON value, deleted, or
 * set to a huge string, deep nesting or binary-looking text — so the generated inputs stay close
 * enough to real objects to reach deep into validation, defaulting and merging.
 */
import fc from 'fast-check';
import type { KubeObject } from '../../../core/api/types.ts';

const podSpec = {
  containers: [
    {
      name: 'web', image: 'nginx:1.25', ports: [{ name: 'http', containerPort: 80 }],
      env: [{ name: 'A', value: 'b' }, { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      readinessProbe: { httpGet: { path: '/', port: 80 } },
      volumeMounts: [{ name: 'data', mountPath: '/data' }],
    },
  ],
  volumes: [{ name: 'data', emptyDir: {} }],
  nodeSelector: { disk: 'ssd' },
  tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }],
};
const meta = (name: string, labels: Record<string, string> = { app: 'web' }) => ({ name, namespace: 'default', labels });
const template = { metadata: { labels: { app: 'web' } }, spec: podSpec };

export const SEEDS: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Pod', metadata: meta('p'), spec: podSpec },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('d'), spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } } } },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('s'), spec: { serviceName: 's', replicas: 2, selector: { matchLabels: { app: 'web' } }, template, volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] } },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('ds'), spec: { selector: { matchLabels: { app: 'web' } }, template } },
  { apiVersion: 'batch/v1', kind: 'Job', metadata: meta('j'), spec: { completions: 2, parallelism: 1, backoffLimit: 3, template: { ...template, spec: { ...podSpec, restartPolicy: 'Never' } } } },
  { apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta('cj'), spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { ...template, spec: { ...podSpec, restartPolicy: 'OnFailure' } } } } } },
  { apiVersion: 'v1', kind: 'Service', metadata: meta('svc'), spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], type: 'NodePort' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('cm'), data: { 'app.conf': 'x=1\n' } },
  { apiVersion: 'v1', kind: 'Secret', metadata: meta('sec'), type: 'Opaque', data: { password: Buffer.from('hunter2').toString('base64') } },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta('h'), spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd' }, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] } },
  { apiVersion: 'v1', kind: 'ResourceQuota', metadata: meta('q'), spec: { hard: { pods: '10', 'requests.cpu': '4' } } },
  { apiVersion: 'v1', kind: 'LimitRange', metadata: meta('lr'), spec: { limits: [{ type: 'Container', default: { cpu: '500m' } }] } },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta('pvc'), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta('r'), rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { team: 'a' } } },
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } },
] as KubeObject[];

/** Every path to a value inside `v` (arrays by index). */
function paths(v: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function setAt(root: any, path: Array<string | number>, value: unknown, remove: boolean): any {
  if (!path.length) return remove ? {} : value;
  let o = root;
  for (const k of path.slice(0, -1)) o = o[k];
  const last = path[path.length - 1]!;
  if (remove) {
    if (Array.isArray(o)) o.splice(Number(last), 1);
    else delete o[last];
  } else o[last] = value;
  return root;
}

function deep(n: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { x: v };
  return v;
}

/** Hostile values: any JSON, huge strings, deep nesting, control characters, numbers at the edges. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0, 2 ** 31, 2 ** 53 + 1, -0, 1e308, 0.5, '', ' ', '-', '*', '../..', '\u0000', '%00', '\uFFFD', 'a'.repeat(70), 'x'.repeat(300_000)) },
  { weight: 1, arbitrary: fc.nat(120).map(deep) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

/** A seed object with 1–4 random mutations. */
export const mutatedObject: fc.Arbitrary<KubeObject> = fc
  .tuple(
    fc.nat(SEEDS.length - 1),
    fc.array(fc.tuple(fc.nat(), fc.boolean(), hostileValue), { minLength: 1, maxLength: 4 }),
  )
  .map(([i, ops]) => {
    let obj: any = structuredClone(SEEDS[i]!);
    for (const [at, remove, value] of ops) {
      const all = paths(obj);
      const p = all[at % all.length]!;
      obj = setAt(obj, p, structuredClone(value), remove && p.length > 0);
    }
    return obj as KubeObject;
  });

/** Any JSON value shaped a little like an object (or not at all). */
export const anyObject: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: mutatedObject },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.record({ apiVersion: fc.constantFrom('v1', 'apps/v1', 'x/y', ''), kind: fc.constantFrom('Pod', 'Deployment', 'Service', 'Secret', 'Nope', ''), metadata: hostileValue, spec: hostileValue }, { requiredKeys: [] }) },
);

/** Fails the property when one call takes longer than `ms` (a hang or a catastrophic regex). */
export function timed<T>(what: string, fn: () => T, ms = 1_000): T {
  const t0 = performance.now();
  const r = fn();
  const took = performance.now() - t0;
  if (took > ms) throw new Error(`${what} took ${took.toFixed(0)} ms (more than ${ms} ms)`);
  return r;
}

export const RUNS = Number(process.env.WHEELHOUSE_FUZZ_RUNS ?? 10_000);
