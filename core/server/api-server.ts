/**
 * The API layer: every write, from the UI, kubectl, controllers or agents, goes
 * decode → default → validate → admission → store, exactly as in kube-apiserver; reads and watches
 * come back with `metadata.resourceVersion` = the store revision of the object's last write.
 *
 * Authentication and RBAC sit in front of this (core/server/http and the in-process client carry
 * the user); this class trusts the `UserInfo` it is given.
 */
import { exceedsDepth, MAX_NESTING } from '../api/depth.ts';
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ApiError, alreadyExists, badRequest, conflict, invalid, isApiError, notFound } from '../api/errors.ts';
import { apiVersionOf, explainUnknownKind, lookupKind, storageKey, storagePrefix, type KindInfo } from '../api/kinds.ts';
import type { KubeList, KubeObject } from '../api/types.ts';
import { applyDefaults, defaultObjectMeta } from '../api/defaults.ts';
import { validateObject, validateUpdate } from '../api/validation/index.ts';
import { applyJsonPatch, jsonMergePatch, strategicMergePatch } from '../api/merge.ts';
import type { DeleteOptions, KindRef, ListOptions, ObjectRef, PatchType, WatchOptions, WriteOptions } from '../client/client.ts';
import { isStoreError, type KeyValue, type Store } from '../store/store.ts';
import { AdmissionChain, SYSTEM_ADMIN, type Operation, type UserInfo } from './admission/chain.ts';
import { decodeContinue, encodeContinue } from './paging.ts';
import { prepareForCreate, prepareForStatusUpdate, prepareForUpdate } from './object-meta.ts';
import { recordUpdate, type FieldOwner, type ManagedFieldsEntry } from './managed-fields.ts';
import { patchServiceUpdate, ServiceAllocator, type Allocation, type PortRange } from './service-alloc.ts';
import { compileFilter, startWatch, type ServerWatch, type WatchSink } from './watch.ts';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
/**
 * kube-apiserver retries an unconditional write that lost a race until it wins. With N writers
 * of one object, one wins each round, so the last may lose N-1 times: 10 retries failed 20
 * concurrent patches on a loaded machine. This bound (about 6 s of back-off) is only there so a
 * bug cannot loop for ever.
 */
const MAX_CONFLICT_RETRIES = 64;

/**
 * Pause before retrying an unconditional write that lost a race. A store may accept a newer write
 * before it is durable and readable (lowdb's group commit), so an immediate re-read can still see
 * the old revision: wait a little longer each time (2 ms doubling, at most 100 ms), with jitter so
 * that writers that lost together do not all come back together.
 */
function conflictBackoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.min(100, 2 ** (attempt + 1)) * (0.5 + Math.random())));
}

/** Write options on the server side: admission warnings are appended to `warnings` (deduplicated). */
export interface ServerWriteOptions extends WriteOptions {
  /** kube-apiserver's response warnings (PodSecurity's `would violate …`); the HTTP layer sends them as Warning headers. */
  warnings?: string[];
  /**
   * HTTP writes: record the fields this write sets in metadata.managedFields under this manager
   * (operation Update). In-process writes leave it out and pay nothing for it.
   */
  fieldOwner?: FieldOwner;
  /** Server-side apply: the managedFields to store, as the apply computed them. */
  managedFields?: ManagedFieldsEntry[];
}

export interface ApiServerOptions {
  store: Store;
  admission?: AdmissionChain;
  now?: () => Date;
  /** The range Service cluster IPs are allocated from; default DEFAULT_SERVICE_CIDR (10.96.0.0/16). */
  serviceCIDR?: string;
  /** The range Service node ports are allocated from; default 30000–32767. */
  nodePortRange?: PortRange;
}

export class ApiServer {
  readonly store: Store;
  readonly admission: AdmissionChain;
  /** Service cluster IPs and node ports. */
  readonly services: ServiceAllocator;
  private readonly now: () => Date;

