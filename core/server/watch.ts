/**
 * Watch as Kubernetes serves it: without a resourceVersion the current state comes first as
 * ADDED events, then every change in order; with one, changes after it (410 Expired when that
 * history was compacted). Selector filtering turns a change that moves an object into or out of
 * the selection into ADDED or DELETED, as the kube-apiserver's watch cache does.
 */
import { ApiError, badRequest } from '../api/errors.ts';
import { apiVersionOf, storagePrefix, type KindInfo } from '../api/kinds.ts';
import type { KubeObject } from '../api/types.ts';
import { parseFieldSelector, selectorFromString } from '../api/selectors.ts';
import type { ClientWatchEvent, WatchOptions } from '../client/client.ts';
import { isStoreError, type Watcher, type WatchEvent } from '../store/store.ts';
import type { ApiServer } from './api-server.ts';
import { toObject } from './api-server.ts';

export type WatchSink = (ev: ClientWatchEvent) => void;

export interface ServerWatch {
  close(): void;
}

/** How often a watch that asked for them gets a BOOKMARK (kube-apiserver: about once a minute). */
export let BOOKMARK_INTERVAL_MS = 60_000;
export function setBookmarkInterval(ms: number): void {
  BOOKMARK_INTERVAL_MS = ms;
}

export function compileFilter(info: KindInfo, labelSelector?: string, fieldSelector?: string): (obj: KubeObject) => boolean {
  let labels: { matches(l: Record<string, string> | undefined): boolean } | undefined;
  let fields: { matches(o: KubeObject): boolean } | undefined;
  try {
    if (labelSelector) labels = selectorFromString(labelSelector);
    if (fieldSelector) fields = parseFieldSelector(fieldSelector, info.kind);
  } catch (e) {
    throw badRequest((e as Error).message);
  }
  if (!labels && !fields) return () => true;
  return (obj) => (!labels || labels.matches(obj.metadata?.labels)) && (!fields || fields.matches(obj));
}

export function startWatch(server: ApiServer, info: KindInfo, namespace: string | undefined, opts: WatchOptions, sink: WatchSink): ServerWatch {
  const filter = compileFilter(info, opts.labelSelector, opts.fieldSelector);
  const prefix = storagePrefix(info, namespace);
  let closed = false;
  let watcher: Watcher | undefined;
  let lastRv = 0;
  let timer: NodeJS.Timeout | undefined;

  const emit = (ev: ClientWatchEvent) => {
    if (!closed) sink(ev);
  };
  const fail = (err: ApiError) => {
    emit({ type: 'ERROR', object: err.status as unknown as KubeObject });
    handle.close();
  };
  const onStoreEvent = (ev: WatchEvent) => {
    lastRv = ev.kv.modRevision;
    const now = toObject(ev.kv);
    if (ev.type === 'ADDED') {
      if (filter(now)) emit({ type: 'ADDED', object: now });
      return;
    }
    const before = ev.prev ? filter(toObject({ ...ev.prev, value: structuredClone(ev.prev.value) })) : false;
    if (ev.type === 'DELETED') {
      if (before || filter(now)) emit({ type: 'DELETED', object: now });
      return;
    }
    const after = filter(now);
    if (after && before) emit({ type: 'MODIFIED', object: now });
    else if (after) emit({ type: 'ADDED', object: now });
    else if (before) emit({ type: 'DELETED', object: now });
  };
  const follow = (from: number) => {
    if (closed) return;
    try {
      watcher = server.store.watch(prefix, from, onStoreEvent);
    } catch (e) {
      if (isStoreError(e, 'Compacted')) {
        fail(new ApiError('Expired', `too old resource version: ${from} (${server.store.compactedRevision()})`));
        return;
      }
      throw e;
    }
    if (opts.allowWatchBookmarks) {
      timer = setInterval(() => {
        emit({
          type: 'BOOKMARK',
          object: { apiVersion: apiVersionOf(info), kind: info.kind, metadata: { resourceVersion: String(lastRv || server.store.currentRevision()) } },
        });
      }, BOOKMARK_INTERVAL_MS);
      timer.unref();
    }
  };

  const handle: ServerWatch = {
    close() {
      closed = true;
      watcher?.close();
      if (timer) clearInterval(timer);
    },
  };

  const rv = opts.resourceVersion;
  if (rv && rv !== '0') {
    const from = Number(rv);
    if (!Number.isSafeInteger(from) || from < 0) throw badRequest(`invalid resource version "${rv}"`);
    lastRv = from;
    follow(from);
  } else {
    void (async () => {
      const list = await server.store.list(prefix);
      lastRv = list.revision;
      for (const kv of list.items) {
        const obj = toObject(kv);
        if (filter(obj)) emit({ type: 'ADDED', object: obj });
      }
      follow(list.revision);
    })().catch((e) => fail(e instanceof ApiError ? e : new ApiError('InternalError', (e as Error).message)));
  }
  return handle;
}
