/**
 * `kubectl apply` for parsed manifests, all or nothing.
 *
 *  1. Every document is validated (`validateImport`: field validation at the field's line,
 *     duplicate objects); syntax problems already came from `parseManifests`.
 *  2. Every write is dry-run against the API (`dryRun: true`: the server runs defaulting,
 *     validation and the whole admission chain, quota included, and persists nothing).
 *  3. Only when every document passed is anything written, prerequisites first (Namespaces,
 *     PriorityClasses, quotas, ServiceAccounts, Secrets, ConfigMaps … workloads last, Helm's
 *     install order), each create/update with client-side-apply semantics:
 *     the manifest is stored as JSON in the `kubectl.kubernetes.io/last-applied-configuration`
 *     annotation; an existing object is three-way merged (last-applied, manifest, live) and
 *     updated at the live resourceVersion, re-read and re-merged on Conflict.
 *
 * Residual cases, not all-or-nothing:
 *  - a write that fails after a clean dry run (a concurrent change, a quota another client just
 *    used up) does not undo earlier writes; the rest are still attempted and an ApplyError lists
 *    every object's outcome;
 *  - an object whose namespace (or another prerequisite) is created by this same import cannot be
 *    dry-run before the prerequisite exists: its dry run's NotFound for that prerequisite is
 *    accepted, and the object is checked by field validation only until the real write.
 *
 * Deliberate choices: read-only metadata in a manifest (resourceVersion, uid, creationTimestamp,
 * generation, managedFields, selfLink) is dropped, so re-applying an exported object works;
 * `generateName` objects are created anew on every apply (kubectl refuses them).
 */
import type { Client, ObjectRef } from '../client/client.ts';
import { isApiError, type FieldError } from './errors.ts';
import { apiVersionOf, lookupKind, type KindInfo } from './kinds.ts';
import { jsonEqual, threeWayMerge } from './merge.ts';
import { describeObject, type KubeObject } from './types.ts';
import { ImportError, validateImport, withNamespace, type ImportProblem, type ParsedDocument } from './yaml-import.ts';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
export const DEFAULT_FIELD_MANAGER = 'wheelhouse-apply';
const MAX_CONFLICT_RETRIES = 5;

/** Helm's install order; kinds not listed go last, in document order. */
export const APPLY_ORDER: readonly string[] = [
  'Namespace', 'PriorityClass', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodDisruptionBudget',
  'ServiceAccount', 'Secret', 'ConfigMap', 'StorageClass', 'PersistentVolume', 'PersistentVolumeClaim',
  'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Service',
  'DaemonSet', 'Pod', 'ReplicationController', 'ReplicaSet', 'Deployment', 'HorizontalPodAutoscaler',
  'StatefulSet', 'Job', 'CronJob', 'IngressClass', 'Ingress',
];

const READ_ONLY_METADATA = ['resourceVersion', 'uid', 'creationTimestamp', 'generation', 'managedFields', 'selfLink'] as const;

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyResult {
  /** `Deployment default/web` */
  object: string;
  kind: string;
  apiVersion: string;
  namespace?: string;
  name: string;
  /** `failed` only in an ApplyError's results (a write failed after a clean dry run). */
  action: ApplyAction | 'failed';
  file: string;
  document: number;
  /** The live object before (absent for `created`) and the object as written (or as it would be, on a dry run). */
  diff?: { before?: KubeObject; after: KubeObject };
  /** Why it failed (`failed` only). */
  problems?: ImportProblem[];
}

export interface ApplyOptions {
  /** Validate and dry-run everything; write nothing. The results say what would happen. */
  dryRun?: boolean;
  fieldManager?: string;
  /** The API's field validation (FieldErrors with field paths). */
  validate: (obj: KubeObject) => FieldError[];
  /** Namespace for namespaced objects that name none (default `default`). */
  namespace?: string;
}