  constructor(opts: ApiServerOptions) {
    this.store = opts.store;
    this.admission = opts.admission ?? new AdmissionChain();
    this.now = opts.now ?? (() => new Date());
    this.services = new ServiceAllocator({
      serviceCIDR: opts.serviceCIDR,
      nodePortRange: opts.nodePortRange,
      listServices: async () => (await this.list({ apiVersion: 'v1', kind: 'Service' })).items,
    });
  }

  /** Create the namespaces every cluster has. Idempotent. */
  async bootstrap(): Promise<void> {
    for (const name of SYSTEM_NAMESPACES) {
      try {
        await this.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, SYSTEM_ADMIN);
      } catch (e) {
        if (!isApiError(e, 'AlreadyExists')) throw e;
      }
    }
  }

  // ---- reads -------------------------------------------------------------------------------

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    const info = this.kind(ref.apiVersion, ref.kind);
    const kv = await this.read(info, this.namespaceOf(info, ref.namespace), ref.name);
    return toObject<T>(kv);
  }

  async list<T extends KubeObject = KubeObject>(ref: KindRef, opts: ListOptions = {}): Promise<KubeList<T>> {
    const info = this.kind(ref.apiVersion, ref.kind);
    const ns = info.namespaced ? (opts.namespace ?? ref.namespace) : undefined;
    const prefix = storagePrefix(info, ns || undefined);
    const filter = compileFilter(info, opts.labelSelector, opts.fieldSelector);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    let after = opts.continue ? decodeContinue(opts.continue, prefix).k : undefined;
    const items: T[] = [];
    let revision = 0;
    let lastKey: string | undefined;
    let more = false;
    // Pages are read in chunks; filtered-out items do not count towards the limit.
    for (;;) {
      const chunk = await this.store.list(prefix, { limit: limit ? Math.max(limit, 100) : 0, after });
      if (!revision) revision = chunk.revision;
      let cut = false;
      for (const kv of chunk.items) {
        lastKey = kv.key;
        const obj = toObject<T>(kv);
        if (!filter(obj)) continue;
        items.push(obj);
        if (limit && items.length >= limit) {
          cut = true;
          break;
        }
      }
      if (cut) {
        more = chunk.more || chunk.items[chunk.items.length - 1]!.key !== lastKey;
        break;
      }
      if (!chunk.more) break;
      after = lastKey;
    }
    const list: KubeList<T> = {
      apiVersion: apiVersionOf(info),
      kind: `${info.kind}List`,
      metadata: { resourceVersion: String(revision) },
      items,
    };
    if (more && lastKey) list.metadata.continue = encodeContinue(lastKey, revision);
    return list;
  }

  watch(ref: KindRef, opts: WatchOptions, sink: WatchSink): ServerWatch {
    const info = this.kind(ref.apiVersion, ref.kind);
    const ns = info.namespaced ? (opts.namespace ?? ref.namespace) : undefined;
    return startWatch(this, info, ns || undefined, opts, sink);
  }

  // ---- writes ------------------------------------------------------------------------------

  async create<T extends KubeObject>(input: T, user: UserInfo = SYSTEM_ADMIN, opts: ServerWriteOptions = {}): Promise<T> {
    const info = this.decode(input);
    let obj = structuredClone(input) as KubeObject;
    obj.apiVersion = apiVersionOf(info);
    obj.metadata ??= {};
    this.scopeNamespace(info, obj);
    delete obj.metadata.resourceVersion;
    obj = applyDefaults(obj);
    defaultObjectMeta(obj, this.now(), randomUUID);
    prepareForCreate(info, obj);
    if (opts.fieldOwner) recordUpdate(info, obj, undefined, opts.fieldOwner, obj.apiVersion, this.now());
    if (info.namespaced) await this.requireLiveNamespace(obj.metadata.namespace!, info, obj.metadata.name!);
    this.validate(info, obj);
    await this.admit('CREATE', info, obj, undefined, '', user, opts);
    this.validate(info, obj);
    const allocation = isService(info) ? await this.services.allocateCreate(obj, !!opts.dryRun) : undefined;
    try {
      if (opts.dryRun) {
        await this.assertAbsent(info, obj);
        return obj as T;
      }
      const kv = await this.store.create(storageKey(info, obj.metadata.namespace, obj.metadata.name!), obj);
      return toObject<T>(kv);
    } catch (e) {
      if (isStoreError(e, 'AlreadyExists')) throw alreadyExists({ kind: info.kind, group: info.group, name: obj.metadata.name }, info.plural);
      throw storeFailure(e);
    } finally {
      allocation?.release();
    }
  }

  async update<T extends KubeObject>(input: T, user: UserInfo = SYSTEM_ADMIN, opts: ServerWriteOptions = {}): Promise<T> {
    return this.replace(input, '', user, opts);
  }

  async updateStatus<T extends KubeObject>(input: T, user: UserInfo = SYSTEM_ADMIN, opts: ServerWriteOptions = {}): Promise<T> {
    return this.replace(input, 'status', user, opts);
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    type: PatchType,
    patch: unknown,
    user: UserInfo = SYSTEM_ADMIN,
    opts: ServerWriteOptions & { subresource?: 'status' } = {},
  ): Promise<T> {
    const info = this.kind(ref.apiVersion, ref.kind);
    const ns = this.namespaceOf(info, ref.namespace);
    for (let attempt = 0; ; attempt++) {
      const current = toObject(await this.read(info, ns, ref.name));
      let next: KubeObject;
      try {
        if (type === 'json') next = applyJsonPatch(current, patch as any) as KubeObject;
        else if (type === 'merge') next = jsonMergePatch(current, patch) as KubeObject;
        else next = strategicMergePatch(current, patch, info.kind) as KubeObject;
      } catch (e) {
        if (isApiError(e)) throw e;
        throw new ApiError('Invalid', `${info.kind} "${ref.name}": the patch could not be applied: ${(e as Error).message}`);
      }
      if (!next || typeof next !== 'object' || Array.isArray(next)) throw badRequest('the patch must produce an object');
      // A patch that names a resourceVersion is a precondition; otherwise the server retries on conflict.
      const pinned = (patch as any)?.metadata?.resourceVersion !== undefined;
      if (!pinned) next.metadata = { ...(next.metadata ?? {}), resourceVersion: current.metadata.resourceVersion };
      try {
        return await this.replace(next as T, opts.subresource ?? '', user, opts);
      } catch (e) {
        if (!pinned && isApiError(e, 'Conflict') && attempt < MAX_CONFLICT_RETRIES) {
          await conflictBackoff(attempt);
          continue;
        }
        throw e;
      }
    }
  }

  async delete<T extends KubeObject = KubeObject>(ref: ObjectRef, user: UserInfo = SYSTEM_ADMIN, opts: DeleteOptions = {}): Promise<T> {
    const info = this.kind(ref.apiVersion, ref.kind);
    const ns = this.namespaceOf(info, ref.namespace);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.read(info, ns, ref.name);
      const obj = toObject(kv);
      const pre = opts.preconditions;
      const target = { kind: info.kind, group: info.group, name: ref.name };
      if (pre?.uid && pre.uid !== obj.metadata.uid) {
        throw conflict(target, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`, info.plural);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
        throw conflict(target, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`, info.plural);
      }
      await this.admit('DELETE', info, obj, obj, '', user, opts);
      const graceful = this.gracefulDeletion(info, obj, opts);
      try {
        if (graceful) {
          const { resourceVersion: _rv, ...meta } = obj.metadata;
          if (opts.dryRun || isDeepStrictEqual({ ...obj, metadata: meta }, graceful)) return (opts.dryRun ? graceful : obj) as T;
          return toObject<T>(await this.store.update(kv.key, graceful, kv.modRevision));
        }
        if (opts.dryRun) return obj as T;
        return toObject<T>(await this.store.delete(kv.key, kv.modRevision));
      } catch (e) {
        if (isStoreError(e, 'Conflict') && attempt < MAX_CONFLICT_RETRIES && !pre?.resourceVersion) {
          await conflictBackoff(attempt);
          continue;
        }
        if (isStoreError(e, 'NotFound')) throw notFound(target, info.plural);
        throw storeFailure(e);
      }
    }
  }

  /**
   * pods/binding: the scheduler's (or a user's) assignment of a pod to a node. Only an unbound
   * pod can be bound; the pod gets `spec.nodeName` and the PodScheduled=True condition.
   */
  async bind(namespace: string, podName: string, nodeName: string, user: UserInfo = SYSTEM_ADMIN, opts: WriteOptions = {}): Promise<void> {
    const info = this.kind('v1', 'Pod');
    const target = { kind: 'Pod', group: '', name: podName };
    if (!nodeName) throw invalid(target, [{ field: 'target.name', type: 'FieldValueRequired', message: 'Required value' }]);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.read(info, namespace, podName);
      const pod = toObject(kv);
      if (pod.metadata.deletionTimestamp) throw conflict(target, 'pod is being deleted, cannot be assigned to a host', 'pods');
      if (pod.spec?.nodeName) throw conflict(target, `pod ${podName} is already assigned to node "${pod.spec.nodeName}"`, 'pods');
      const next = structuredClone(pod);
      delete next.metadata.resourceVersion;
      next.spec.nodeName = nodeName;
      const now = this.now().toISOString().replace(/\.\d+Z$/, 'Z');
      const conditions = (next.status?.conditions ?? []).filter((c: any) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now });
      next.status = { ...(next.status ?? {}), conditions };
      await this.admit('UPDATE', info, next, pod, 'binding', user, opts);
      if (opts.dryRun) return;
      try {
        await this.store.update(kv.key, next, kv.modRevision);
        return;
      } catch (e) {
        if (isStoreError(e, 'Conflict') && attempt < MAX_CONFLICT_RETRIES) {
          await conflictBackoff(attempt);
          continue;
        }
        throw storeFailure(e);
      }
    }
  }

  // ---- internals ---------------------------------------------------------------------------

  /** An update without a resourceVersion is unconditional: a lost race is retried, as kube-apiserver does. */
  private async replace<T extends KubeObject>(input: T, subresource: '' | 'status', user: UserInfo, opts: ServerWriteOptions): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.replaceOnce(input, subresource, user, opts);
      } catch (e) {
        if (input.metadata?.resourceVersion || !isApiError(e, 'Conflict') || attempt >= MAX_CONFLICT_RETRIES) throw e;
        await conflictBackoff(attempt);
      }
    }
  }

  private async replaceOnce<T extends KubeObject>(input: T, subresource: '' | 'status', user: UserInfo, opts: ServerWriteOptions): Promise<T> {
    const info = this.decode(input);
    const name = input.metadata?.name;
    if (!name) throw invalid({ kind: info.kind, group: info.group, name: '' }, [{ field: 'metadata.name', type: 'FieldValueRequired', message: 'Required value: name is required' }]);
    const ns = this.namespaceOf(info, input.metadata.namespace);
    const kv = await this.read(info, ns, name);
    const old = toObject(kv);
    const target = { kind: info.kind, group: info.group, name };
    const wantRv = input.metadata.resourceVersion;
    if (wantRv && wantRv !== old.metadata.resourceVersion) {
      throw conflict(target, 'the object has been modified; please apply your changes to the latest version and try again', info.plural);
    }
    let obj: KubeObject;
    if (subresource === 'status') {
      obj = prepareForStatusUpdate(input, old);
    } else {
      obj = structuredClone(input) as KubeObject;
      obj.apiVersion = apiVersionOf(info);
      this.scopeNamespace(info, obj);
      obj = applyDefaults(obj);
      if (isService(info)) patchServiceUpdate(obj, old);
      prepareForUpdate(info, obj, old);
    }
    if (opts.managedFields) obj.metadata.managedFields = opts.managedFields as any;
    else if (opts.fieldOwner) recordUpdate(info, obj, old, opts.fieldOwner, apiVersionOf(info), this.now());
    delete obj.metadata.resourceVersion;
    const errors = subresource === 'status' ? [] : validateUpdate(obj, old);
    if (errors.length) throw invalid(target, errors);
    await this.admit('UPDATE', info, obj, old, subresource, user, opts);
    // Finalizers gone from an object marked for deletion: it is deleted now.
    const finished = isDeletionFinished(info, obj);
    const { metadata: _a, ...restOld } = old;
    const { metadata: _b, ...restNew } = obj;
    const oldMeta = { ...old.metadata };
    delete oldMeta.resourceVersion;
    if (!finished && isDeepStrictEqual(restOld, restNew) && isDeepStrictEqual(oldMeta, obj.metadata)) {
      return old as T; // a no-op write does not bump the revision, as in Kubernetes
    }
    let allocation: Allocation | undefined;
    if (isService(info) && subresource === '' && !finished) allocation = await this.services.allocateUpdate(obj, old, !!opts.dryRun);
    try {
      if (opts.dryRun) return { ...obj, metadata: { ...obj.metadata, resourceVersion: old.metadata.resourceVersion } } as T;
      if (finished) return toObject<T>(await this.store.delete(kv.key, kv.modRevision));
      return toObject<T>(await this.store.update(kv.key, obj, kv.modRevision));
    } catch (e) {
      if (isStoreError(e, 'Conflict')) {
        throw conflict(target, 'the object has been modified; please apply your changes to the latest version and try again', info.plural);
      }
      if (isStoreError(e, 'NotFound')) throw notFound(target, info.plural);
      throw storeFailure(e);
    } finally {
      allocation?.release();
    }
  }

  /**
   * Marks instead of deleting when finalizers, foreground/orphan propagation, a namespace's
   * spec.finalizers or a bound pod's grace period say so. undefined: delete now.
   */
  private gracefulDeletion(info: KindInfo, obj: KubeObject, opts: DeleteOptions): KubeObject | undefined {
    const m = obj.metadata;
    const finalizers = [...(m.finalizers ?? [])];
    if (opts.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    if (opts.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
    const nsFinalizers: string[] = info.kind === 'Namespace' ? (obj.spec?.finalizers ?? []) : [];
    const grace = info.kind === 'Pod' && obj.spec?.nodeName && !isPodTerminal(obj) ? this.podGrace(obj, opts) : 0;
    if (!finalizers.length && !nsFinalizers.length && grace === 0) return undefined;
    const next = structuredClone(obj);
    delete next.metadata.resourceVersion;
    if (finalizers.length) next.metadata.finalizers = finalizers;
    const at = (g: number) => new Date(this.now().getTime() + g * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    if (!m.deletionTimestamp) {
      next.metadata.deletionTimestamp = at(grace);
      next.metadata.deletionGracePeriodSeconds = grace;
      if (next.metadata.generation !== undefined) next.metadata.generation += 1;
    } else if (grace < (m.deletionGracePeriodSeconds ?? Infinity)) {
      // A shorter grace period may replace a longer one (kubectl delete --grace-period=0 --force).
      next.metadata.deletionTimestamp = at(grace);
      next.metadata.deletionGracePeriodSeconds = grace;
    }
    if (info.kind === 'Namespace') next.status = { ...(next.status ?? {}), phase: 'Terminating' };
    return next;
  }

  private podGrace(pod: KubeObject, opts: DeleteOptions): number {
    const g = opts.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, g);
  }

  private kind(apiVersion: string, kind: string): KindInfo {
    const info = lookupKind(apiVersion, kind);
    if (!info) throw new ApiError('NotFound', `the server could not find the requested resource: ${explainUnknownKind(apiVersion, kind)}`);
    return info;
  }

  private decode(obj: KubeObject): KindInfo {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest('the request body must be a JSON object');
    if (!obj.kind || !obj.apiVersion) throw badRequest(`Object 'Kind' is missing or 'apiVersion' is missing: ${explainUnknownKind(obj.apiVersion, obj.kind)}`);
    const info = lookupKind(obj.apiVersion, obj.kind);
    if (!info) throw badRequest(explainUnknownKind(obj.apiVersion, obj.kind));
    if (obj.metadata !== undefined && (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata))) {
      throw badRequest(`${obj.kind}: metadata must be an object`);
    }
    if (exceedsDepth(obj)) throw badRequest(`${obj.kind} "${(obj.metadata as any)?.name ?? ''}": the object nests more than ${MAX_NESTING} levels deep`);
    return info;
  }

  private namespaceOf(info: KindInfo, ns: string | undefined): string | undefined {
    return info.namespaced ? ns || 'default' : undefined;
  }

  private scopeNamespace(info: KindInfo, obj: KubeObject): void {
    if (info.namespaced) obj.metadata.namespace ||= 'default';
    else delete obj.metadata.namespace;
  }

  private async read(info: KindInfo, ns: string | undefined, name: string): Promise<KeyValue> {
    try {
      return await this.store.get(storageKey(info, ns, name));
    } catch (e) {
      if (isStoreError(e, 'NotFound')) throw notFound({ kind: info.kind, group: info.group, name }, info.plural);
      throw storeFailure(e);
    }
  }

  private async assertAbsent(info: KindInfo, obj: KubeObject): Promise<void> {
    try {
      await this.store.get(storageKey(info, obj.metadata.namespace, obj.metadata.name!));
    } catch (e) {
      if (isStoreError(e, 'NotFound')) return;
      throw storeFailure(e);
    }
    throw alreadyExists({ kind: info.kind, group: info.group, name: obj.metadata.name }, info.plural);
  }

  private async requireLiveNamespace(ns: string, info: KindInfo, name: string): Promise<void> {
    let nsObj: KubeObject;
    try {
      nsObj = toObject((await this.store.get(`/registry/core/namespaces/${ns}`)));
    } catch (e) {
      if (isStoreError(e, 'NotFound')) throw notFound({ kind: 'Namespace', name: ns }, 'namespaces');
      throw storeFailure(e);
    }
    if (nsObj.metadata.deletionTimestamp) {
      throw new ApiError(
        'Forbidden',
        `${info.plural} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
      );
    }
  }

  private validate(info: KindInfo, obj: KubeObject): void {
    const errors = validateObject(obj);
    if (errors.length) throw invalid({ kind: info.kind, group: info.group, name: obj.metadata.name }, errors);
  }

  private async admit(op: Operation, info: KindInfo, obj: KubeObject, old: KubeObject | undefined, sub: string, user: UserInfo, opts: ServerWriteOptions) {
    const warnings: string[] = [];
    await this.admission.run({
      operation: op,
      info,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name ?? '',
      object: obj,
      oldObject: old,
      subresource: sub,
      dryRun: !!opts.dryRun,
      user,
      warnings,
    });
    // A write retried after a conflict runs admission again: each warning is kept once.
    for (const w of warnings) if (opts.warnings && !opts.warnings.includes(w)) opts.warnings.push(w);
  }
}

function isService(info: KindInfo): boolean {
  return info.kind === 'Service' && info.group === '';
}

/** Marked for deletion, no finalizer left and no grace period running: the object goes now. */
function isDeletionFinished(info: KindInfo, obj: KubeObject): boolean {
  const m = obj.metadata;
  if (!m.deletionTimestamp || m.finalizers?.length || (m.deletionGracePeriodSeconds ?? 0) > 0) return false;
  return !(info.kind === 'Namespace' && obj.spec?.finalizers?.length);
}

function isPodTerminal(pod: KubeObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** A stored value as the API returns it: resourceVersion = the revision of its last write. */
export function toObject<T extends KubeObject = KubeObject>(kv: KeyValue): T {
  const obj = kv.value as unknown as T;
  obj.metadata = { ...obj.metadata, resourceVersion: String(kv.modRevision) };
  return obj;
}

function storeFailure(e: unknown): ApiError {
  if (isApiError(e)) return e;
  if (isStoreError(e)) {
    if (e.code === 'Compacted') return new ApiError('Expired', e.message);
    return new ApiError('InternalError', `storage error: ${e.message}`);
  }
  return new ApiError('InternalError', (e as Error)?.message ?? String(e));
}
