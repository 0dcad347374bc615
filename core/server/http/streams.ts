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
 * SPDY (kubectl's fallback, and what kubectl 1.30+ tunnels port-forward through, subprotocol
 * `SPDY/3.1+portforward.k8s.io`) is not served: such requests get 400 with an explanation.
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
  if (!isWebSocketUpgrade(req)) {
    throw badRequest(`${String(req.headers.upgrade ?? 'this')} upgrade is not supported by Wheelhouse: pods/${sub} is served over WebSocket (channel.k8s.io); SPDY is not implemented`);
  }
  const q = url.searchParams;
  const pod = await ctx.api.get({ apiVersion: 'v1', kind: 'Pod', namespace: ri.namespace, name: ri.name });
  if (sub === 'portforward') {
    const protocol = pickProtocol(req, PORTFORWARD_PROTOCOLS);
    if (!protocol) throw badRequest('port-forward over WebSocket needs a channel.k8s.io subprotocol (SPDY and SPDY-over-WebSocket tunneling are not implemented)');
    const ports = q.getAll('ports').flatMap((p) => p.split(',')).map((p) => Number(p.trim()));
    if (!ports.length || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw badRequest('query parameter "ports" must name at least one port (1-65535)');
    await streamablePod(ctx, ri.namespace, ri.name);
    return servePortForward(ctx, acceptWebSocket(req, socket, head, protocol), ri.namespace, ri.name, ports);
  }
  const protocol = pickProtocol(req, EXEC_PROTOCOLS);
  if (!protocol) throw badRequest('exec/attach need the v5.channel.k8s.io or v4.channel.k8s.io WebSocket subprotocol');
  const container = resolveContainer(pod, q.get('container'));
  const command = q.getAll('command');
  if (sub === 'exec' && !command.length) throw badRequest('you must specify at least 1 command');
  await streamablePod(ctx, ri.namespace, ri.name);
  const opts = { tty: truthy(q.get('tty')), stdin: truthy(q.get('stdin')), stdout: q.get('stdout') === null || truthy(q.get('stdout')), stderr: truthy(q.get('stderr')) };
  const io = ctx.podIO!;
  if (sub === 'attach' && !io.attach) throw new ApiError('ServiceUnavailable', 'attach is not supported by this node agent');
  const session = sub === 'exec' ? await io.exec(ri.namespace, ri.name, container, command, opts) : await io.attach!(ri.namespace, ri.name, container, opts);
  serveExec(ctx, acceptWebSocket(req, socket, head, protocol), session, command);
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
