/**
 * resources.list / get / watch / unwatch / delete, and namespaces.create. A watch lists first
 * (the result carries the items), then feeds every change into the session's batcher; a watch
 * whose history was compacted (410) lists again and sends the whole set as a reset.
 */
import { isApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import type { WatchHandle } from '../client/client.ts';
import type { ListArgs } from '../desktop-api.ts';
import { log } from '../log.ts';
import type { HandlerMap } from './handler-types.ts';
import type { DesktopSession } from './host.ts';
import { kindRef, objectRef } from './kinds.ts';
import { forRenderer } from './sanitize.ts';

type Calls = 'resources.list' | 'resources.get' | 'resources.watch' | 'resources.unwatch' | 'resources.delete' | 'namespaces.create';

async function list(s: DesktopSession, args: ListArgs) {
  const ref = kindRef(args.kind, args.namespace);
  const res = await s.client.list(ref, { labelSelector: args.labelSelector, fieldSelector: args.fieldSelector, namespace: ref.namespace });
  return { items: res.items.map(forRenderer), resourceVersion: res.metadata.resourceVersion ?? '' };
}

function startWatch(s: DesktopSession, watchId: string, args: ListArgs, resourceVersion: string, state: { handle?: WatchHandle; stopped: boolean }): void {
  const ref = kindRef(args.kind, args.namespace);
  state.handle = s.client.watch(
    ref,
    { namespace: ref.namespace, labelSelector: args.labelSelector, fieldSelector: args.fieldSelector, resourceVersion },
    (ev) => {
      if (state.stopped) return;
      switch (ev.type) {
        case 'ADDED':
        case 'MODIFIED':
          s.batch.watchUpsert(watchId, forRenderer(ev.object));
          break;
        case 'DELETED':
          s.batch.watchDelete(watchId, ev.object);
          break;
        case 'ERROR':
          // Expired history (or another watch error): list again, send a reset, watch from there.
          state.handle?.close();
          void list(s, args)
            .then((r) => {
              if (state.stopped) return;
              s.batch.watchReset(watchId, r.items);
              startWatch(s, watchId, args, r.resourceVersion, state);
            })
            .catch((e) => log.warn('desktop watch could not restart', { kind: args.kind, error: (e as Error).message }));
          break;
        default:
          break;
      }
    },
  );
}

export const resourceHandlers: HandlerMap<Calls> = {
  'resources.list': list,

  async 'resources.get'(s, args) {
    const obj = await s.client.get<KubeObject>(objectRef(args.kind, args.namespace, args.name));
    return forRenderer(obj);
  },

  async 'resources.watch'(s, args) {
    const state: { handle?: WatchHandle; stopped: boolean } = { stopped: false };
    const watchId = s.track('watches', 'w', () => {
      state.stopped = true;
      state.handle?.close();
      s.batch.dropWatch(watchId);
    });
    try {
      const r = await list(s, args);
      if (!state.stopped) startWatch(s, watchId, args, r.resourceVersion, state);
      return { watchId, ...r };
    } catch (e) {
      s.release(watchId);
      throw e;
    }
  },

  async 'resources.unwatch'(s, args) {
    s.release(args.watchId, 'watches');
    return null;
  },

  async 'resources.delete'(s, args) {
    try {
      await s.client.delete(objectRef(args.kind, args.namespace, args.name), {
        propagationPolicy: args.propagationPolicy ?? 'Background',
        ...(args.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: args.gracePeriodSeconds } : {}),
        fieldManager: 'wheelhouse-ui',
      });
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e; // already gone: what the user wanted
    }
    return null;
  },

  async 'namespaces.create'(s, args) {
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: args.name } }, { fieldManager: 'wheelhouse-ui' });
    return null;
  },
};
