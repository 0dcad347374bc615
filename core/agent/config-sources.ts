/**
 * The objects pods refer to (ConfigMaps, Secrets, PersistentVolumeClaims), cached by informers so a
 * pod sync never waits on the API, and so a change to one of them re-syncs the pods that use it
 * (configMap/secret volumes are updated in place, a created PVC lets a waiting pod start). This is
 * the kubelet's "Watch" change-detection strategy, cluster-wide instead of per object.
 *
 * Services are cached too, as the kubelet's service lister is: containers get the service
 * environment variables of the Services that exist when they start. A Service change re-syncs
 * nothing (running containers keep their environment).
 */
import type { KubeObject } from '../api/types.ts';
import type { Client } from '../client/client.ts';
import { Informer } from '../controllers/informer.ts';
import type { ConfigSources } from './types.ts';
import type { Pod } from './util.ts';

export type SourceKind = 'ConfigMap' | 'Secret' | 'PersistentVolumeClaim';

export class SourceInformers implements ConfigSources {
  private readonly informers: Record<SourceKind, Informer>;
  private readonly serviceInformer: Informer;

  constructor(client: Client, onChange: (kind: SourceKind, namespace: string, name: string) => void) {
    const make = (kind: SourceKind) => {
      const inf = new Informer(client, { apiVersion: 'v1', kind });
      const fire = (o: KubeObject) => onChange(kind, o.metadata.namespace ?? '', o.metadata.name ?? '');
      inf.addHandlers({ onAdd: fire, onUpdate: (_old, o) => fire(o), onDelete: fire });
      return inf;
    };
    this.informers = { ConfigMap: make('ConfigMap'), Secret: make('Secret'), PersistentVolumeClaim: make('PersistentVolumeClaim') };
    this.serviceInformer = new Informer(client, { apiVersion: 'v1', kind: 'Service' });
    this.serviceInformer.addIndex('namespace', (o) => [o.metadata.namespace ?? '']);
  }

  async start(): Promise<void> {
    await Promise.all([...Object.values(this.informers), this.serviceInformer].map((i) => i.start()));
  }

  stop(): void {
    for (const i of [...Object.values(this.informers), this.serviceInformer]) i.stop();
  }

  configMap(namespace: string, name: string): KubeObject | undefined {
    return this.informers.ConfigMap.get(`${namespace}/${name}`);
  }

  secret(namespace: string, name: string): KubeObject | undefined {
    return this.informers.Secret.get(`${namespace}/${name}`);
  }

  pvc(namespace: string, name: string): KubeObject | undefined {
    return this.informers.PersistentVolumeClaim.get(`${namespace}/${name}`);
  }

  services(namespace: string): KubeObject[] {
    return this.serviceInformer.byIndex('namespace', namespace);
  }
}

/** `Kind/namespace/name` of every ConfigMap, Secret and PVC a pod uses (env, envFrom, volumes, pull secrets). */
export function podReferences(pod: Pod): Set<string> {
  const ns = pod.metadata.namespace ?? 'default';
  const refs = new Set<string>();
  const add = (kind: SourceKind, name: string | undefined) => {
    if (name) refs.add(`${kind}/${ns}/${name}`);
  };
  const spec = pod.spec;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    for (const e of c.envFrom ?? []) {
      add('ConfigMap', e.configMapRef?.name);
      add('Secret', e.secretRef?.name);
    }
    for (const e of c.env ?? []) {
      add('ConfigMap', e.valueFrom?.configMapKeyRef?.name);
      add('Secret', e.valueFrom?.secretKeyRef?.name);
    }
  }
  for (const v of spec.volumes ?? []) {
    add('ConfigMap', v.configMap?.name);
    add('Secret', v.secret?.secretName);
    add('PersistentVolumeClaim', v.persistentVolumeClaim?.claimName);
    for (const s of v.projected?.sources ?? []) {
      add('ConfigMap', s.configMap?.name);
      add('Secret', s.secret?.name);
    }
  }
  for (const s of spec.imagePullSecrets ?? []) add('Secret', s.name);
  return refs;
}

/** A ConfigMap's or Secret's entries as bytes (Secret data is base64; stringData is folded in by the API). */
export function sourceData(obj: KubeObject, kind: 'ConfigMap' | 'Secret'): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (kind === 'ConfigMap') {
    for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) out.set(k, Buffer.from(String(v), 'utf8'));
    for (const [k, v] of Object.entries((obj.binaryData ?? {}) as Record<string, string>)) out.set(k, Buffer.from(String(v), 'base64'));
  } else {
    for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) out.set(k, Buffer.from(String(v), 'base64'));
    for (const [k, v] of Object.entries((obj.stringData ?? {}) as Record<string, string>)) out.set(k, Buffer.from(String(v), 'utf8'));
  }
  return out;
}
