/**
 * Port-forward for the desktop: a TCP listener on 127.0.0.1 (an OS-chosen port) that proxies each
 * connection to the pod's IP and port. The pod IP is looked up again for every connection (a
 * recreated sandbox gets a new IP); a deleted pod closes the forward (`portForward.closed`).
 * A forward to a Service sends each connection to one of its ready endpoints, round robin, read
 * afresh from its Endpoints — so it survives pod restarts and rollouts, unlike `kubectl
 * port-forward svc/…`, which pins one pod; deleting the Service closes it.
 *
 * How the pod is reached: directly, over the Docker bridge network the pods are attached to —
 * on Linux the host routes to the bridge's subnet, so `connect(podIP, port)` works. Docker
 * Desktop (macOS, Windows) runs the engine in a VM whose bridge the host cannot reach; there the
 * same listener will have to proxy through the runtime (a `docker exec`-based relay, or a helper
 * container publishing the port) — not built yet, so `portForward.open` says so there.
 *
 * Forwards belong to the host, not to a window: a reloaded renderer lists them again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { isApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import type { Client, WatchHandle } from '../client/client.ts';
import { DesktopError, type DesktopEvents, type PortForwardInfo } from '../desktop-api.ts';
import { log } from '../log.ts';
import type { HandlerMap } from './handler-types.ts';
import { newId } from './ids.ts';
import { readyBackends } from '../network/proxy/model.ts';

const MAX_FORWARDS = 32;

interface Forward {
  info: PortForwardInfo;
  server: Server;
  sockets: Set<Socket>;
  watch?: WatchHandle;
}

export function portForwardSupported(): boolean {
  return process.platform === 'linux' || process.env.WHEELHOUSE_PORT_FORWARD === 'direct';
}

export class PortForwards {
  private readonly forwards = new Map<string, Forward>();

  constructor(
    private readonly client: Client,
    private readonly emit: (event: 'portForward.closed', payload: DesktopEvents['portForward.closed']) => void,
  ) {}

  list(): PortForwardInfo[] {
    return [...this.forwards.values()].map((f) => ({ ...f.info }));
  }

  async open(namespace: string, target: { pod?: string; service?: string }, port: number): Promise<PortForwardInfo> {
    if (!portForwardSupported()) {
      throw new DesktopError('Unavailable', `port-forward reaches pods over the Docker bridge, which this system (${process.platform}) cannot route to; not supported here yet`);
    }
    const { pod, service } = target;
    if (!pod === !service) throw new DesktopError('BadRequest', 'portForward.open: give exactly one of pod and service');
    for (const f of this.forwards.values()) {
      if (f.info.namespace === namespace && f.info.pod === pod && f.info.service === service && f.info.port === port) return { ...f.info };
    }
    if (this.forwards.size >= MAX_FORWARDS) throw new DesktopError('TooManyRequests', `at most ${MAX_FORWARDS} port-forwards at once; close some first`);
    // Fail now, not at the first connection.
    if (pod) await this.podAddress(namespace, pod);
    else await this.servicePort(namespace, service!, port); // endpoints may come later
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
    });
    const address = server.address();
    const localPort = typeof address === 'object' && address ? address.port : 0;
    const id = newId('pf');
    const f: Forward = {
      info: { id, namespace, ...(pod ? { pod } : { service }), port, localPort, url: `http://127.0.0.1:${localPort}/`, connections: 0 },
      server,
      sockets: new Set(),
    };
    server.on('connection', (sock) => this.proxy(f, sock));
    server.on('error', (e) => log.warn('port-forward listener failed', { id, error: e.message }));
    const kind = pod ? 'Pod' : 'Service';
    const name = (pod ?? service)!;
    f.watch = this.client.watch({ apiVersion: 'v1', kind }, { namespace, fieldSelector: `metadata.name=${name}` }, (ev) => {
      if (ev.type === 'DELETED') void this.close(id, `${kind === 'Pod' ? 'pod' : 'service'} ${namespace}/${name} was deleted`);
    });
    this.forwards.set(id, f);
    log.info('port-forward opened', { namespace, ...(pod ? { pod } : { service }), port, localPort });
    return { ...f.info };
  }

  async close(id: string, reason = 'closed'): Promise<boolean> {
    const f = this.forwards.get(id);
    if (!f) return false;
    this.forwards.delete(id);
    f.watch?.close();
    for (const s of f.sockets) s.destroy();
    await new Promise<void>((resolve) => f.server.close(() => resolve()));
    this.emit('portForward.closed', { id, reason });
    return true;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.forwards.keys()].map((id) => this.close(id, 'shutting down')));
  }

  private async podAddress(namespace: string, pod: string): Promise<string> {
    let p: KubeObject;
    try {
      p = await this.client.get<KubeObject>({ apiVersion: 'v1', kind: 'Pod', namespace, name: pod });
    } catch (e) {
      if (isApiError(e, 'NotFound')) throw new DesktopError('NotFound', `pod ${namespace}/${pod} not found`);
      throw e;
    }
    const ip = p.status?.podIP as string | undefined;
    if (p.status?.phase !== 'Running' || !ip) throw new DesktopError('BadRequest', `pod ${namespace}/${pod} is not running (${p.status?.phase ?? 'Pending'}): nothing to forward to yet`);
    return ip;
  }

  /** The Service and its TCP port `port`, or a clear error. */
  private async servicePort(namespace: string, name: string, port: number): Promise<any> {
    let svc: KubeObject;
    try {
      svc = await this.client.get<KubeObject>({ apiVersion: 'v1', kind: 'Service', namespace, name });
    } catch (e) {
      if (isApiError(e, 'NotFound')) throw new DesktopError('NotFound', `service ${namespace}/${name} not found`);
      throw e;
    }
    const sp = (svc.spec?.ports ?? []).find((p: any) => p.port === port && (p.protocol ?? 'TCP') === 'TCP');
    if (!sp) {
      const ports = (svc.spec?.ports ?? []).map((p: any) => `${p.port}/${p.protocol ?? 'TCP'}`).join(', ');
      throw new DesktopError('BadRequest', `service ${namespace}/${name} has no TCP port ${port} (its ports: ${ports || 'none'})`);
    }
    return sp;
  }

  /** A ready endpoint of the Service's port, round robin, read afresh from its Endpoints. */
  private async serviceBackend(namespace: string, name: string, port: number): Promise<{ ip: string; port: number }> {
    const sp = await this.servicePort(namespace, name, port);
    const ep = await this.client.get<KubeObject>({ apiVersion: 'v1', kind: 'Endpoints', namespace, name }).catch(() => undefined);
    const backends = ep ? readyBackends(ep, sp.name ?? '', 'TCP') : [];
    if (!backends.length) throw new DesktopError('Unavailable', `service ${namespace}/${name} has no ready endpoints`);
    return backends[this.rr++ % backends.length]!;
  }

  private rr = 0;

  private target(f: Forward): Promise<{ ip: string; port: number }> {
    if (f.info.pod) return this.podAddress(f.info.namespace, f.info.pod).then((ip) => ({ ip, port: f.info.port }));
    return this.serviceBackend(f.info.namespace, f.info.service!, f.info.port);
  }

  private proxy(f: Forward, client: Socket): void {
    f.info.connections++;
    f.sockets.add(client);
    client.pause();
    client.on('close', () => f.sockets.delete(client));
    client.on('error', () => client.destroy());
    this.target(f).then(
      ({ ip, port }) => {
        const upstream = connect({ host: ip, port });
        f.sockets.add(upstream);
        upstream.on('close', () => {
          f.sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', (e) => {
          log.debug('port-forward upstream failed', { pod: f.info.pod, service: f.info.service, port: f.info.port, error: e.message });
          client.destroy();
        });
        client.on('close', () => upstream.destroy());
        upstream.on('connect', () => {
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
        });
      },
      (e: Error) => {
        log.debug('port-forward: target unreachable', { pod: f.info.pod, service: f.info.service, error: e.message });
        client.destroy();
      },
    );
  }
}

export const portForwardHandlers: HandlerMap<'portForward.open' | 'portForward.close' | 'portForward.list'> = {
  async 'portForward.open'(s, a) {
    return s.host.portForwards.open(a.namespace, { pod: a.pod, service: a.service }, a.port);
  },
  async 'portForward.close'(s, a) {
    if (!(await s.host.portForwards.close(a.id))) throw new DesktopError('NotFound', `port-forward ${a.id} is not open`);
    return null;
  },
  async 'portForward.list'(s) {
    return s.host.portForwards.list();
  },
};
