import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyDefaults, defaultObjectMeta, defaultPullPolicy, generateName } from '../../../core/api/defaults.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import { validateObject } from '../../../core/api/validation/index.ts';

const o = (apiVersion: string, kind: string, body: Record<string, unknown> = {}, name = 'x'): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, namespace: 'default' },
  ...body,
});
const tmpl = (spec: Record<string, unknown> = {}) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }], ...spec } });
const POD_SPEC_DEFAULTS = { dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', terminationGracePeriodSeconds: 30, securityContext: {}, schedulerName: 'default-scheduler' };
const CONTAINER_DEFAULTS = { imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' };

function deepFreeze<T>(x: T): T {
  if (x && typeof x === 'object') {
    Object.values(x).forEach(deepFreeze);
    Object.freeze(x);
  }
  return x;
}

describe('applyDefaults: workloads', () => {
  it('defaults a Deployment exactly as Kubernetes stores it', () => {
    const d = applyDefaults(o('apps/v1', 'Deployment', { spec: { selector: { matchLabels: { app: 'web' } }, template: tmpl() } }));
    expect(d.spec).toEqual({
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { ...POD_SPEC_DEFAULTS, containers: [{ name: 'app', image: 'nginx:1.25', ...CONTAINER_DEFAULTS }] },
      },
    });
    // Templates get neither enableServiceLinks nor server-owned metadata.
    expect(d.spec.template.spec.enableServiceLinks).toBeUndefined();
    expect(d.metadata).toEqual({ name: 'x', namespace: 'default' });
  });

  it('keeps what is given, and a Recreate strategy gets no rollingUpdate', () => {
    const d = applyDefaults(o('apps/v1', 'Deployment', { spec: { replicas: 0, strategy: { type: 'Recreate' }, revisionHistoryLimit: 0, template: tmpl() } }));
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.revisionHistoryLimit).toBe(0);
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    const partial = applyDefaults(o('apps/v1', 'Deployment', { spec: { strategy: { rollingUpdate: { maxSurge: 0 } } } }));
    expect(partial.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '25%' } });
  });

  it('defaults ReplicaSet, StatefulSet and DaemonSet', () => {
    expect(applyDefaults(o('apps/v1', 'ReplicaSet', { spec: { template: tmpl() } })).spec.replicas).toBe(1);
    const sts = applyDefaults(o('apps/v1', 'StatefulSet', {
      spec: { template: tmpl(), volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }] },
    }));
    expect(sts.spec).toMatchObject({
      replicas: 1,
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    });
    expect(sts.spec.volumeClaimTemplates[0].spec.volumeMode).toBe('Filesystem');
    const ds = applyDefaults(o('apps/v1', 'DaemonSet', { spec: { template: tmpl() } }));
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(ds.spec.revisionHistoryLimit).toBe(10);
    expect(applyDefaults(o('apps/v1', 'DaemonSet', { spec: { updateStrategy: { type: 'OnDelete' } } })).spec.updateStrategy).toEqual({ type: 'OnDelete' });
  });

  it('defaults a Job: both counts 1 when unset, backoffLimit 6, no restartPolicy, labels from the template', () => {
    const job = applyDefaults(o('batch/v1', 'Job', { spec: { template: tmpl() } }));
    expect(job.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false });
    expect(job.spec.template.spec.restartPolicy).toBeUndefined();
    expect(job.spec.template.spec.dnsPolicy).toBe('ClusterFirst');
    expect(job.metadata.labels).toEqual({ app: 'web' });
    const five = applyDefaults(o('batch/v1', 'Job', { spec: { completions: 5, template: tmpl() } }));
    expect([five.spec.completions, five.spec.parallelism]).toEqual([5, 1]);
    const par = applyDefaults(o('batch/v1', 'Job', { spec: { parallelism: 3, template: tmpl() } }));
    expect([par.spec.completions, par.spec.parallelism]).toEqual([undefined, 3]);
  });

  it('defaults a CronJob; its job template gets pod defaults but not Job defaults', () => {
    const cj = applyDefaults(o('batch/v1', 'CronJob', { spec: { schedule: '@daily', jobTemplate: { spec: { template: tmpl() } } } }));
    expect(cj.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(cj.spec.jobTemplate.spec.backoffLimit).toBeUndefined();
    expect(cj.spec.jobTemplate.spec.template.spec.terminationGracePeriodSeconds).toBe(30);
    expect(cj.spec.jobTemplate.spec.template.spec.restartPolicy).toBeUndefined();
  });
});

