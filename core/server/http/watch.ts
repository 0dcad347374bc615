/**
 * Watch over HTTP, as kube-apiserver streams it: a chunked response of JSON lines
 * `{"type":"ADDED","object":{…}}`, with `resourceVersion`, `allowWatchBookmarks`,
 * `timeoutSeconds` and selectors. A resourceVersion too old to resume from ends the stream with an
 * ERROR event carrying the 410 Expired Status (the client re-lists). For `kubectl get -w` the
 * objects are Tables of one row each.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiVersionOf, type KindInfo } from '../../api/kinds.ts';
import type { KubeObject } from '../../api/types.ts';
import type { ClientWatchEvent, WatchOptions } from '../../client/client.ts';
import type { ApiServer } from '../api-server.ts';
import type { ServerWatch } from '../watch.ts';
import { intParam, sendError, type Negotiated } from './respond.ts';
import { truthy } from './router.ts';
import { toTable } from './table.ts';

/** kube-apiserver's --min-request-timeout: a watch without timeoutSeconds ends after about this long. */
export const DEFAULT_WATCH_SECONDS = 1800;
/** A watcher that lets this much pile up unread is cut off (the client re-watches). */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

export interface WatchRequest {
  api: ApiServer;
  info: KindInfo;
  namespace?: string;
  /** A watch of one object (…/pods/NAME?watch=true or /watch/…/pods/NAME). */
  name?: string;
  query: URLSearchParams;
  negotiated: Negotiated;
  /** Active watches, so the server can end them on close. */
  registry?: Set<() => void>;
}

export function watchOptions(q: URLSearchParams, namespace: string | undefined, name: string | undefined): WatchOptions {
  const fields = [q.get('fieldSelector') ?? '', name ? `metadata.name=${name}` : ''].filter(Boolean).join(',');
  return {
    namespace,
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: fields || undefined,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    allowWatchBookmarks: truthy(q.get('allowWatchBookmarks')),
  };
}

export function serveWatch(req: IncomingMessage, res: ServerResponse, w: WatchRequest): void {
  const opts = watchOptions(w.query, w.namespace, w.name);
  const timeoutSeconds = intParam(w.query, 'timeoutSeconds') ?? DEFAULT_WATCH_SECONDS;
  const table = w.negotiated.encoding === 'table';
  let handle: ServerWatch | undefined;
  let ended = false;
  let timer: NodeJS.Timeout | undefined;

  const end = () => {
    if (ended) return;
    ended = true;
    if (timer) clearTimeout(timer);
    handle?.close();
    w.registry?.delete(end);
    if (!res.writableEnded) res.end();
  };

  const encode = (ev: ClientWatchEvent): string => {
    let object: unknown = ev.object;
    if (table && ev.type !== 'ERROR' && ev.type !== 'BOOKMARK') {
      object = toTable(w.info.kind, [ev.object], { resourceVersion: ev.object.metadata?.resourceVersion }, w.negotiated.includeObject);
    }
    return `{"type":"${ev.type}","object":${JSON.stringify(object)}}\n`;
  };

  let ready = false;
  const pending: ClientWatchEvent[] = [];
  const sink = (ev: ClientWatchEvent) => {
    if (ended) return;
    if (!ready) {
      pending.push(ev); // an event (a 410 ERROR) can come before the headers are out
      return;
    }
    res.write(encode(ev));
    if (ev.type === 'ERROR') end();
    else if (res.writableLength > MAX_BUFFERED_BYTES) end();
  };

  try {
    handle = w.api.watch({ apiVersion: apiVersionOf(w.info), kind: w.info.kind, namespace: w.namespace }, opts, sink);
  } catch (e) {
    sendError(res, e);
    return;
  }
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  req.socket.setNoDelay(true);
  ready = true;
  for (const ev of pending.splice(0)) sink(ev);
  if (ended) return;
  w.registry?.add(end);
  if (timeoutSeconds > 0) timer = setTimeout(end, timeoutSeconds * 1000);
  req.on('close', end);
  res.on('close', end);
}

/** The ERROR event a watch stream carries for a failure after it started. */
export function errorEvent(status: KubeObject | object): string {
  return `{"type":"ERROR","object":${JSON.stringify(status)}}\n`;
}
