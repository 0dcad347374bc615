/**
 * config.get / save / usedBy: ConfigMaps and Secrets as key/value entries, base64 handled here.
 *
 *  - ConfigMap `data` is text; `binaryData` is base64 (entry encoding `base64`).
 *  - Secret `data` is base64 on the wire: an entry whose bytes are UTF-8 text without control
 *    characters is shown as text, anything else as base64. Values are masked ('' and
 *    `masked: true`) unless `reveal` is asked for; saving keeps a masked value with `keep`.
 *  - Save validates the object as the API would (field errors with their paths) before writing,
 *    creates (no resourceVersion) or updates at the given resourceVersion (Conflict when the
 *    object changed meanwhile), and can be a dry run.
 *  - usedBy: the workloads (and bare pods) whose pod template refers to the object through
 *    volumes, projected volumes, env, envFrom or imagePullSecrets.
 */
import { podReferences } from '../agent/config-sources.ts';
import { invalid } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { validateObject } from '../api/validation/index.ts';
import { DesktopError, WORKLOAD_KINDS, type ConfigData, type ConfigEntry, type ConfigRef, type WorkloadRef } from '../desktop-api.ts';
import type { Pod } from '../agent/util.ts';
import type { HandlerMap } from './handler-types.ts';
import type { DesktopSession } from './host.ts';
import { kindInfo, objectRef } from './kinds.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Text if the bytes are UTF-8 without control characters (tab, newline and CR allowed). */
export function asText(bytes: Buffer): string | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

