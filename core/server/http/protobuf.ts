/**
 * Request bodies in `application/vnd.kubernetes.protobuf`, which kubectl ≥ 1.32's typed clients
 * send (`kubectl create deployment|configmap|secret|namespace|job|…`, `auth can-i`,
 * `auth whoami`, `create token`, drain's evictions). The envelope is "k8s\0" + runtime.Unknown
 * {typeMeta, raw}; `raw` is decoded with the field numbers of k8s.io/api's generated.proto for
 * the kinds those commands write (fields of other kinds or unknown numbers are skipped and
 * reported). Responses are always JSON (clients also accept it).
 */
import { ApiError } from '../../api/errors.ts';

type Scalar = 's' | 'b' | 'i32' | 'i64' | 'bytes' | 'map' | 'mapb' | 'mapq';
interface Field {
  name: string;
  type: Scalar | string;
  repeated: boolean;
}

/** `name:number[:type]` (type: s default, b, i32, i64, bytes, map, mapb, mapq, skip (known, not decoded: status), or a message; `*` = repeated). */
const MESSAGES: Record<string, string> = {
  ObjectMeta: 'name:1 generateName:2 namespace:3 selfLink:4 uid:5 resourceVersion:6 generation:7:i64 creationTimestamp:8:Time deletionTimestamp:9:Time deletionGracePeriodSeconds:10:i64 labels:11:map annotations:12:map ownerReferences:13:*OwnerReference finalizers:14:*s',
  OwnerReference: 'kind:1 name:3 uid:4 apiVersion:5 controller:6:b blockOwnerDeletion:7:b',
  LabelSelector: 'matchLabels:1:map matchExpressions:2:*LabelSelectorRequirement',
  LabelSelectorRequirement: 'key:1 operator:2 values:3:*s',
  DeleteOptions: 'gracePeriodSeconds:1:i64 preconditions:2:Preconditions orphanDependents:3:b propagationPolicy:4 dryRun:5:*s',
  Preconditions: 'uid:1 resourceVersion:2',
  // authorization.k8s.io/v1
  SelfSubjectAccessReview: 'metadata:1:ObjectMeta spec:2:SelfSubjectAccessReviewSpec status:3:skip',
  SelfSubjectAccessReviewSpec: 'resourceAttributes:1:ResourceAttributes nonResourceAttributes:2:NonResourceAttributes',
  ResourceAttributes: 'namespace:1 verb:2 group:3 version:4 resource:5 subresource:6 name:7',
  NonResourceAttributes: 'path:1 verb:2',
  SelfSubjectRulesReview: 'metadata:1:ObjectMeta spec:2:SelfSubjectRulesReviewSpec status:3:skip',
  SelfSubjectRulesReviewSpec: 'namespace:1',
  SubjectAccessReview: 'metadata:1:ObjectMeta spec:2:SubjectAccessReviewSpec status:3:skip',
  LocalSubjectAccessReview: 'metadata:1:ObjectMeta spec:2:SubjectAccessReviewSpec status:3:skip',
  SubjectAccessReviewSpec: 'resourceAttributes:1:ResourceAttributes nonResourceAttributes:2:NonResourceAttributes user:3 groups:4:*s uid:6',
  // authentication.k8s.io/v1
  SelfSubjectReview: 'metadata:1:ObjectMeta status:2:skip',
  TokenRequest: 'metadata:1:ObjectMeta spec:2:TokenRequestSpec status:3:skip',
  TokenRequestSpec: 'audiences:1:*s boundObjectRef:3:BoundObjectReference expirationSeconds:4:i64',
  BoundObjectReference: 'kind:1 apiVersion:2 name:3 uid:4',
  TokenReview: 'metadata:1:ObjectMeta spec:2:TokenReviewSpec status:3:skip',
  TokenReviewSpec: 'token:1 audiences:2:*s',
  // policy/v1
  Eviction: 'metadata:1:ObjectMeta deleteOptions:2:DeleteOptions',
  // v1
  ConfigMap: 'metadata:1:ObjectMeta data:2:map binaryData:3:mapb immutable:4:b',
  Secret: 'metadata:1:ObjectMeta data:2:mapb type:3 stringData:4:map immutable:5:b',
  Namespace: 'metadata:1:ObjectMeta spec:2:NamespaceSpec status:3:skip',
  NamespaceSpec: 'finalizers:1:*s',
  ServiceAccount: 'metadata:1:ObjectMeta secrets:2:*ObjectReference imagePullSecrets:3:*LocalObjectReference automountServiceAccountToken:4:b',
  ObjectReference: 'kind:1 namespace:2 name:3 uid:4 apiVersion:5 resourceVersion:6 fieldPath:7',
  LocalObjectReference: 'name:1',
  ResourceQuota: 'metadata:1:ObjectMeta spec:2:ResourceQuotaSpec status:3:skip',
  ResourceQuotaSpec: 'hard:1:mapq scopes:2:*s',
  Service: 'metadata:1:ObjectMeta spec:2:ServiceSpec status:3:skip',
  ServiceSpec: 'ports:1:*ServicePort selector:2:map clusterIP:3 type:4 externalIPs:5:*s sessionAffinity:7 loadBalancerIP:8 loadBalancerSourceRanges:9:*s externalName:10 externalTrafficPolicy:11 healthCheckNodePort:12:i32 publishNotReadyAddresses:13:b clusterIPs:18:*s ipFamilies:19:*s ipFamilyPolicy:17 allocateLoadBalancerNodePorts:20:b loadBalancerClass:21 internalTrafficPolicy:22',
  ServicePort: 'name:1 protocol:2 port:3:i32 targetPort:4:IntOrString nodePort:5:i32 appProtocol:6',
  PodTemplateSpec: 'metadata:1:ObjectMeta spec:2:PodSpec',
  PodSpec: 'containers:2:*Container restartPolicy:3 terminationGracePeriodSeconds:4:i64 activeDeadlineSeconds:5:i64 dnsPolicy:6 nodeSelector:7:map serviceAccountName:8 serviceAccount:9 nodeName:10 hostNetwork:11:b hostPID:12:b hostIPC:13:b imagePullSecrets:15:*LocalObjectReference hostname:16 subdomain:17 schedulerName:19 initContainers:20:*Container priorityClassName:24 priority:25:i32 enableServiceLinks:30:b',
  Container: 'name:1 image:2 command:3:*s args:4:*s workingDir:5 ports:6:*ContainerPort env:7:*EnvVar resources:8:ResourceRequirements terminationMessagePath:13 imagePullPolicy:14 stdin:16:b stdinOnce:17:b tty:18:b terminationMessagePolicy:20',
  ContainerPort: 'name:1 hostPort:2:i32 containerPort:3:i32 protocol:4 hostIP:5',
  EnvVar: 'name:1 value:2',
  ResourceRequirements: 'limits:1:mapq requests:2:mapq',
  // apps/v1, batch/v1
  Deployment: 'metadata:1:ObjectMeta spec:2:DeploymentSpec status:3:skip',
  DeploymentSpec: 'replicas:1:i32 selector:2:LabelSelector template:3:PodTemplateSpec strategy:4:DeploymentStrategy minReadySeconds:5:i32 revisionHistoryLimit:6:i32 paused:7:b progressDeadlineSeconds:9:i32',
  DeploymentStrategy: 'type:1',
  Job: 'metadata:1:ObjectMeta spec:2:JobSpec status:3:skip',
  JobSpec: 'parallelism:1:i32 completions:2:i32 activeDeadlineSeconds:3:i64 selector:4:LabelSelector manualSelector:5:b template:6:PodTemplateSpec backoffLimit:7:i32 ttlSecondsAfterFinished:8:i32 completionMode:9 suspend:10:b',
  CronJob: 'metadata:1:ObjectMeta spec:2:CronJobSpec status:3:skip',
  CronJobSpec: 'schedule:1 startingDeadlineSeconds:2:i64 concurrencyPolicy:3 suspend:4:b jobTemplate:5:JobTemplateSpec successfulJobsHistoryLimit:6:i32 failedJobsHistoryLimit:7:i32 timeZone:8',
  JobTemplateSpec: 'metadata:1:ObjectMeta spec:2:JobSpec',
  // rbac.authorization.k8s.io/v1, scheduling.k8s.io/v1
  Role: 'metadata:1:ObjectMeta rules:2:*PolicyRule',
  ClusterRole: 'metadata:1:ObjectMeta rules:2:*PolicyRule',
  PolicyRule: 'verbs:1:*s apiGroups:2:*s resources:3:*s resourceNames:4:*s nonResourceURLs:5:*s',
  RoleBinding: 'metadata:1:ObjectMeta subjects:2:*Subject roleRef:3:RoleRef',
  ClusterRoleBinding: 'metadata:1:ObjectMeta subjects:2:*Subject roleRef:3:RoleRef',
  Subject: 'kind:1 apiGroup:2 name:3 namespace:4',
  RoleRef: 'apiGroup:1 kind:2 name:3',
  PriorityClass: 'metadata:1:ObjectMeta value:2:i32 globalDefault:3:b description:4 preemptionPolicy:5',
};

