/**
 * The deploy form's model → the Kubernetes objects it stands for (a Deployment, and a Service
 * when exposed). The YAML shown is exactly what goes to yaml.preview / yaml.apply, which
 * validate it like any import.
 */
import type { KubeObject } from '../../../core/api/types.ts';

export interface ProbeForm {
  kind: 'none' | 'http' | 'tcp' | 'exec';
  path: string;
  port: number;
  command: string;
  initialDelaySeconds: number;
  periodSeconds: number;
}

export interface DeployForm {
  name: string;
  namespace: string;
  image: string;
  replicas: number;
  command: string;
  ports: Array<{ name: string; containerPort: number }>;
  env: Array<{ name: string; source: 'value' | 'configMapKey' | 'secretKey'; value: string; ref: string; key: string }>;
  envFrom: Array<{ kind: 'ConfigMap' | 'Secret'; name: string }>;
  resources: { cpuRequest: string; memoryRequest: string; cpuLimit: string; memoryLimit: string };
  readiness: ProbeForm;
  liveness: ProbeForm;
  expose: { enabled: boolean; type: 'ClusterIP' | 'NodePort'; port: number; targetPort: number };
}

export function emptyProbe(): ProbeForm {
  return { kind: 'none', path: '/', port: 8080, command: '', initialDelaySeconds: 0, periodSeconds: 10 };
}

export function emptyForm(namespace: string): DeployForm {
  return {
    name: '',
    namespace: namespace || 'default',
    image: '',
    replicas: 1,
    command: '',
    ports: [],
    env: [],
    envFrom: [],
    resources: { cpuRequest: '', memoryRequest: '', cpuLimit: '', memoryLimit: '' },
    readiness: emptyProbe(),
    liveness: emptyProbe(),
    expose: { enabled: false, type: 'ClusterIP', port: 80, targetPort: 8080 },
  };
}

/** Splits a command line on spaces, keeping "quoted words" together. */
export function splitCommand(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

function probe(p: ProbeForm): Record<string, unknown> | undefined {
  const timing = { ...(p.initialDelaySeconds ? { initialDelaySeconds: p.initialDelaySeconds } : {}), periodSeconds: p.periodSeconds || 10 };
  switch (p.kind) {
    case 'http':
      return { httpGet: { path: p.path || '/', port: p.port }, ...timing };
    case 'tcp':
      return { tcpSocket: { port: p.port }, ...timing };
    case 'exec':
      return { exec: { command: splitCommand(p.command) }, ...timing };
    default:
      return undefined;
  }
}

export function buildObjects(f: DeployForm): KubeObject[] {
  const labels = { app: f.name || 'app' };
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (f.resources.cpuRequest) requests.cpu = f.resources.cpuRequest;
  if (f.resources.memoryRequest) requests.memory = f.resources.memoryRequest;
  if (f.resources.cpuLimit) limits.cpu = f.resources.cpuLimit;
  if (f.resources.memoryLimit) limits.memory = f.resources.memoryLimit;
  const env = f.env
    .filter((e) => e.name)
    .map((e) =>
      e.source === 'value'
        ? { name: e.name, value: e.value }
        : { name: e.name, valueFrom: { [e.source === 'configMapKey' ? 'configMapKeyRef' : 'secretKeyRef']: { name: e.ref, key: e.key } } },
    );
  const envFrom = f.envFrom.filter((e) => e.name).map((e) => (e.kind === 'ConfigMap' ? { configMapRef: { name: e.name } } : { secretRef: { name: e.name } }));
  const readiness = probe(f.readiness);
  const liveness = probe(f.liveness);
  const command = splitCommand(f.command);
  const container: Record<string, unknown> = {
    name: f.name || 'app',
    image: f.image,
    ...(command.length ? { command } : {}),
    ...(f.ports.length ? { ports: f.ports.filter((p) => p.containerPort).map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort })) } : {}),
    ...(env.length ? { env } : {}),
    ...(envFrom.length ? { envFrom } : {}),
    ...(Object.keys(requests).length || Object.keys(limits).length
      ? { resources: { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) } }
      : {}),
    ...(readiness ? { readinessProbe: readiness } : {}),
    ...(liveness ? { livenessProbe: liveness } : {}),
  };
  const objects: KubeObject[] = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: f.name, namespace: f.namespace, labels },
      spec: { replicas: f.replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [container] } } },
    },
  ];
  if (f.expose.enabled) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: f.name, namespace: f.namespace, labels },
      spec: { type: f.expose.type, selector: labels, ports: [{ port: f.expose.port, targetPort: f.expose.targetPort, protocol: 'TCP' }] },
    });
  }
  return objects;
}
