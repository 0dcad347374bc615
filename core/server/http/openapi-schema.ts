/**
 * OpenAPI schemas of the Kubernetes types, read from the `kubernetes-types` declaration files at
 * first use (no network, ~50 ms once): every `export interface` becomes a definition named as
 * kube-apiserver names it (`io.k8s.api.apps.v1.Deployment`), with its JSDoc as description,
 * optional/required fields, arrays, maps, int-or-string, the patch strategies kubectl's
 * strategic merge needs and `x-kubernetes-group-version-kind` on the served kinds.
 *
 * TypeScript has one `number`; Kubernetes' numbers are integers except a handful of floats
 * (listed in FLOAT_FIELDS).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { KINDS } from '../../api/kinds.ts';

export type Schema = Record<string, any>;

/** `apps/v1` (file path in kubernetes-types, without `.d.ts`) → OpenAPI package prefix. */
function packageOf(file: string): string {
  if (file === 'runtime') return 'io.k8s.apimachinery.pkg.runtime';
  if (file === 'version') return 'io.k8s.apimachinery.pkg.version';
  if (file === 'api/resource') return 'io.k8s.apimachinery.pkg.api.resource';
  if (file === 'meta/v1') return 'io.k8s.apimachinery.pkg.apis.meta.v1';
  if (file.startsWith('apiextensions/')) return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${file.split('/')[1]}`;
  return `io.k8s.api.${file.replace('/', '.')}`;
}

const FLOAT_FIELDS = new Set(['JSONSchemaProps.maximum', 'JSONSchemaProps.minimum', 'JSONSchemaProps.multipleOf']);

/** k8s.io/api's patchStrategy/patchMergeKey tags for the lists kubectl apply merges. */
const PATCH_META: Record<string, { strategy: string; key?: string }> = {
  'ObjectMeta.finalizers': { strategy: 'merge' },
  'ObjectMeta.ownerReferences': { strategy: 'merge', key: 'uid' },
  'PodSpec.containers': { strategy: 'merge', key: 'name' },
  'PodSpec.initContainers': { strategy: 'merge', key: 'name' },
  'PodSpec.ephemeralContainers': { strategy: 'merge', key: 'name' },
  'PodSpec.volumes': { strategy: 'merge,retainKeys', key: 'name' },
  'PodSpec.imagePullSecrets': { strategy: 'merge', key: 'name' },
  'PodSpec.hostAliases': { strategy: 'merge', key: 'ip' },
  'PodSpec.topologySpreadConstraints': { strategy: 'merge', key: 'topologyKey' },
  'Container.env': { strategy: 'merge', key: 'name' },
  'Container.ports': { strategy: 'merge', key: 'containerPort' },
  'Container.volumeMounts': { strategy: 'merge', key: 'mountPath' },
  'Container.volumeDevices': { strategy: 'merge', key: 'devicePath' },
  'EphemeralContainer.env': { strategy: 'merge', key: 'name' },
  'EphemeralContainer.ports': { strategy: 'merge', key: 'containerPort' },
  'EphemeralContainer.volumeMounts': { strategy: 'merge', key: 'mountPath' },
  'ServiceSpec.ports': { strategy: 'merge', key: 'port' },
  'NodeStatus.addresses': { strategy: 'merge', key: 'type' },
  'DeploymentSpec.strategy': { strategy: 'retainKeys' },
  'DaemonSetSpec.updateStrategy': { strategy: 'retainKeys' },
};

export interface Definitions {
  /** Full name → schema. */
  defs: Record<string, Schema>;
  /** `apps/v1/Deployment` → full name, for the served kinds. */
  byGVK: Map<string, string>;
}

let cached: Definitions | undefined;

function typesRoot(): string {
  const req = createRequire(import.meta.url);
  return dirname(req.resolve('kubernetes-types/package.json'));
}

function listFiles(dir: string, root = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, root));
    else if (name.endsWith('.d.ts') && name !== 'index.d.ts') out.push(relative(root, p).replace(/\.d\.ts$/, '').split('\\').join('/'));
  }
  return out;
}

/** Parses one declaration file into definitions (refs as full names in `$ref: '#/definitions/…'`). */
function parseFile(text: string, file: string, defs: Record<string, Schema>): void {
  const pkg = packageOf(file);
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/^import \{([^}]*)\} from "([^"]+)";/gm)) {
    const target = join(dirname(file), m[2]!).split('\\').join('/');
    for (const n of m[1]!.split(',').map((s) => s.trim()).filter(Boolean)) imports.set(n, `${packageOf(target)}.${n}`);
  }
  const ref = (name: string) => ({ $ref: `#/definitions/${imports.get(name) ?? `${pkg}.${name}`}` });
  const typeOf = (expr: string, owner: string, field: string): Schema => {
    const t = expr.trim();
    if (t === 'string' || /^"[^"]*"$/.test(t)) return { type: 'string' };
    if (t === 'boolean') return { type: 'boolean' };
    if (t === 'number') return FLOAT_FIELDS.has(`${owner}.${field}`) ? { type: 'number', format: 'double' } : { type: 'integer', format: 'int32' };
    if (t === 'number | string') return { type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true };
    const arr = /^Array<(.+)>$/.exec(t);
    if (arr) return { type: 'array', items: typeOf(arr[1]!, owner, field) };
    const map = /^\{\s*\[name: string\]: (.+);\s*\}$/s.exec(t);
    if (map) return { type: 'object', additionalProperties: typeOf(map[1]!, owner, field) };
    if (/^[A-Z]\w*$/.test(t)) return ref(t);
    return {};
  };

  const lines = text.split('\n');
  let doc: string | undefined;
  let current: { name: string; schema: Schema } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.startsWith('/**')) {
      let buf = line;
      while (!buf.includes('*/') && i + 1 < lines.length) buf += '\n' + lines[++i]!.trim();
      doc = buf
        .replace(/^\/\*\*/, '')
        .replace(/\*\/$/, '')
        .split('\n')
        .map((l) => l.replace(/^\*\s?/, ''))
        .join('\n')
        .trim();
      continue;
    }
    let m = /^export interface (\w+) \{(\})?$/.exec(line);
    if (m) {
      const schema: Schema = { type: 'object', ...(doc ? { description: doc } : {}) };
      defs[`${pkg}.${m[1]}`] = schema;
      current = m[2] ? undefined : { name: m[1]!, schema };
      doc = undefined;
      continue;
    }
    m = /^export type (\w+) = (.+);$/.exec(line);
    if (m) {
      const t = m[2]!;
      const schema: Schema = t === 'string' ? { type: 'string' } : {};
      if (m[1] === 'Time' || m[1] === 'MicroTime') schema.format = 'date-time';
      if (doc) schema.description = doc;
      defs[`${pkg}.${m[1]}`] = schema;
      doc = undefined;
      continue;
    }
    if (!current) continue;
    if (line === '}') {
      current = undefined;
      continue;
    }
    m = /^(?:readonly )?("?[\w$-]+"?)(\?)?: (.*)$/.exec(line);
    if (!m) continue;
    const field = m[1]!.replace(/"/g, '');
    let expr = m[3]!;
    if (expr === '{') {
      while (i + 1 < lines.length && !lines[i]!.trim().startsWith('};')) expr += ' ' + lines[++i]!.trim();
      expr = expr.replace(/;$/, '');
    } else {
      expr = expr.replace(/;$/, '');
    }
    let schema = typeOf(expr, current.name, field);
    if (doc) schema = schema.$ref ? { description: doc, allOf: [schema] } : { ...schema, description: doc };
    const pm = PATCH_META[`${current.name}.${field}`];
    if (pm) {
      schema['x-kubernetes-patch-strategy'] = pm.strategy;
      if (pm.key) schema['x-kubernetes-patch-merge-key'] = pm.key;
    }
    if (field === 'conditions' && current.name.endsWith('Status') && schema.type === 'array') {
      schema['x-kubernetes-patch-strategy'] = 'merge';
      schema['x-kubernetes-patch-merge-key'] = 'type';
    }
    (current.schema.properties ??= {})[field] = schema;
    if (!m[2]) (current.schema.required ??= []).push(field);
    doc = undefined;
  }
}