/**
 * Go's protobuf writes non-pointer fields even when empty, where its JSON omits them: empty
 * strings, false and 0 are dropped, except for these pointer fields where 0/false is a value.
 */
const POINTERS = new Set([
  'replicas', 'immutable', 'automountServiceAccountToken', 'expirationSeconds', 'activeDeadlineSeconds', 'terminationGracePeriodSeconds',
  'parallelism', 'completions', 'backoffLimit', 'ttlSecondsAfterFinished', 'suspend', 'manualSelector', 'startingDeadlineSeconds',
  'successfulJobsHistoryLimit', 'failedJobsHistoryLimit', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'gracePeriodSeconds',
  'orphanDependents', 'controller', 'allocateLoadBalancerNodePorts', 'blockOwnerDeletion', 'priority', 'enableServiceLinks', 'deletionGracePeriodSeconds', 'value', 'globalDefault',
]);

const schemas = new Map<string, Map<number, Field>>();
for (const [msg, spec] of Object.entries(MESSAGES)) {
  const fields = new Map<number, Field>();
  for (const part of spec.split(' ')) {
    const [name, num, type = 's'] = part.split(':');
    fields.set(Number(num), { name: name!, type: type.replace('*', ''), repeated: type.startsWith('*') });
  }
  schemas.set(msg, fields);
}

