/**
 * The streaming pod subresources over HTTP:
 *
 *  - pods/log: a chunked text/plain response (`kubectl logs [-f]`);
 *  - pods/exec and pods/attach: WebSocket with `v5.channel.k8s.io` (or v4): each binary message
 *    starts with a channel byte — 0 stdin, 1 stdout, 2 stderr, 3 error (the final Status,
 *    NonZeroExitCode with the exit code), 4 resize ({"Width","Height"}), 255 close (v5: the
 *    client's stdin EOF). This is what kubectl ≥ 1.29 speaks first;
 *  - pods/portforward: WebSocket with the channel protocol (`?ports=8080,…`; channel 2i carries
 *    port i's data, 2i+1 its errors, each channel's first frame is the port, little-endian).
 *
 * SPDY/3.1 is served too (spdy.ts): exec/attach for kubectl ≤ 1.29 (`Upgrade: SPDY/3.1`), and
 * port-forward, directly or tunneled in a WebSocket (`SPDY/3.1+portforward.k8s.io`, kubectl ≥ 1.30).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, badRequest } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { HttpContext } from './context.ts';
import { identify } from './handler.ts';
import { forbidden } from './rbac.ts';
import { intParam, sendError, toApiError } from './respond.ts';
import { parseRequest, truthy } from './router.ts';
import { acceptWebSocket, isWebSocketUpgrade, pickProtocol, rejectUpgrade, type WsConnection } from './websocket.ts';
import { servePortForward } from './port-forward.ts';
import { SpdyConnection } from './spdy.ts';
import { serveExecSpdy, servePortForwardSpdy } from './spdy-streams.ts';

const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
export const PORTFORWARD_PROTOCOLS = ['v4.channel.k8s.io', 'v5.channel.k8s.io', 'channel.k8s.io', 'portforward.k8s.io'];

function containerNames(pod: KubeObject): { main: string[]; init: string[]; ephemeral: string[] } {
  const names = (l: any[] | undefined) => (l ?? []).map((c) => c.name as string);
  return { main: names(pod.spec?.containers), init: names(pod.spec?.initContainers), ephemeral: names(pod.spec?.ephemeralContainers) };
}

/** The container a request names, or the pod's only one (400 as kube-apiserver words it otherwise). */
export function resolveContainer(pod: KubeObject, requested: string | null | undefined): string {
  const n = containerNames(pod);
  const name = pod.metadata.name;
  if (requested) {
    if ([...n.main, ...n.init, ...n.ephemeral].includes(requested)) return requested;
    throw badRequest(`container ${requested} is not valid for pod ${name}`);
  }
  if (n.main.length === 1) return n.main[0]!;
  const defaulted = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (defaulted && n.main.includes(defaulted)) return defaulted;
  let msg = `a container name must be specified for pod ${name}, choose one of: [${n.main.join(' ')}]`;
  if (n.init.length) msg += ` or one of the init containers: [${n.init.join(' ')}]`;
  throw badRequest(msg);
}

async function streamablePod(ctx: HttpContext, ns: string, name: string): Promise<KubeObject> {
  const pod = await ctx.api.get({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name });
  if (!pod.spec?.nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
  if (!ctx.podIO) throw new ApiError('ServiceUnavailable', `no node agent serves pod streams in this cluster (pod ${ns}/${name})`);
  return pod;
}

export async function servePodLogs(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, ns: string, name: string, q: URLSearchParams): Promise<void> {
  const pod = await ctx.api.get({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name });
  const container = resolveContainer(pod, q.get('container'));
  await streamablePod(ctx, ns, name);
  const it = ctx.podIO!.logs(ns, name, {
    container,
    follow: truthy(q.get('follow')),
    tailLines: intParam(q, 'tailLines'),
    sinceSeconds: intParam(q, 'sinceSeconds'),
    sinceTime: q.get('sinceTime') ?? undefined,
    timestamps: truthy(q.get('timestamps')),
    previous: truthy(q.get('previous')),
    limitBytes: intParam(q, 'limitBytes'),
  })[Symbol.asyncIterator]();
  let closed = false;
  const stop = () => {
    closed = true;
    void it.return?.();
  };
  req.on('close', stop);
  ctx.streams.add(stop);
  try {
    let first = true;
    for (;;) {
      const r = await it.next();
      if (first) {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
        res.flushHeaders();
        first = false;
      }
      if (r.done || closed) break;
      res.write(r.value);
    }
    res.end();
  } catch (e) {
    if (!res.headersSent) sendError(res, e);
    else res.end();
  } finally {
    ctx.streams.delete(stop);
  }
}

/** The `upgrade` event handler: exec, attach and port-forward over WebSocket. */
export function createUpgradeHandler(ctx: HttpContext): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    upgrade(ctx, req, socket, head).catch((e) => {
      const err = toApiError(e);
      rejectUpgrade(socket, err.code, err.status);
    });
  };
}

