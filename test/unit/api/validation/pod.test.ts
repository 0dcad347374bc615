import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../../../core/api/defaults.ts';
import { validateObject, validateUpdate } from '../../../../core/api/validation/index.ts';
import { causes, container, expectOne, pod, podSpec } from './helpers.ts';

const v = (spec: Record<string, unknown>) => validateObject(pod(spec));
const withContainer = (over: Record<string, unknown>, spec: Record<string, unknown> = {}) => v(podSpec({ containers: [container(over)], ...spec }));
const C = 'spec.containers[0]';

describe('pod spec: containers', () => {
  it('a minimal pod is valid, before and after defaulting', () => {
    expect(v(podSpec())).toEqual([]);
    expect(validateObject(applyDefaults(pod()))).toEqual([]);
  });

  it('needs at least one container, each with a DNS-label name unique across init and app containers, and an image', () => {
    expect(causes(v({ containers: [] }))).toEqual([['spec.containers', 'Required']]);
    expect(causes(v({}))).toEqual([['spec.containers', 'Required']]);
    expect(causes(withContainer({ name: 'Web_1' }))).toEqual([[`${C}.name`, 'Invalid']]);
    expect(causes(withContainer({ name: undefined, image: '' }))).toEqual([[`${C}.name`, 'Required'], [`${C}.image`, 'Required']]);
    expect(causes(withContainer({ image: ' nginx' }))).toEqual([[`${C}.image`, 'Invalid']]);
    const dup = v(podSpec({ initContainers: [container({ name: 'app' })], containers: [container({ name: 'app' })] }));
    expect(expectOne(dup, `${C}.name`, 'Duplicate').message).toBe('Duplicate value: "app"');
    expect(causes(withContainer({ imagePullPolicy: 'Sometimes' }))).toEqual([[`${C}.imagePullPolicy`, 'NotSupported']]);
    expect(causes(withContainer({ command: ['sleep', 10] }))).toEqual([[`${C}.command`, 'Invalid']]);
  });

  it('ports: containerPort required and in range, unique IANA names, protocol, hostPort', () => {
    expect(withContainer({ ports: [{ name: 'http', containerPort: 80 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] })).toEqual([]);
    const errs = withContainer({
      ports: [
        { name: 'http', containerPort: 0 },
        { name: 'http', containerPort: 70000 },
        { name: 'Not_A_Name', containerPort: 81, protocol: 'HTTP' },
        { name: 'way-too-long-port-name', containerPort: 82, hostPort: 99999 },
      ],
    });
    expect(causes(errs)).toEqual([
      [`${C}.ports[0].containerPort`, 'Required'],
      [`${C}.ports[1].name`, 'Duplicate'],
      [`${C}.ports[1].containerPort`, 'Invalid'],
      [`${C}.ports[2].name`, 'Invalid'],
      [`${C}.ports[2].protocol`, 'NotSupported'],
      [`${C}.ports[3].name`, 'Invalid'],
      [`${C}.ports[3].hostPort`, 'Invalid'],
    ]);
    expect(errs[4]!.message).toBe('Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"');
    expect(errs[5]!.message).toBe('Invalid value: "way-too-long-port-name": must be no more than 15 characters');
  });

  it('the same hostPort twice in a pod is a duplicate', () => {
    const errs = v({ containers: [container({ ports: [{ containerPort: 80, hostPort: 8080 }] }), container({ name: 'b', ports: [{ containerPort: 81, hostPort: 8080 }] })] });
    expect(causes(errs)).toEqual([['spec.containers[1].ports[0].hostPort', 'Duplicate']]);
  });

  it('env: names, string values, exactly one valueFrom source', () => {
    expect(withContainer({ env: [{ name: 'MY_VAR.x-1', value: 'a' }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] })).toEqual([]);
    const errs = withContainer({
      env: [
        { name: '1BAD', value: 'a' },
        { value: 'b' },
        { name: 'PORT', value: 8080 },
        { name: 'A', valueFrom: {} },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' }, secretKeyRef: { name: 's', key: 'k' } } },
        { name: 'C', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        { name: 'D', valueFrom: { fieldRef: { fieldPath: 'spec.containers' } } },
        { name: 'E', valueFrom: { secretKeyRef: { name: 's' } } },
      ],
    });
    expect(causes(errs)).toEqual([
      [`${C}.env[0].name`, 'Invalid'],
      [`${C}.env[1].name`, 'Required'],
      [`${C}.env[2].value`, 'Invalid'],
      [`${C}.env[3].valueFrom`, 'Invalid'],
      [`${C}.env[4].valueFrom`, 'Invalid'],
      [`${C}.env[5].valueFrom`, 'Invalid'],
      [`${C}.env[6].valueFrom.fieldRef.fieldPath`, 'NotSupported'],
      [`${C}.env[7].valueFrom.secretKeyRef.key`, 'Required'],
    ]);
    expect(errs[3]!.message).toBe('Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`');
    expect(errs[4]!.message).toBe('Invalid value: "": may not have more than one field specified at a time');
    expect(errs[5]!.message).toBe('Invalid value: "": may not be specified when `value` is not empty');
    expect(causes(withContainer({ envFrom: [{}] }))).toEqual([[`${C}.envFrom`, 'Invalid']]);
  });

  it('resources: valid quantities, standard names, requests ≤ limits', () => {
    expect(withContainer({ resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi', 'nvidia.com/gpu': '1' } } })).toEqual([]);
    const errs = withContainer({ resources: { requests: { cpu: '2', memory: 'lots', gpus: '1' }, limits: { cpu: '1', memory: '-1Gi' } } });
    expect(causes(errs)).toEqual([
      [`${C}.resources.limits[memory]`, 'Invalid'],
      [`${C}.resources.requests[memory]`, 'Invalid'],
      [`${C}.resources.requests[gpus]`, 'Invalid'],
      [`${C}.resources.requests`, 'Invalid'],
    ]);
    expect(errs[0]!.message).toBe('Invalid value: "-1Gi": must be greater than or equal to 0');
    expect(errs[2]!.message).toBe('Invalid value: "gpus": must be a standard resource for containers');
    expect(errs[3]!.message).toBe('Invalid value: "2": must be less than or equal to cpu limit of 1');
    const ext = withContainer({ resources: { requests: { 'example.com/dongle': '1' } } });
    expect(causes(ext)).toEqual([[`${C}.resources.limits[example.com/dongle]`, 'Required']]);
  });

  it('volumes: DNS-label names, unique, exactly one source; mounts refer to them', () => {
    const ok = podSpec({
      volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'c', items: [{ key: 'a', path: 'a.conf' }] } }],
      containers: [container({ volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'cfg', mountPath: '/etc/x', subPath: 'a.conf' }] })],
    });
    expect(v(ok)).toEqual([]);
    const errs = v(podSpec({
      volumes: [
        { name: 'data', emptyDir: {} },
        { name: 'data', hostPath: { path: '/x' } },
        { name: 'Bad' , emptyDir: {}, secret: { secretName: 's' } },
        { name: 'none' },
        { name: 'sec', secret: { defaultMode: 1000, items: [{ key: 'k', path: '../etc' }] } },
      ],
      containers: [container({ volumeMounts: [{ name: 'missing', mountPath: '/m' }, { name: 'data', mountPath: '/m' }, { name: 'data' }] })],
    }));
    expect(causes(errs)).toEqual([
      ['spec.volumes[1].name', 'Duplicate'],
      ['spec.volumes[2].secret', 'Forbidden'],
      ['spec.volumes[2].name', 'Invalid'],
      ['spec.volumes[3]', 'Required'],
      ['spec.volumes[4].secret.secretName', 'Required'],
      ['spec.volumes[4].secret.defaultMode', 'Invalid'],
      ['spec.volumes[4].secret.items[0].path', 'Invalid'],
      [`${C}.volumeMounts[0].name`, 'NotFound'],
      [`${C}.volumeMounts[1].mountPath`, 'Invalid'],
      [`${C}.volumeMounts[2].mountPath`, 'Required'],
    ]);
    expect(errs[3]!.message).toBe('Required value: must specify a volume type');
    expect(errs[7]!.message).toBe('Not found: "missing"');
  });

  it('probes: exactly one handler, valid ports, non-negative numbers, liveness successThreshold 1', () => {
    expect(withContainer({ livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 }, readinessProbe: { exec: { command: ['true'] }, successThreshold: 3 } })).toEqual([]);
    const errs = withContainer({
      livenessProbe: { periodSeconds: 5 },
      readinessProbe: { httpGet: { port: 80 }, tcpSocket: { port: 80 }, timeoutSeconds: -1 },
      startupProbe: { tcpSocket: { port: 0 }, successThreshold: 2 },
    });
    expect(causes(errs)).toEqual([
      [`${C}.livenessProbe`, 'Required'],
      [`${C}.readinessProbe.tcpSocket`, 'Forbidden'],
      [`${C}.readinessProbe.timeoutSeconds`, 'Invalid'],
      [`${C}.startupProbe.tcpSocket.port`, 'Required'],
      [`${C}.startupProbe.successThreshold`, 'Invalid'],
    ]);
    expect(errs[0]!.message).toBe('Required value: must specify a handler type');
    expect(errs[1]!.message).toBe('Forbidden: may not specify more than 1 handler type');
    const init = v(podSpec({ initContainers: [container({ name: 'init', readinessProbe: { exec: { command: ['x'] } } })] }));
    expect(causes(init)).toEqual([['spec.initContainers[0].readinessProbe', 'Forbidden']]);
    const sidecar = v(podSpec({ initContainers: [container({ name: 'side', restartPolicy: 'Always', readinessProbe: { exec: { command: ['x'] } } })] }));
    expect(sidecar).toEqual([]);
  });

  it('restartPolicy, dnsPolicy, terminationGracePeriodSeconds, activeDeadlineSeconds', () => {
    const errs = v(podSpec({ restartPolicy: 'Sometimes', dnsPolicy: 'Google', terminationGracePeriodSeconds: -1, activeDeadlineSeconds: 0 }));
    expect(causes(errs)).toEqual([
      ['spec.restartPolicy', 'NotSupported'],
      ['spec.dnsPolicy', 'NotSupported'],
      ['spec.terminationGracePeriodSeconds', 'Invalid'],
      ['spec.activeDeadlineSeconds', 'Invalid'],
    ]);
    expect(errs[0]!.message).toBe('Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"');
    expect(causes(v(podSpec({ dnsPolicy: 'None' })))).toEqual([['spec.dnsConfig', 'Required']]);
    expect(v(podSpec({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'] } }))).toEqual([]);
  });

  it('tolerations: operator and effect values', () => {
    expect(v(podSpec({ tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }, { operator: 'Exists' }, { key: 'n', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }] }))).toEqual([]);
    const errs = v(podSpec({
      tolerations: [
        { key: 'k', operator: 'Maybe' },
        { key: 'k', effect: 'NoWay' },
        { value: 'v' },
        { key: 'k', operator: 'Exists', value: 'v' },
        { key: 'k', effect: 'NoSchedule', tolerationSeconds: 10 },
      ],
    }));
    expect(causes(errs)).toEqual([
      ['spec.tolerations[0].operator', 'NotSupported'],
      ['spec.tolerations[1].effect', 'NotSupported'],
      ['spec.tolerations[2].operator', 'Invalid'],
      ['spec.tolerations[3].operator', 'Invalid'],
      ['spec.tolerations[4].effect', 'Invalid'],
    ]);
  });

  it('affinity: node selector terms and pod affinity terms are well-formed', () => {
    const good = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }] },
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'cpu', operator: 'Gt', values: ['4'] }] } }],
      },
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] },
    };
    expect(v(podSpec({ affinity: good }))).toEqual([]);
    const errs = v(podSpec({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In' }, { key: 'x', operator: 'Near' }] }] },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: {} }],
        },
        podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['b'] }] } }] },
      },
    }));
    const T = 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]';
    expect(causes(errs)).toEqual([
      [`${T}.matchExpressions[0].values`, 'Required'],
      [`${T}.matchExpressions[1].operator`, 'NotSupported'],
      ['spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight', 'Invalid'],
      ['spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].values', 'Forbidden'],
      ['spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey', 'Required'],
    ]);
  });

  it('nodeSelector is a label map', () => {
    expect(causes(v(podSpec({ nodeSelector: { 'bad key': 'x' } })))).toEqual([['spec.nodeSelector', 'Invalid']]);
  });
});