export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get done() {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('varint too long');
    }
  }
  bytes(): Buffer {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

/** Every (field number → raw value) of a message. */
function fieldsOf(buf: Buffer): Array<{ n: number; wire: number; v: bigint | Buffer }> {
  const r = new Reader(buf);
  const out: Array<{ n: number; wire: number; v: bigint | Buffer }> = [];
  while (!r.done) {
    const tag = Number(r.varint());
    const n = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ n, wire, v: r.varint() });
    else if (wire === 2) out.push({ n, wire, v: r.bytes() });
    else r.skip(wire);
  }
  return out;
}

const signed64 = (v: bigint) => Number(BigInt.asIntN(64, v));
const str = (v: bigint | Buffer) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

function mapOf(buf: Buffer, value: (v: bigint | Buffer) => unknown): [string, unknown] {
  let k = '';
  let val: unknown = '';
  for (const f of fieldsOf(buf)) {
    if (f.n === 1) k = str(f.v);
    else if (f.n === 2) val = value(f.v);
  }
  return [k, val];
}

function quantity(buf: Buffer): string {
  return fieldsOf(buf).find((f) => f.n === 1)?.v.toString() ?? '0';
}

function scalar(type: string, v: bigint | Buffer, unknown: string[], path: string): unknown {
  switch (type) {
    case 's':
      return str(v);
    case 'bytes':
      return Buffer.isBuffer(v) ? v.toString('base64') : '';
    case 'b':
      return v !== 0n;
    case 'i32':
    case 'i64':
      return typeof v === 'bigint' ? signed64(v) : 0;
    case 'skip':
      return undefined;
    case 'Time': {
      const fs = Buffer.isBuffer(v) ? fieldsOf(v) : [];
      const secs = signed64((fs.find((f) => f.n === 1)?.v as bigint) ?? 0n);
      if (secs <= 0) return undefined; // Go's zero time
      return new Date(secs * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    }
    case 'IntOrString': {
      const fs = Buffer.isBuffer(v) ? fieldsOf(v) : [];
      const t = Number((fs.find((f) => f.n === 1)?.v as bigint) ?? 0n);
      if (t === 1) return str(fs.find((f) => f.n === 3)?.v ?? Buffer.alloc(0));
      return signed64((fs.find((f) => f.n === 2)?.v as bigint) ?? 0n);
    }
    default:
      return Buffer.isBuffer(v) ? decodeMessage(type, v, unknown, path) : undefined;
  }
}

function decodeMessage(msg: string, buf: Buffer, unknown: string[], path: string): Record<string, unknown> {
  const schema = schemas.get(msg);
  const out: Record<string, any> = {};
  if (!schema) {
    unknown.push(`${path || msg} (${msg})`);
    return out;
  }
  for (const f of fieldsOf(buf)) {
    const field = schema.get(f.n);
    if (!field) {
      unknown.push(`${path ? path + '.' : ''}#${f.n}`);
      continue;
    }
    const p = path ? `${path}.${field.name}` : field.name;
    const t = field.type;
    if (t === 'map' || t === 'mapb' || t === 'mapq') {
      const [k, val] = mapOf(f.v as Buffer, (x) => (t === 'map' ? str(x) : t === 'mapb' ? (x as Buffer).toString('base64') : quantity(x as Buffer)));
      (out[field.name] ??= {})[k] = val;
      continue;
    }
    const value = scalar(t, f.v, unknown, p);
    if (field.repeated) {
      (out[field.name] ??= []).push(value);
      continue;
    }
    if (value === undefined || value === '' || ((value === 0 || value === false) && !POINTERS.has(field.name))) continue;
    if (field.repeated) (out[field.name] ??= []).push(value);
    else out[field.name] = value;
  }
  return out;
}

export interface DecodedProtobuf {
  object: Record<string, unknown>;
  /** Fields the table does not know (dropped). */
  unknown: string[];
}

/** Decodes a `k8s\0`-prefixed runtime.Unknown body into the JSON form of its object. */
export function decodeKubernetesProtobuf(buf: Buffer): DecodedProtobuf {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
    throw new ApiError('BadRequest', 'the protobuf body does not start with the Kubernetes magic number');
  }
  try {
    let apiVersion = '';
    let kind = '';
    let raw: Buffer = Buffer.alloc(0);
    for (const f of fieldsOf(buf.subarray(4))) {
      if (f.n === 1 && Buffer.isBuffer(f.v)) {
        for (const t of fieldsOf(f.v)) {
          if (t.n === 1) apiVersion = str(t.v);
          else if (t.n === 2) kind = str(t.v);
        }
      } else if (f.n === 2 && Buffer.isBuffer(f.v)) raw = f.v;
    }
    if (!schemas.has(kind)) {
      throw new ApiError('UnsupportedMediaType', `protobuf bodies of kind "${kind}" are not supported by Wheelhouse: send application/json`);
    }
    const unknown: string[] = [];
    const object = { apiVersion, kind, ...decodeMessage(kind, raw, unknown, '') };
    return { object, unknown };
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError('BadRequest', `the protobuf body could not be decoded: ${(e as Error).message}`);
  }
}
