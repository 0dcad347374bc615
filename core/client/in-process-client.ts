/** The Client for code running in the same process as the API server: no serialization, same path. */
import type { KubeList, KubeObject } from '../api/types.ts';
import { SYSTEM_ADMIN, type UserInfo } from '../server/admission/chain.ts';
import type { ApiServer } from '../server/api-server.ts';
import { evictPod } from '../server/eviction.ts';
import type {
  Client,
  ClientWatchEvent,
  DeleteOptions,
  KindRef,
  ListOptions,
  ObjectRef,
  PatchType,
  WatchHandle,
  WatchOptions,
  WriteOptions,
} from './client.ts';

export class InProcessClient implements Client {
  constructor(
    private readonly server: ApiServer,
    private readonly user: UserInfo = SYSTEM_ADMIN,
  ) {}

  /** The same server seen as another user (controllers, agents and the UI each get their own). */
  as(user: UserInfo): InProcessClient {
    return new InProcessClient(this.server, user);
  }

  create<T extends KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    return this.server.create(obj, this.user, opts);
  }
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    return this.server.get<T>(ref);
  }
  list<T extends KubeObject = KubeObject>(ref: KindRef, opts?: ListOptions): Promise<KubeList<T>> {
    return this.server.list<T>(ref, opts);
  }
  update<T extends KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    return this.server.update(obj, this.user, opts);
  }
  updateStatus<T extends KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    return this.server.updateStatus(obj, this.user, opts);
  }
  patch<T extends KubeObject = KubeObject>(ref: ObjectRef, type: PatchType, patch: unknown, opts?: WriteOptions): Promise<T> {
    return this.server.patch<T>(ref, type, patch, this.user, opts);
  }
  delete<T extends KubeObject = KubeObject>(ref: ObjectRef, opts?: DeleteOptions): Promise<T> {
    return this.server.delete<T>(ref, this.user, opts);
  }
  bind(pod: { namespace: string; name: string }, nodeName: string, opts?: WriteOptions): Promise<void> {
    return this.server.bind(pod.namespace, pod.name, nodeName, this.user, opts);
  }
  evict(pod: { namespace: string; name: string }, opts: DeleteOptions = {}): Promise<void> {
    return evictPod(this.server, pod.namespace, pod.name, opts, this.user);
  }
  watch<T extends KubeObject = KubeObject>(ref: KindRef, opts: WatchOptions, onEvent: (ev: ClientWatchEvent<T>) => void): WatchHandle {
    return this.server.watch(ref, opts, onEvent as (ev: ClientWatchEvent) => void);
  }
}
