/**
 * The argument schema of every call (the type makes a missing or mistyped one a compile error).
 * Names are checked as the API would check them (DNS-1123 labels/subdomains, label keys and
 * values), numbers have ranges, strings and lists have sizes, and unknown fields are refused.
 */
import { MAX_FILE_BYTES } from '../api/yaml-import.ts';
import {
  RESOURCE_KINDS, RESTARTABLE_KINDS, SCALABLE_KINDS, WORKLOAD_KINDS, type CallArgs, type CallName, type MetricsTarget,
} from '../desktop-api.ts';
import {
  bool, containerName, dnsLabel, handleId, int, labelKey, labelValue, list, nodeName, obj, objectName, oneOf, optional, record, str,
  union, type Check,
} from './validate.ts';

const none = obj({});
const namespace = dnsLabel;
const kind = oneOf(RESOURCE_KINDS);
const selector = str({ max: 4096 });
const workload = { namespace, name: objectName };

const listArgs = obj({ kind, namespace: optional(namespace), labelSelector: optional(selector), fieldSelector: optional(selector) });

const importArgs = obj({
  files: list(obj({ name: str({ min: 1, max: 255 }), text: str({ max: MAX_FILE_BYTES }) }), { min: 1, max: 50 }),
  namespace: optional(namespace),
});

const taint = obj({
  key: labelKey,
  value: optional(labelValue),
  effect: oneOf(['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const),
});

const logTarget = {
  namespace,
  pod: optional(objectName),
  workload: optional(obj({ kind: oneOf(WORKLOAD_KINDS), name: objectName })),
  container: optional(containerName),
};

const metricsTarget: Check<MetricsTarget> = union<MetricsTarget>('type', {
  cluster: obj({ type: oneOf(['cluster'] as const) }),
  node: obj({ type: oneOf(['node'] as const), name: nodeName }),
  pod: obj({ type: oneOf(['pod'] as const), namespace, name: objectName }),
  workload: obj({ type: oneOf(['workload'] as const), kind: oneOf(WORKLOAD_KINDS), namespace, name: objectName }),
  hpa: obj({ type: oneOf(['hpa'] as const), namespace, name: objectName }),
});

const configRef = { kind: oneOf(['ConfigMap', 'Secret'] as const), namespace, name: objectName };

/** 1 MiB per value (the whole object is limited to 1 MiB by the API as well). */
const MAX_VALUE = 1024 * 1024 * 4 / 3 + 4;

export const SCHEMAS: { [K in CallName]: Check<CallArgs<K>> } = {
  'cluster.info': none,

  'resources.list': listArgs,
  'resources.get': obj({ kind, namespace: optional(namespace), name: objectName }),
  'resources.watch': listArgs,
  'resources.unwatch': obj({ watchId: handleId }),
  'resources.delete': obj({
    kind,
    namespace: optional(namespace),
    name: objectName,
    propagationPolicy: optional(oneOf(['Foreground', 'Background', 'Orphan'] as const)),
    gracePeriodSeconds: optional(int(0, 3600)),
  }),

  'yaml.preview': importArgs,
  'yaml.apply': importArgs,

  'workloads.scale': obj({ kind: oneOf(SCALABLE_KINDS), ...workload, replicas: int(0, 1000) }),
  'workloads.restart': obj({ kind: oneOf(RESTARTABLE_KINDS), ...workload }),
  'workloads.suspend': obj({ kind: oneOf(['Job', 'CronJob'] as const), ...workload, suspend: bool }),
  'workloads.trigger': obj(workload),

  'rollout.history': obj(workload),
  'rollout.undo': obj({ ...workload, revision: int(0, 2 ** 31 - 1) }),
  'rollout.pause': obj({ ...workload, paused: bool }),

  'nodes.cordon': obj({ name: nodeName }),
  'nodes.uncordon': obj({ name: nodeName }),
  'nodes.drain': obj({ name: nodeName, gracePeriodSeconds: optional(int(0, 3600)), force: optional(bool), timeoutSeconds: optional(int(0, 3600)) }),
  'nodes.add': obj({
    name: dnsLabel,
    cpu: str({ min: 1, max: 32, pattern: /^[0-9.]+m?$/, patternText: 'must be a CPU quantity such as 2 or 500m' }),
    memory: str({ min: 1, max: 32, pattern: /^[0-9.]+(Ki|Mi|Gi|Ti|k|M|G|T)?$/, patternText: 'must be a memory quantity such as 4Gi or 512Mi' }),
    pods: optional(int(1, 1000)),
    labels: optional(record(labelKey, labelValue, 64)),
    taints: optional(list(taint, { max: 32 })),
  }),
  'nodes.remove': obj({ name: nodeName }),

  'namespaces.create': obj({ name: dnsLabel }),

  'logs.open': obj({
    ...logTarget,
    follow: bool,
    tailLines: optional(int(0, 100_000)),
    sinceSeconds: optional(int(1, 365 * 24 * 3600)),
    previous: optional(bool),
    timestamps: optional(bool),
    search: optional(str({ max: 256 })),
  }),
  'logs.close': obj({ streamId: handleId }),
  'logs.download': obj({ ...logTarget, previous: optional(bool), timestamps: optional(bool), search: optional(str({ max: 256 })) }),

  'exec.open': obj({
    namespace,
    pod: objectName,
    container: optional(containerName),
    command: optional(list(str({ min: 1, max: 4096 }), { min: 1, max: 64 })),
    cols: int(1, 1000),
    rows: int(1, 1000),
  }),
  'exec.write': obj({ sessionId: handleId, data: str({ max: 64 * 1024 }) }),
  'exec.resize': obj({ sessionId: handleId, cols: int(1, 1000), rows: int(1, 1000) }),
  'exec.close': obj({ sessionId: handleId }),

  'portForward.open': obj({ namespace, pod: optional(objectName), service: optional(objectName), port: int(1, 65535) }),
  'portForward.close': obj({ id: handleId }),
  'portForward.list': none,

  'metrics.subscribe': obj({ target: metricsTarget }),
  'metrics.unsubscribe': obj({ subscriptionId: handleId }),
  'metrics.snapshot': none,

  'pull.progress': obj({ namespace, pod: objectName }),

  'config.get': obj({ ...configRef, reveal: optional(bool) }),
  'config.save': obj({
    ...configRef,
    type: optional(str({ min: 1, max: 253, pattern: /^[A-Za-z0-9./_-]+$/, patternText: 'must be a Secret type such as Opaque or kubernetes.io/tls' })),
    entries: list(
      obj({
        key: str({ min: 1, max: 253, pattern: /^[-._a-zA-Z0-9]+$/, patternText: "must consist of alphanumeric characters, '-', '_' or '.'" }),
        value: str({ max: MAX_VALUE }),
        encoding: oneOf(['text', 'base64'] as const),
        keep: optional(bool),
      }),
      { max: 1000 },
    ),
    resourceVersion: optional(str({ min: 1, max: 64, pattern: /^[0-9A-Za-z-]+$/, patternText: 'must be a resourceVersion from config.get' })),
    dryRun: optional(bool),
  }),
  'config.usedBy': obj(configRef),

  'images.list': none,
  'kubeconfig.merge': obj({ makeCurrent: optional(bool) }),
};