/** Writes failed after a clean dry run; `results` has every object's outcome, written or not. */
export class ApplyError extends ImportError {
  readonly results: ApplyResult[];
  constructor(results: ApplyResult[]) {
    const failed = results.filter((r) => r.action === 'failed');
    const problems = failed.flatMap((r) => r.problems ?? []);
    super(problems, `${failed.length} of ${results.length} objects failed after a clean dry run; the others were applied:`);
    this.name = 'ApplyError';
    this.results = results;
  }
}

interface Step {
  doc: ParsedDocument;
  /** Position in the input: results come back in document order. */
  order: number;
  info: KindInfo;
  /** The object to write: namespace settled, served apiVersion, last-applied annotation set. */
  manifest: KubeObject;
  /** undefined for generateName objects. */
  ref?: ObjectRef;
}

interface Outcome {
  action: ApplyAction;
  before?: KubeObject;
  after: KubeObject;
}

/** Apply parsed manifests through `client`, all or nothing (see the file comment). */
export async function applyManifests(client: Client, docs: readonly ParsedDocument[], opts: ApplyOptions): Promise<ApplyResult[]> {
  const problems = validateImport(docs, opts.validate, { namespace: opts.namespace });
  if (problems.length) throw new ImportError(problems);
  const steps = plan(docs, opts.namespace);

  // Dry run of every write, in the order the real writes will happen.
  const planned = new Map<Step, Outcome>();
  const rejected: { step: Step; problems: ImportProblem[] }[] = [];
  for (const step of steps) {
    try {
      planned.set(step, await write(client, step, opts, true));
    } catch (e) {
      if (createdByImport(e, steps)) planned.set(step, { action: 'created', after: step.manifest });
      else rejected.push({ step, problems: problemsOf(step, e) });
    }
  }
  if (rejected.length) throw new ImportError(rejected.sort((a, b) => a.step.order - b.step.order).flatMap((r) => r.problems));
  const inDocumentOrder = (results: Map<Step, ApplyResult>) => [...steps].sort((a, b) => a.order - b.order).map((s) => results.get(s)!);
  if (opts.dryRun) return inDocumentOrder(new Map(steps.map((s) => [s, result(s, planned.get(s)!)])));

  const results = new Map<Step, ApplyResult>();
  for (const step of steps) {
    try {
      results.set(step, result(step, await write(client, step, opts, false)));
    } catch (e) {
      const { diff: _none, ...base } = result(step, { action: 'created', after: step.manifest });
      results.set(step, { ...base, action: 'failed', problems: problemsOf(step, e) });
    }
  }
  const ordered = inDocumentOrder(results);
  if (ordered.some((r) => r.action === 'failed')) throw new ApplyError(ordered);
  return ordered;
}

function plan(docs: readonly ParsedDocument[], namespace: string | undefined): Step[] {
  const rank = (kind: string) => {
    const i = APPLY_ORDER.indexOf(kind);
    return i < 0 ? APPLY_ORDER.length : i;
  };
  const steps = docs.map((doc, order): Step => {
    const info = lookupKind(doc.object.apiVersion, doc.object.kind)!; // validateImport checked
    const manifest = withNamespace(structuredClone(doc.object), namespace);
    const metadata = { ...manifest.metadata };
    for (const f of READ_ONLY_METADATA) delete metadata[f];
    const annotations = { ...(metadata.annotations ?? {}) };
    delete annotations[LAST_APPLIED_ANNOTATION];
    if (Object.keys(annotations).length) metadata.annotations = annotations;
    else delete metadata.annotations;
    // What kubectl stores: the manifest as written (namespace settled), without the annotation itself.
    const lastApplied = `${JSON.stringify({ ...manifest, metadata })}\n`;
    const final: KubeObject = {
      ...manifest,
      apiVersion: apiVersionOf(info),
      metadata: { ...metadata, annotations: { ...annotations, [LAST_APPLIED_ANNOTATION]: lastApplied } },
    };
    const ref = metadata.name
      ? { apiVersion: final.apiVersion, kind: info.kind, name: metadata.name, ...(info.namespaced ? { namespace: metadata.namespace } : {}) }
      : undefined;
    return { doc, order, info, manifest: final, ref };
  });
  return steps.map((s, i) => ({ s, i })).sort((a, b) => rank(a.s.info.kind) - rank(b.s.info.kind) || a.i - b.i).map((x) => x.s);
}