describe('pod update', () => {
  const old = applyDefaults(pod(podSpec({ tolerations: [{ key: 'a', operator: 'Exists' }], activeDeadlineSeconds: 100 })));

  it('may change images, lower activeDeadlineSeconds and add tolerations', () => {
    const next = structuredClone(old);
    next.spec.containers[0].image = 'nginx:1.26';
    next.spec.activeDeadlineSeconds = 50;
    next.spec.tolerations.push({ key: 'b', operator: 'Exists' });
    next.metadata.labels = { new: 'label' };
    expect(validateUpdate(next, old)).toEqual([]);
  });

  it('may not change anything else in the spec', () => {
    const next = structuredClone(old);
    next.spec.containers[0].ports = [{ containerPort: 80, protocol: 'TCP' }];
    next.spec.restartPolicy = 'Never';
    const e = expectOne(validateUpdate(next, old), 'spec', 'Forbidden');
    expect(e.message).toMatch(/^Forbidden: pod updates may not change fields other than `spec.containers\[\*\]\.image`/);
    expect(e.message).toContain('spec.containers[0].ports');
    expect(e.message).toContain('spec.restartPolicy');
  });

  it('activeDeadlineSeconds only goes down, tolerations are only added', () => {
    const next = structuredClone(old);
    next.spec.activeDeadlineSeconds = 200;
    next.spec.tolerations = [];
    expect(causes(validateUpdate(next, old))).toEqual([['spec.activeDeadlineSeconds', 'Invalid'], ['spec.tolerations', 'Forbidden']]);
  });
});