describe('applyDefaults: pods and containers', () => {
  it('picks imagePullPolicy from the tag', () => {
    expect(defaultPullPolicy('nginx')).toBe('Always');
    expect(defaultPullPolicy('nginx:latest')).toBe('Always');
    expect(defaultPullPolicy('nginx:1.25')).toBe('IfNotPresent');
    expect(defaultPullPolicy('nginx@sha256:0123abcd')).toBe('IfNotPresent');
    expect(defaultPullPolicy('repo/app:latest@sha256:0123abcd')).toBe('Always');
    expect(defaultPullPolicy('localhost:5000/app')).toBe('Always');
    expect(defaultPullPolicy('localhost:5000/app:v1')).toBe('IfNotPresent');
    const p = applyDefaults(o('v1', 'Pod', { spec: { containers: [{ name: 'a', image: 'x', imagePullPolicy: 'Never' }] } }));
    expect(p.spec.containers[0].imagePullPolicy).toBe('Never');
  });

  it('a Pod gets enableServiceLinks and requests from limits (per resource); a template does not', () => {
    const resources = { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } };
    const pod = applyDefaults(o('v1', 'Pod', { spec: { containers: [{ name: 'a', image: 'x:1', resources }] } }));
    expect(pod.spec).toMatchObject({ ...POD_SPEC_DEFAULTS, enableServiceLinks: true });
    expect(pod.spec.containers[0].resources.requests).toEqual({ cpu: '500m', memory: '1Gi' });
    const d = applyDefaults(o('apps/v1', 'Deployment', { spec: { template: tmpl({ containers: [{ name: 'a', image: 'x:1', resources }] }) } }));
    expect(d.spec.template.spec.containers[0].resources.requests).toEqual({ cpu: '500m' });
  });

  it('defaults ports, probes, volumes and env field refs', () => {
    const pod = applyDefaults(o('v1', 'Pod', {
      spec: {
        volumes: [{ name: 'scratch' }, { name: 's', secret: { secretName: 's' } }, { name: 'h', hostPath: { path: '/x' } }],
        containers: [{
          name: 'a',
          image: 'x:1',
          ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }],
          livenessProbe: { httpGet: { port: 80 }, periodSeconds: 0 },
          readinessProbe: { tcpSocket: { port: 80 }, failureThreshold: 5 },
          env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        }],
      },
    }));
    const c = pod.spec.containers[0];
    expect(c.ports).toEqual([{ containerPort: 80, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP' }]);
    expect(c.livenessProbe).toEqual({ httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    expect(c.readinessProbe).toEqual({ tcpSocket: { port: 80 }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 5 });
    expect(c.env[0].valueFrom.fieldRef).toEqual({ apiVersion: 'v1', fieldPath: 'metadata.name' });
    expect(pod.spec.volumes).toEqual([
      { name: 'scratch', emptyDir: {} },
      { name: 's', secret: { secretName: 's', defaultMode: 420 } },
      { name: 'h', hostPath: { path: '/x', type: '' } },
    ]);
  });

  it('gives host-network pods hostPort = containerPort', () => {
    const pod = applyDefaults(o('v1', 'Pod', { spec: { hostNetwork: true, containers: [{ name: 'a', image: 'x:1', ports: [{ containerPort: 8080 }] }] } }));
    expect(pod.spec.containers[0].ports[0].hostPort).toBe(8080);
  });
});

describe('applyDefaults: services, config, cluster kinds', () => {
  it('defaults a Service', () => {
    const svc = applyDefaults(o('v1', 'Service', { spec: { selector: { app: 'web' }, ports: [{ port: 80 }, { name: 'm', port: 9090, targetPort: 'metrics' }] } }));
    expect(svc.spec).toEqual({
      selector: { app: 'web' },
      type: 'ClusterIP',
      sessionAffinity: 'None',
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }, { name: 'm', port: 9090, protocol: 'TCP', targetPort: 'metrics' }],
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
    });
    const np = applyDefaults(o('v1', 'Service', { spec: { type: 'NodePort', ports: [{ port: 80 }] } }));
    expect(np.spec.externalTrafficPolicy).toBe('Cluster');
    const lb = applyDefaults(o('v1', 'Service', { spec: { type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } }));
    expect(lb.spec).toMatchObject({ externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true, sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } });
    const ext = applyDefaults(o('v1', 'Service', { spec: { type: 'ExternalName', externalName: 'example.com' } }));
    expect(ext.spec).toEqual({ type: 'ExternalName', externalName: 'example.com', sessionAffinity: 'None' });
  });

  it('Secret: type Opaque, stringData folded into base64 data', () => {
    const s = applyDefaults(o('v1', 'Secret', { data: { a: 'eA==' }, stringData: { b: 'hello', a: 'y' } }));
    expect(s).toMatchObject({ type: 'Opaque', data: { a: 'eQ==', b: 'aGVsbG8=' } });
    expect(s.stringData).toBeUndefined();
    expect(applyDefaults(o('v1', 'Secret', { type: 'kubernetes.io/tls' })).type).toBe('kubernetes.io/tls');
  });

  it('PVC, PV, HPA, Namespace, PriorityClass, LimitRange', () => {
    expect(applyDefaults(o('v1', 'PersistentVolumeClaim', { spec: { accessModes: ['ReadWriteOnce'] } })).spec.volumeMode).toBe('Filesystem');
    expect(applyDefaults(o('v1', 'PersistentVolume', { spec: { hostPath: { path: '/d' } } })).spec).toMatchObject({
      persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem',
    });
    const hpa = applyDefaults(o('autoscaling/v2', 'HorizontalPodAutoscaler', { spec: { maxReplicas: 5 } }));
    expect(hpa.spec).toEqual({
      maxReplicas: 5,
      minReplicas: 1,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    });
    const withBehavior = applyDefaults(o('autoscaling/v2', 'HorizontalPodAutoscaler', { spec: { maxReplicas: 5, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } } }));
    expect(withBehavior.spec.behavior).toEqual({
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    });
    const ns = applyDefaults({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    expect(ns).toMatchObject({ spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' }, metadata: { labels: { 'kubernetes.io/metadata.name': 'team-a' } } });
    expect(applyDefaults({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'hi' }, value: 10 })).toMatchObject({ preemptionPolicy: 'PreemptLowerPriority' });
    const lr = applyDefaults(o('v1', 'LimitRange', { spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }, { type: 'Pod', max: { cpu: '4' } }] } }));
    expect(lr.spec.limits[0]).toEqual({ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' }, default: { cpu: '2' }, defaultRequest: { cpu: '2', memory: '64Mi' } });
    expect(lr.spec.limits[1]).toEqual({ type: 'Pod', max: { cpu: '4' } });
  });

  it('leaves kinds without defaults (and unknown kinds) as they are', () => {
    for (const x of [
      o('v1', 'ServiceAccount'),
      o('v1', 'Event', { involvedObject: { kind: 'Pod', name: 'p' } }),
      o('v1', 'Node', { spec: {} }),
      o('coordination.k8s.io/v1', 'Lease', { spec: { holderIdentity: 'a' } }),
      o('rbac.authorization.k8s.io/v1', 'Role', { rules: [] }),
      o('v1', 'ConfigMap', { data: { a: 'b' } }),
      o('example.com/v1', 'Widget', { spec: { size: 3 } }),
    ]) {
      expect(applyDefaults(x)).toEqual(x);
    }
  });
});

