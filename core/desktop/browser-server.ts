/**
 * Browser mode: the built UI (renderer/dist) and the desktop contract over a WebSocket, for
 * `wheelhouse serve` (which shares one 127.0.0.1 port with the Kubernetes API: requests this
 * server does not claim are left to the next handler).
 *
 *   const ui = createDesktopServer(cluster, { token, staticDir: 'renderer/dist' });
 *   http.on('request', (req, res) => ui.handleRequest(req, res) || kubeApi(req, res));
 *   http.on('upgrade', (req, sock, head) => ui.handleUpgrade(req, sock, head) || kubeApiUpgrade(req, sock, head));
 *   console.log(`http://127.0.0.1:${port}/?token=${token}`);
 *
 * Claimed: `GET /` from a browser (Accept: text/html, or with `?token=`) and `/index.html` (the
 * app; the `?token=` must match), `/assets/…` and a few
 * root files of the build (no secrets in them), and the WebSocket at `/wheelhouse/ws?token=…`.
 * The WebSocket also refuses another site's pages (the Origin must be this server). Messages:
 * `{ id, call, args }` → `{ id, result }` or `{ id, error: { reason, message, details } }`, and
 * pushed `{ event, payload }` (state batched per session: ≤ 4 UI updates a second).
 */
import { timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Cluster } from '../cluster.ts';
import { DesktopError, WS_PATH, type WsServerMessage } from '../desktop-api.ts';
import { log } from '../log.ts';
import { DesktopHost, type DesktopHostOptions } from './host.ts';

export interface DesktopServerOptions {
  /** Required in `?token=` on the page and on the WebSocket. At least 16 characters. */
  token: string;
  /** The built renderer (renderer/dist). */
  staticDir: string;
  /** Host options (batch interval …); mode is `browser`. */
  host?: Omit<DesktopHostOptions, 'mode'>;
  /** Largest message a renderer may send (default 32 MiB: an import of several large files). */
  maxPayloadBytes?: number;
}

export interface DesktopServer {
  /** Serves the request when it is the UI's; false: not ours (pass it on). */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** Takes the upgrade when it is the UI's WebSocket; false: not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): Promise<void>;
  readonly host: DesktopHost;
  /** Open WebSocket connections. */
  readonly connections: number;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** The app's Content-Security-Policy (also set by the Electron shell). */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

function tokenMatches(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createDesktopServer(cluster: Cluster, opts: DesktopServerOptions): DesktopServer {
  if (typeof opts.token !== 'string' || opts.token.length < 16) throw new Error('createDesktopServer: the token must be at least 16 characters');
  const staticDir = resolve(opts.staticDir);
  const host = new DesktopHost(cluster, { ...(opts.host ?? {}), mode: 'browser' });
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayloadBytes ?? 32 * 1024 * 1024, perMessageDeflate: false });
  const sockets = new Set<WebSocket>();

  const page = (res: ServerResponse, code: number, title: string, text: string) => {
    res.writeHead(code, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store', ...SECURITY_HEADERS });
    res.end(`<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font:15px system-ui;margin:3em;max-width:40em"><h1>${title}</h1><p>${text}</p>`);
  };

  const sendFile = (req: IncomingMessage, res: ServerResponse, file: string, immutable: boolean) => {
    const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const body = readFileSync(file);
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': body.length,
      'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-store',
      ...(type.startsWith('text/html') ? { 'Content-Security-Policy': CSP } : {}),
      ...SECURITY_HEADERS,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  /** A file under staticDir, or undefined (no traversal out of it). */
  const staticFile = (pathname: string): string | undefined => {
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return undefined;
    }
    if (rel.includes('\0')) return undefined;
    const file = normalize(join(staticDir, rel));
    if (!file.startsWith(staticDir + sep)) return undefined;
    try {
      return statSync(file).isFile() ? file : undefined;
    } catch {
      return undefined;
    }
  };

  const rootFiles = () => {
    try {
      return new Set(
        ['favicon.svg', 'favicon.ico', 'robots.txt'].filter((f) => existsSync(join(staticDir, f))),
      );
    } catch {
      return new Set<string>();
    }
  };
  const roots = rootFiles();

  return {
    host,
    get connections() {
      return sockets.size;
    },

    handleRequest(req, res) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const p = url.pathname;
      // `GET /` is also the Kubernetes API's root (the list of paths kubectl asks for as JSON):
      // it is the app's only for a browser (Accept: text/html) or with the UI's token.
      const wantsHtml = String(req.headers.accept ?? '').includes('text/html') || url.searchParams.has('token');
      const isApp = (p === '/' && wantsHtml) || p === '/index.html';
      const isAsset = p.startsWith('/assets/') || roots.has(p.slice(1));
      if (!isApp && !isAsset && p !== WS_PATH) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
        res.end('method not allowed\n');
        return true;
      }
      if (p === WS_PATH) {
        res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
        res.end('this address takes a WebSocket\n');
        return true;
      }
      if (isApp) {
        if (!tokenMatches(url.searchParams.get('token'), opts.token)) {
          page(res, 401, 'Wheelhouse', 'This address needs its access token. Open the address <code>wheelhouse serve</code> printed (it ends in <code>?token=…</code>).');
          return true;
        }
        const index = join(staticDir, 'index.html');
        if (!existsSync(index)) {
          page(res, 503, 'Wheelhouse UI not built', `The UI has not been built (no ${index}). Run <code>bash scripts/build-ui.sh</code>, then reload.`);
          return true;
        }
        sendFile(req, res, index, false);
        return true;
      }
      const file = staticFile(p);
      if (!file) {
        res.writeHead(404, { 'Content-Type': 'text/plain', ...SECURITY_HEADERS });
        res.end('not found\n');
        return true;
      }
      sendFile(req, res, file, p.startsWith('/assets/'));
      return true;
    },

    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== WS_PATH) return false;
      const refuse = (code: number, text: string) => {
        socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length + 1}\r\n\r\n${text}\n`);
      };
      if (!tokenMatches(url.searchParams.get('token'), opts.token)) {
        refuse(401, 'Unauthorized');
        return true;
      }
      const origin = req.headers.origin;
      if (origin && origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`) {
        refuse(403, 'Forbidden');
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws));
      return true;
    },

    async close() {
      for (const ws of sockets) ws.close(1001, 'server shutting down');
      await new Promise<void>((r) => wss.close(() => r()));
      for (const ws of sockets) ws.terminate();
      await host.close();
    },
  };

  function serveSocket(ws: WebSocket): void {
    sockets.add(ws);
    const send = (m: WsServerMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const session = host.openSession((event, payload) => send({ event, payload }));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return send({ id: -1, ...new DesktopError('BadRequest', 'binary messages are not part of the contract').toEnvelope() });
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return send({ id: -1, ...new DesktopError('BadRequest', 'a message must be JSON').toEnvelope() });
      }
      const m = msg as { id?: unknown; call?: unknown; args?: unknown };
      if (!msg || typeof msg !== 'object' || typeof m.id !== 'number' || !Number.isSafeInteger(m.id) || typeof m.call !== 'string') {
        return send({ id: typeof m?.id === 'number' ? m.id : -1, ...new DesktopError('BadRequest', 'a message is { id: number, call: string, args }').toEnvelope() });
      }
      const id = m.id;
      session.call(m.call, m.args).then(
        (result) => send({ id, result: result ?? null }),
        (e: DesktopError) => send({ id, ...e.toEnvelope() }),
      );
    });
    ws.on('close', () => {
      sockets.delete(ws);
      session.close();
    });
    ws.on('error', (e) => log.debug('desktop websocket error', { error: e.message }));
  }
}