async function upgrade(ctx: HttpContext, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://wheelhouse');
  const ri = parseRequest('POST', url.pathname, url.searchParams);
  const sub = ri.subresource;
  if (!ri.isResource || ri.apiGroup !== '' || ri.resource !== 'pods' || !['exec', 'attach', 'portforward'].includes(sub) || !ri.name) {
    throw new ApiError('NotFound', 'the server could not find the requested resource');
  }
  const user = await identify(ctx, req);
  const attrs = { user, verb: 'create', isResource: true, apiGroup: '', resource: 'pods', subresource: sub, namespace: ri.namespace, name: ri.name };
  if (!ctx.rbac.allowed(attrs)) throw forbidden(attrs);
  const ws = isWebSocketUpgrade(req);
  const spdy = String(req.headers.upgrade ?? '').toLowerCase() === 'spdy/3.1';
  if (!ws && !spdy) throw badRequest(`${String(req.headers.upgrade ?? 'this')} upgrade is not supported: use WebSocket or SPDY/3.1`);
  const spdyVersions = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((v) => v.trim());
  const q = url.searchParams;
  const pod = await ctx.api.get({ apiVersion: 'v1', kind: 'Pod', namespace: ri.namespace, name: ri.name });
  if (sub === 'portforward') {
    await streamablePod(ctx, ri.namespace, ri.name);
    if (spdy) {
      if (!spdyVersions.includes('portforward.k8s.io')) throw badRequest('port-forward over SPDY needs X-Stream-Protocol-Version: portforward.k8s.io');
      return servePortForwardSpdy(ctx, acceptSpdy(req, socket, head, 'portforward.k8s.io'), ri.namespace, ri.name);
    }
    if (pickProtocol(req, [SPDY_TUNNEL])) return servePortForwardSpdy(ctx, tunnelSpdy(acceptWebSocket(req, socket, head, SPDY_TUNNEL)), ri.namespace, ri.name);
    const protocol = pickProtocol(req, PORTFORWARD_PROTOCOLS);
    if (!protocol) throw badRequest(`port-forward over WebSocket needs the ${SPDY_TUNNEL} or a channel.k8s.io subprotocol`);
    const ports = q.getAll('ports').flatMap((p) => p.split(',')).map((p) => Number(p.trim()));
    if (!ports.length || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw badRequest('query parameter "ports" must name at least one port (1-65535)');
    return servePortForward(ctx, acceptWebSocket(req, socket, head, protocol), ri.namespace, ri.name, ports);
  }
  const protocol = ws ? pickProtocol(req, EXEC_PROTOCOLS) : spdyVersions.includes('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : undefined;
  if (!protocol) throw badRequest('exec/attach need the v5.channel.k8s.io or v4.channel.k8s.io (WebSocket) or v4.channel.k8s.io (SPDY) protocol');
  const container = resolveContainer(pod, q.get('container'));
  const command = q.getAll('command');
  if (sub === 'exec' && !command.length) throw badRequest('you must specify at least 1 command');
  await streamablePod(ctx, ri.namespace, ri.name);
  const opts = { tty: truthy(q.get('tty')), stdin: truthy(q.get('stdin')), stdout: q.get('stdout') === null || truthy(q.get('stdout')), stderr: truthy(q.get('stderr')) };
  const io = ctx.podIO!;
  if (sub === 'attach' && !io.attach) throw new ApiError('ServiceUnavailable', 'attach is not supported by this node agent');
  const start = () => (sub === 'exec' ? io.exec(ri.namespace, ri.name, container, command, opts) : io.attach!(ri.namespace, ri.name, container, opts));
  if (spdy) return serveExecSpdy(ctx, acceptSpdy(req, socket, head, protocol), opts, command, start);
  serveExec(ctx, acceptWebSocket(req, socket, head, protocol), await start(), command);
}

const SPDY_TUNNEL = 'SPDY/3.1+portforward.k8s.io';

/** Completes a `Upgrade: SPDY/3.1` handshake and runs SPDY on the socket. */
function acceptSpdy(_req: IncomingMessage, socket: Duplex, head: Buffer, version: string): SpdyConnection {
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${version}\r\n\r\n`);
  (socket as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  const conn = new SpdyConnection((b) => socket.write(b));
  socket.on('data', (d: Buffer) => conn.feed(d));
  socket.on('close', () => conn.close());
  conn.onClose(() => socket.destroy());
  if (head.length) conn.feed(head);
  return conn;
}

/** SPDY carried in a WebSocket's binary messages (kubectl ≥ 1.30 port-forward). */
function tunnelSpdy(ws: WsConnection): SpdyConnection {
  const conn = new SpdyConnection((b) => ws.send(b));
  ws.onMessage((d) => conn.feed(d));
  ws.onClose(() => conn.close());
  conn.onClose(() => ws.close(1000));
  return conn;
}

function serveExec(ctx: HttpContext, ws: WsConnection, session: Awaited<ReturnType<NonNullable<HttpContext['podIO']>['exec']>>, command: string[]): void {
  const channel = (id: number, data: Buffer | string) => ws.send(Buffer.concat([Buffer.from([id]), typeof data === 'string' ? Buffer.from(data) : data]));
  const ended = (s: NodeJS.ReadableStream | undefined) => (s ? new Promise<void>((r) => { s.once('end', r); s.once('close', r); s.once('error', () => r()); }) : Promise.resolve());
  session.stdout?.on('data', (d: Buffer) => channel(1, d));
  session.stderr?.on('data', (d: Buffer) => channel(2, d));
  const outputs = Promise.all([ended(session.stdout), ended(session.stderr)]);
  ws.onMessage((data) => {
    if (!data.length) return;
    const id = data[0]!;
    const rest = data.subarray(1);
    if (id === 0) session.stdin?.write(rest);
    else if (id === 4) {
      try {
        const size = JSON.parse(rest.toString('utf8'));
        session.resize?.({ width: Number(size.Width ?? size.width), height: Number(size.Height ?? size.height) });
      } catch {
        /* a malformed resize is ignored */
      }
    } else if (id === 255 && rest[0] === 0) session.stdin?.end();
  });
  const stop = () => {
    session.close();
    ws.close(1000);
  };
  ctx.streams.add(stop);
  ws.onClose(() => {
    ctx.streams.delete(stop);
    session.close();
  });
  session.exit
    .then(async (code) => {
      await Promise.race([outputs, new Promise((r) => setTimeout(r, 1000))]);
      const status =
        code === 0
          ? { metadata: {}, status: 'Success' }
          : {
              metadata: {},
              status: 'Failure',
              message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
              reason: 'NonZeroExitCode',
              details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
            };
      channel(3, JSON.stringify(status));
    })
    .catch((e) => channel(3, JSON.stringify({ metadata: {}, status: 'Failure', message: toApiError(e).message, reason: 'InternalError' })))
    .finally(() => {
      ctx.streams.delete(stop);
      ws.close(1000);
    });
}