describe('applyDefaults: pure and idempotent', () => {
  it('does not touch its input and returns a copy', () => {
    const input = deepFreeze(o('apps/v1', 'Deployment', { spec: { template: tmpl() } }));
    const out = applyDefaults(input);
    expect(out).not.toBe(input);
    expect(input.spec.replicas).toBeUndefined();
  });

  it('defaulting twice changes nothing for every served kind', () => {
    const samples = [
      o('v1', 'Pod', { spec: tmpl().spec }),
      o('apps/v1', 'StatefulSet', { spec: { template: tmpl() } }),
      o('batch/v1', 'Job', { spec: { template: tmpl() } }),
      o('batch/v1', 'CronJob', { spec: { schedule: '@daily', jobTemplate: { spec: { template: tmpl() } } } }),
      o('v1', 'Service', { spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } }),
      o('v1', 'Secret', { stringData: { a: 'b' } }),
      o('autoscaling/v2', 'HorizontalPodAutoscaler', { spec: { behavior: {} } }),
      o('v1', 'LimitRange', { spec: { limits: [{ type: 'Container', max: { cpu: '1' } }] } }),
    ];
    for (const s of samples) {
      const once = applyDefaults(s);
      expect(applyDefaults(once)).toEqual(once);
    }
  });

  const containerArb = fc.record(
    {
      name: fc.constantFrom('app', 'web', 'sidecar'),
      image: fc.constantFrom('nginx', 'nginx:latest', 'nginx:1.25', 'busybox@sha256:abc', 'localhost:5000/x'),
      imagePullPolicy: fc.constantFrom('Always', 'Never', 'IfNotPresent'),
      ports: fc.array(fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }), protocol: fc.constantFrom('TCP', 'UDP') }, { requiredKeys: ['containerPort'] }), { maxLength: 3 }),
      resources: fc.record({ limits: fc.record({ cpu: fc.constantFrom('1', '500m') }), requests: fc.record({ memory: fc.constantFrom('64Mi') }) }, { requiredKeys: [] }),
      livenessProbe: fc.record({ httpGet: fc.record({ port: fc.constantFrom(80, 'http'), path: fc.constantFrom('/', '/healthz') }, { requiredKeys: ['port'] }), periodSeconds: fc.integer({ min: 0, max: 30 }) }, { requiredKeys: ['httpGet'] }),
    },
    { requiredKeys: ['name', 'image'] },
  );
  const podSpecArb = fc.record(
    {
      containers: fc.array(containerArb, { minLength: 1, maxLength: 3 }),
      restartPolicy: fc.constantFrom('Always', 'OnFailure', 'Never'),
      terminationGracePeriodSeconds: fc.integer({ min: 0, max: 120 }),
      hostNetwork: fc.boolean(),
      volumes: fc.array(fc.record({ name: fc.constantFrom('a', 'b'), emptyDir: fc.constant({}) }, { requiredKeys: ['name'] }), { maxLength: 2 }),
    },
    { requiredKeys: ['containers'] },
  );
  const deploymentArb = fc.record(
    {
      replicas: fc.integer({ min: 0, max: 10 }),
      strategy: fc.oneof(fc.constant({ type: 'Recreate' }), fc.record({ type: fc.constant('RollingUpdate'), rollingUpdate: fc.record({ maxSurge: fc.constantFrom(0, 1, '50%') }, { requiredKeys: [] }) }, { requiredKeys: [] })),
      revisionHistoryLimit: fc.integer({ min: 0, max: 20 }),
      paused: fc.boolean(),
      template: podSpecArb.map((spec) => ({ metadata: { labels: { app: 'web' } }, spec })),
    },
    { requiredKeys: ['template'] },
  );

  it('property: idempotent and input-preserving on random Deployments and Pods', () => {
    fc.assert(
      fc.property(fc.oneof(
        deploymentArb.map((spec) => o('apps/v1', 'Deployment', { spec })),
        podSpecArb.map((spec) => o('v1', 'Pod', { spec })),
      ), (obj) => {
        const before = structuredClone(obj);
        const once = applyDefaults(obj);
        expect(obj).toEqual(before);
        expect(applyDefaults(once)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });

  it('property: defaulting never adds a validation problem to a Deployment', () => {
    fc.assert(
      fc.property(deploymentArb, (spec) => {
        const d = o('apps/v1', 'Deployment', { spec: { ...spec, selector: { matchLabels: { app: 'web' } } } });
        const names = d.spec.template.spec.containers.map((c: any, i: number) => ({ ...c, name: `c${i}` }));
        d.spec.template.spec.containers = names;
        d.spec.template.spec.restartPolicy = 'Always';
        d.spec.template.spec.volumes = d.spec.template.spec.volumes?.map((v: any, i: number) => ({ ...v, name: `v${i}` }));
        d.spec.template.spec.containers.forEach((c: any) => (c.ports = c.ports?.map((p: any) => ({ ...p, hostPort: undefined }))));
        const before = validateObject(d).filter((e) => !e.field.includes('resources'));
        const after = validateObject(applyDefaults(d)).filter((e) => !e.field.includes('resources'));
        for (const e of after) expect(before).toContainEqual(e);
      }),
      { numRuns: 100 },
    );
  });
});

describe('defaultObjectMeta (for the API server on create)', () => {
  const now = new Date('2024-05-01T12:34:56.789Z');
  const seq = () => {
    let i = 0;
    return (n: number) => i++ % n;
  };

  it('fills uid, creationTimestamp (second precision) and generation 1 for objects with a spec', () => {
    const d = o('apps/v1', 'Deployment', { spec: {} });
    d.metadata.uid = 'client-sent';
    const out = defaultObjectMeta(d, now, () => 'u-1');
    expect(out).toBe(d); // in place
    expect(d.metadata).toMatchObject({ uid: 'u-1', creationTimestamp: '2024-05-01T12:34:56Z', generation: 1 });
    const cm = defaultObjectMeta(o('v1', 'ConfigMap', { data: {} }), now, () => 'u-2');
    expect(cm.metadata.generation).toBeUndefined();
  });

  it('names from generateName with five characters of the Kubernetes alphabet', () => {
    const p: KubeObject = defaultObjectMeta({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-' }, spec: {} }, now, () => 'u', seq());
    expect(p.metadata.name).toBe('web-bcdfg');
    expect(generateName('x-')).toMatch(/^x-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(generateName('a'.repeat(80))).toHaveLength(63);
    const named = defaultObjectMeta({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'keep', generateName: 'web-' } }, now, () => 'u');
    expect(named.metadata.name).toBe('keep');
  });

  it('generates a Job selector and template labels from the uid, unless manualSelector', () => {
    const job = defaultObjectMeta(applyDefaults(o('batch/v1', 'Job', { spec: { template: tmpl({ restartPolicy: 'Never' }) } }, 'pi')), now, () => 'uid-9');
    expect(job.spec.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': 'uid-9' } });
    expect(job.spec.template.metadata.labels).toEqual({
      app: 'web', 'job-name': 'pi', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': 'uid-9', 'batch.kubernetes.io/controller-uid': 'uid-9',
    });
    expect(validateObject(job)).toEqual([]);
    const manual = defaultObjectMeta(o('batch/v1', 'Job', { spec: { manualSelector: true, template: tmpl() } }), now, () => 'u');
    expect(manual.spec.selector).toBeUndefined();
  });
});