function entriesOf(obj: KubeObject, reveal: boolean): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  if (obj.kind === 'ConfigMap') {
    for (const [key, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) {
      out.push({ key, value: v, encoding: 'text', size: Buffer.byteLength(v), masked: false });
    }
    for (const [key, v] of Object.entries((obj.binaryData ?? {}) as Record<string, string>)) {
      out.push({ key, value: v, encoding: 'base64', size: Buffer.from(v, 'base64').length, masked: false });
    }
  } else {
    for (const [key, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) {
      const bytes = Buffer.from(v, 'base64');
      const text = asText(bytes);
      const encoding = text === undefined ? 'base64' : 'text';
      out.push({ key, value: reveal ? (text ?? v) : '', encoding, size: bytes.length, masked: !reveal });
    }
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

async function view(s: DesktopSession, obj: KubeObject, reveal: boolean): Promise<ConfigData> {
  const ref: ConfigRef = { kind: obj.kind as ConfigRef['kind'], namespace: obj.metadata.namespace!, name: obj.metadata.name! };
  return {
    ...ref,
    ...(obj.kind === 'Secret' ? { type: String(obj.type ?? 'Opaque') } : {}),
    ...(obj.immutable ? { immutable: true } : {}),
    ...(obj.metadata.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}),
    entries: entriesOf(obj, reveal),
    usedBy: await usedBy(s, ref),
  };
}

export async function usedBy(s: DesktopSession, ref: ConfigRef): Promise<WorkloadRef[]> {
  const want = `${ref.kind}/${ref.namespace}/${ref.name}`;
  const out: WorkloadRef[] = [];
  const lists = await Promise.all(
    [...WORKLOAD_KINDS, 'Pod' as const].map(async (kind) => {
      const info = kindInfo(kind);
      const res = await s.client.list<KubeObject>({ apiVersion: info.group ? `${info.group}/${info.version}` : info.version, kind, namespace: ref.namespace });
      return { kind, items: res.items };
    }),
  );
  for (const { kind, items } of lists) {
    for (const o of items) {
      const owned = o.metadata.ownerReferences?.some((r) => r.controller);
      // Pods and ReplicaSets and Jobs made by a controller are reported as their controller.
      if (owned && (kind === 'Pod' || kind === 'ReplicaSet' || kind === 'Job')) continue;
      const spec = kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template?.spec : kind === 'Pod' ? o.spec : o.spec?.template?.spec;
      if (!spec) continue;
      const pod = { metadata: { namespace: ref.namespace }, spec } as unknown as Pod;
      if (podReferences(pod).has(want)) out.push({ kind, namespace: ref.namespace, name: o.metadata.name! });
    }
  }
  return out;
}

export const configHandlers: HandlerMap<'config.get' | 'config.save' | 'config.usedBy'> = {
  async 'config.get'(s, a) {
    const obj = await s.client.get<KubeObject>(objectRef(a.kind, a.namespace, a.name));
    return view(s, obj, a.kind === 'Secret' ? !!a.reveal : true);
  },

  async 'config.save'(s, a) {
    const keys = new Set<string>();
    for (const [i, e] of a.entries.entries()) {
      if (keys.has(e.key)) throw new DesktopError('BadRequest', `args.entries[${i}].key: duplicate key "${e.key}"`, { field: `args.entries[${i}].key` });
      keys.add(e.key);
      if (e.encoding === 'base64' && !e.keep && !BASE64.test(e.value.replace(/\s+/g, ''))) {
        throw new DesktopError('BadRequest', `args.entries[${i}].value: "${e.key}" is not valid base64`, { field: `args.entries[${i}].value` });
      }
    }
    let live: KubeObject | undefined;
    if (a.resourceVersion !== undefined) live = await s.client.get<KubeObject>(objectRef(a.kind, a.namespace, a.name));
    const obj: KubeObject = live
      ? { ...structuredClone(live), metadata: { ...structuredClone(live.metadata), resourceVersion: a.resourceVersion } }
      : { apiVersion: 'v1', kind: a.kind, metadata: { name: a.name, namespace: a.namespace } };
    delete obj.metadata.managedFields;
    // The last-applied annotation would still hold the old values; an edit here supersedes it.
    if (obj.metadata.annotations?.[LAST_APPLIED]) {
      const ann = { ...obj.metadata.annotations };
      delete ann[LAST_APPLIED];
      obj.metadata.annotations = ann;
    }
    if (a.kind === 'ConfigMap') {
      const data: Record<string, string> = {};
      const binaryData: Record<string, string> = {};
      for (const e of a.entries) {
        if (e.keep) {
          const old = (live?.data as Record<string, string> | undefined)?.[e.key] ?? (live?.binaryData as Record<string, string> | undefined)?.[e.key];
          if (old === undefined) throw new DesktopError('BadRequest', `args.entries: cannot keep "${e.key}": it has no saved value`);
          if ((live?.data as Record<string, string> | undefined)?.[e.key] !== undefined) data[e.key] = old;
          else binaryData[e.key] = old;
        } else if (e.encoding === 'text') data[e.key] = e.value;
        else binaryData[e.key] = e.value.replace(/\s+/g, '');
      }
      obj.data = data;
      if (Object.keys(binaryData).length) obj.binaryData = binaryData;
      else delete obj.binaryData;
    } else {
      const data: Record<string, string> = {};
      for (const e of a.entries) {
        if (e.keep) {
          const old = (live?.data as Record<string, string> | undefined)?.[e.key];
          if (old === undefined) throw new DesktopError('BadRequest', `args.entries: cannot keep "${e.key}": it has no saved value`);
          data[e.key] = old;
        } else data[e.key] = e.encoding === 'text' ? Buffer.from(e.value, 'utf8').toString('base64') : e.value.replace(/\s+/g, '');
      }
      obj.data = data;
      delete obj.stringData;
      if (!live) obj.type = a.type ?? 'Opaque';
      else if (a.type && a.type !== live.type) throw new DesktopError('BadRequest', `args.type: a Secret's type cannot change (it is ${String(live.type)})`, { field: 'args.type' });
    }
    const errors = validateObject(obj);
    if (errors.length) throw invalid({ kind: a.kind, name: a.name }, errors);
    const opts = { fieldManager: 'wheelhouse-ui', ...(a.dryRun ? { dryRun: true } : {}) };
    const saved = live ? await s.client.update(obj, opts) : await s.client.create(obj, opts);
    return view(s, saved, false);
  },

  async 'config.usedBy'(s, a) {
    return usedBy(s, a);
  },
};