/** One create-or-update with client-side-apply semantics, retried on Conflict. */
async function write(client: Client, step: Step, opts: ApplyOptions, dryRun: boolean): Promise<Outcome> {
  const wopts = { dryRun, fieldManager: opts.fieldManager ?? DEFAULT_FIELD_MANAGER };
  if (!step.ref) return { action: 'created', after: await client.create(step.manifest, wopts) };
  for (let attempt = 0; ; attempt++) {
    const retry = attempt < MAX_CONFLICT_RETRIES;
    let live: KubeObject | undefined;
    try {
      live = await client.get(step.ref);
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
    if (!live) {
      try {
        return { action: 'created', after: await client.create(step.manifest, wopts) };
      } catch (e) {
        if (retry && isApiError(e, 'AlreadyExists')) continue; // created meanwhile: apply over it
        throw e;
      }
    }
    const { patched, changed } = threeWayMerge(lastAppliedOf(live), step.manifest, live, step.info.kind);
    if (!changed) return { action: 'unchanged', before: live, after: live };
    patched.metadata = { ...patched.metadata, resourceVersion: live.metadata.resourceVersion };
    try {
      const after = await client.update(patched, wopts);
      // The API answers a no-op update with the object as it was (same resourceVersion).
      const noop = dryRun ? jsonEqual(after, live) : after.metadata?.resourceVersion === live.metadata.resourceVersion;
      return { action: noop ? 'unchanged' : 'configured', before: live, after };
    } catch (e) {
      if (retry && isApiError(e, 'Conflict')) continue;
      if (retry && isApiError(e, 'NotFound')) continue; // deleted meanwhile: create it
      throw e;
    }
  }
}

/** The last-applied configuration of a live object, or undefined (none, or not JSON). */
export function lastAppliedOf(live: KubeObject): KubeObject | undefined {
  const raw = live.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as KubeObject) : undefined;
  } catch {
    return undefined; // treated as an object never applied: nothing is deleted
  }
}

/** A dry run's NotFound for something this import creates (its namespace, a priority class …). */
function createdByImport(e: unknown, steps: Step[]): boolean {
  if (!isApiError(e, 'NotFound')) return false;
  const d = e.status.details;
  if (!d?.name || !d.kind) return false;
  return steps.some((s) => s.ref?.name === d.name && (s.info.plural === d.kind || s.info.kind === d.kind));
}

function problemsOf(step: Step, e: unknown): ImportProblem[] {
  const { doc } = step;
  const base = { file: doc.file, document: doc.index, object: describeObject(step.manifest) };
  const at = (field?: string) => (field ? doc.positionOf(field) : undefined) ?? doc.positionOf('') ?? { line: doc.line, column: 1 };
  if (isApiError(e) && e.causes.length) {
    return e.causes.map((c) => ({ ...base, ...at(c.field), ...(c.field ? { field: c.field } : {}), message: c.message ?? e.message }));
  }
  return [{ ...base, ...at(), message: (e as Error)?.message ?? String(e) }];
}

function result(step: Step, outcome: Outcome): ApplyResult {
  const obj = outcome.after;
  const name = obj.metadata?.name ?? step.ref?.name ?? `${step.manifest.metadata.generateName ?? ''}*`;
  const namespace = step.info.namespaced ? (obj.metadata?.namespace ?? step.manifest.metadata.namespace) : undefined;
  return {
    object: describeObject({ kind: step.info.kind, metadata: { namespace, name } }),
    kind: step.info.kind,
    apiVersion: step.manifest.apiVersion,
    ...(namespace ? { namespace } : {}),
    name,
    action: outcome.action,
    file: step.doc.file,
    document: step.doc.index,
    ...(outcome.action === 'unchanged' ? {} : { diff: { ...(outcome.before ? { before: outcome.before } : {}), after: obj } }),
  };
}
