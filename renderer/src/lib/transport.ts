/**
 * How the renderer reaches the main process — the same contract two ways:
 *  - Electron: the preload's `window.wheelhouse` bridge (contextBridge; one function per call);
 *  - browser mode: a WebSocket to `/wheelhouse/ws?token=…` (the token from the page's URL),
 *    reconnecting with backoff when the server goes away (watches are reopened by their owners
 *    through `onReconnect`).
 * Both resolve a call to its result or reject with a DesktopError rebuilt from the envelope.
 */
import {
  DesktopError, WS_PATH, isErrorEnvelope, type CallName, type CallOutcome, type EventName, type WsServerMessage,
} from '../../../core/desktop-api.ts';

export interface Transport {
  readonly kind: 'electron' | 'browser';
  call(name: CallName, args: unknown): Promise<unknown>;
  on(event: EventName, listener: (payload: unknown) => void): () => void;
  /** Called after a lost connection came back (browser mode): reopen watches and streams. */
  onReconnect(cb: () => void): () => void;
  onStatus(cb: (connected: boolean) => void): () => void;
}

function unwrap(outcome: CallOutcome<unknown>): unknown {
  if (isErrorEnvelope(outcome)) throw DesktopError.fromEnvelope(outcome);
  return (outcome as { result: unknown }).result;
}

export function electronTransport(): Transport {
  const bridge = window.wheelhouse!;
  return {
    kind: 'electron',
    async call(name, args) {
      const fn = bridge.calls[name] as (a: unknown) => Promise<CallOutcome<unknown>>;
      if (!fn) throw new DesktopError('BadRequest', `unknown call ${name}`);
      return unwrap(await fn(args));
    },
    on: (event, listener) => bridge.on(event, listener as never),
    onReconnect: () => () => {},
    onStatus: (cb) => {
      cb(true);
      return () => {};
    },
  };
}

export function webSocketTransport(token: string): Transport {
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const reconnects = new Set<() => void>();
  const statuses = new Set<(c: boolean) => void>();
  let nextId = 1;
  let ws: WebSocket | undefined;
  let open: Promise<WebSocket> | undefined;
  let everConnected = false;
  let retryMs = 250;

  const url = () => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}${WS_PATH}?token=${encodeURIComponent(token)}`;
  };

  const connect = (): Promise<WebSocket> => {
    open ??= new Promise<WebSocket>((resolve) => {
      const sock = new WebSocket(url());
      sock.onopen = () => {
        ws = sock;
        retryMs = 250;
        const again = everConnected;
        everConnected = true;
        for (const s of statuses) s(true);
        resolve(sock);
        if (again) for (const r of reconnects) r();
      };
      sock.onmessage = (ev) => {
        let m: WsServerMessage;
        try {
          m = JSON.parse(String(ev.data));
        } catch {
          return;
        }
        if ('event' in m) {
          for (const l of listeners.get(m.event) ?? []) {
            try {
              l(m.payload);
            } catch (e) {
              console.error(`listener of ${m.event} failed`, e);
            }
          }
          return;
        }
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if (isErrorEnvelope(m)) p.reject(DesktopError.fromEnvelope(m));
        else p.resolve((m as { result: unknown }).result);
      };
      sock.onclose = () => {
        if (ws === sock) ws = undefined;
        open = undefined;
        for (const s of statuses) s(false);
        for (const [id, p] of pending) {
          pending.delete(id);
          p.reject(new DesktopError('Unavailable', 'the connection to Wheelhouse was lost'));
        }
        setTimeout(() => void connect(), retryMs);
        retryMs = Math.min(retryMs * 2, 5_000);
      };
    });
    return open;
  };
  void connect();

  return {
    kind: 'browser',
    async call(name, args) {
      const sock = ws ?? (await connect());
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        sock.send(JSON.stringify({ id, call: name, args }));
      });
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
    onReconnect(cb) {
      reconnects.add(cb);
      return () => reconnects.delete(cb);
    },
    onStatus(cb) {
      statuses.add(cb);
      cb(!!ws);
      return () => statuses.delete(cb);
    },
  };
}

/** The page's access token (browser mode), kept for reloads of the same tab. */
export function pageToken(): string {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) {
    sessionStorage.setItem('wheelhouse.token', fromUrl);
    return fromUrl;
  }
  return sessionStorage.getItem('wheelhouse.token') ?? '';
}

export function createTransport(): Transport {
  return window.wheelhouse ? electronTransport() : webSocketTransport(pageToken());
}