/** Every definition, parsed once. */
export function definitions(): Definitions {
  if (cached) return cached;
  const root = typesRoot();
  const defs: Record<string, Schema> = {};
  for (const file of listFiles(root)) parseFile(readFileSync(join(root, `${file}.d.ts`), 'utf8'), file, defs);
  const intOrString = { type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true };
  defs['io.k8s.apimachinery.pkg.util.intstr.IntOrString'] = intOrString;
  const byGVK = new Map<string, string>();
  for (const k of KINDS) {
    const gv = k.group ? `${k.group}/${k.version}` : k.version;
    const dir = k.group ? k.group.split('.')[0]! : 'core';
    const base = `${packageOf(`${dir}/${k.version}`)}.${k.kind}`;
    for (const [name, kind] of [[base, k.kind], [`${base}List`, `${k.kind}List`]] as const) {
      const d = defs[name];
      if (!d) continue;
      d['x-kubernetes-group-version-kind'] = [{ group: k.group, kind, version: k.version }];
      byGVK.set(`${gv}/${kind}`, name);
    }
  }
  // The autoscaling/v1 Scale of the scale subresources.
  const scale = defs['io.k8s.api.autoscaling.v1.Scale'];
  if (scale) scale['x-kubernetes-group-version-kind'] = [{ group: 'autoscaling', kind: 'Scale', version: 'v1' }];
  cached = { defs, byGVK };
  return cached;
}

/** The definition names reachable from `names` (for a group version's document). */
export function closure(names: string[]): Set<string> {
  const { defs } = definitions();
  const seen = new Set<string>();
  const walk = (s: unknown): void => {
    if (!s || typeof s !== 'object') return;
    if (Array.isArray(s)) return s.forEach(walk);
    for (const [k, v] of Object.entries(s)) {
      if (k === '$ref' && typeof v === 'string') visit(v.replace('#/definitions/', ''));
      else walk(v);
    }
  };
  const visit = (n: string) => {
    if (seen.has(n) || !defs[n]) return;
    seen.add(n);
    walk(defs[n]);
  };
  names.forEach(visit);
  return seen;
}
