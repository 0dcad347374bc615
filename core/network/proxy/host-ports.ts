/**
 * NodePort and LoadBalancer services on the desktop: a listener per host port (TCP or UDP) on
 * 127.0.0.1 — or another address the user chose explicitly — relaying each connection (or UDP
 * flow) to a ready endpoint of the service, round robin, sticky per client IP when the service
 * asks for ClientIP affinity. This is the part of kube-proxy a desktop needs instead of exposing
 * node IPs: Docker's own port publishing works the same way (its userland proxy).
 *
 * A port another program (or another service) holds is reported, not fatal: the entry records
 * the error, the caller reports it on the Service, and binding is retried at the next sync.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { log } from '../../log.ts';
import type { Backend, Protocol, ServicePortEntry } from './model.ts';

/** Picks backends for one service port: round robin, or sticky per client with ClientIP affinity. */
export class BackendPicker {
  private next = 0;
  private readonly sticky = new Map<string, { backend: Backend; until: number }>();

  constructor(public entry: ServicePortEntry) {}

  pick(clientIP?: string): Backend | undefined {
    const eps = this.entry.endpoints;
    if (!eps.length) return undefined;
    const now = Date.now();
    const ttl = this.entry.affinitySeconds;
    if (ttl !== undefined && clientIP) {
      const s = this.sticky.get(clientIP);
      if (s && s.until > now && eps.some((b) => b.ip === s.backend.ip && b.port === s.backend.port)) {
        s.until = now + ttl * 1000;
        return s.backend;
      }
    }
    const b = eps[this.next++ % eps.length]!;
    if (ttl !== undefined && clientIP) {
      this.sticky.set(clientIP, { backend: b, until: now + ttl * 1000 });
      if (this.sticky.size > 10_000) for (const [k, v] of this.sticky) if (v.until <= now) this.sticky.delete(k);
    }
    return b;
  }
}

/**
 * How long a connection to a service port with no endpoint waits for one before it is closed.
 * kube-proxy rejects such connections at once; on the desktop a Service and its pods are often
 * created together and used the next moment, before the Endpoints have reached the proxy (a CI
 * run saw a "socket hang up" that way), so a new connection gets this short grace first.
 */
export const NO_ENDPOINTS_WAIT_MS = 1_000;

/**
 * Relay one accepted TCP connection to a backend; both ends close together. A backend that
 * refuses the connection (a pod going away before the endpoints say so) is skipped for the next
 * one, up to `attempts` — as kube-proxy's user-space mode did.
 */
export function relayTcp(client: Socket, pick: () => Backend | undefined, attempts = 3, waitForEndpointsMs = NO_ENDPOINTS_WAIT_MS): void {
  client.pause();
  client.setNoDelay(true);
  client.on('error', () => client.destroy());
  const waitUntil = Date.now() + waitForEndpointsMs;
  const tryNext = (left: number) => {
    const backend = pick();
    if (!backend && !client.destroyed && Date.now() < waitUntil) {
      // No endpoint yet: a Service created a moment ago whose Endpoints the proxy has not seen.
      setTimeout(() => tryNext(left), 25);
      return;
    }
    if (!backend || client.destroyed) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: backend.ip, port: backend.port });
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      upstream.setNoDelay(true);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', () => {
      if (!connected && left > 1 && !client.destroyed) return tryNext(left - 1);
      client.destroy();
    });
    upstream.on('close', () => {
      if (connected) client.destroy();
    });
    client.on('close', () => upstream.destroy());
  };
  tryNext(attempts);
}

interface Listener {
  key: string;
  protocol: Protocol;
  port: number;
  picker: BackendPicker;
  close(): Promise<void>;
}

export interface HostPortError {
  entryId: string;
  port: number;
  protocol: Protocol;
  /** `nodePort` or `loadBalancer`. */
  kind: 'nodePort' | 'loadBalancer';
  message: string;
}

const UDP_IDLE_MS = 30_000;

export class HostPorts {
  private readonly listeners = new Map<string, Listener>();
  private readonly errors = new Map<string, HostPortError>();

  constructor(private readonly address = '127.0.0.1') {}

  /** Bind what `entries` need, close what they no longer need; returns the ports that could not be bound. */
  async sync(entries: ServicePortEntry[]): Promise<HostPortError[]> {
    const want = new Map<string, { entry: ServicePortEntry; port: number; kind: HostPortError['kind'] }>();
    const errors: HostPortError[] = [];
    const claim = (entry: ServicePortEntry, port: number, kind: HostPortError['kind']) => {
      const key = `${entry.protocol}/${port}`;
      const holder = want.get(key);
      if (holder && holder.entry.id !== entry.id) {
        errors.push({ entryId: entry.id, port, protocol: entry.protocol, kind, message: `port ${port}/${entry.protocol} on ${this.address} is already used by service ${holder.entry.namespace}/${holder.entry.name}` });
        return;
      }
      want.set(key, { entry, port, kind });
    };
    // A port stays with the service holding it; then LoadBalancers (their port is what the user
    // asked for by number) before node ports; then the older service first.
    const claims: Array<{ e: ServicePortEntry; port: number; kind: HostPortError['kind'] }> = [];
    for (const e of entries) {
      if (e.protocol === 'SCTP') continue;
      if (e.loadBalancer) claims.push({ e, port: e.port, kind: 'loadBalancer' });
      if (e.nodePort) claims.push({ e, port: e.nodePort, kind: 'nodePort' });
    }
    const holds = (c: (typeof claims)[number]) => this.listeners.get(`${c.e.protocol}/${c.port}`)?.picker.entry.id === c.e.id;
    const rank = (c: (typeof claims)[number]) => (holds(c) ? 0 : c.kind === 'loadBalancer' ? 1 : 2);
    claims.sort((a, b) => rank(a) - rank(b) || (a.e.createdAt ?? '').localeCompare(b.e.createdAt ?? '') || (a.e.id < b.e.id ? -1 : 1));
    for (const c of claims) claim(c.e, c.port, c.kind);

    for (const [key, l] of this.listeners) {
      const w = want.get(key);
      if (!w || w.entry.id !== l.picker.entry.id) {
        this.listeners.delete(key);
        await l.close();
      }
    }
    for (const [key, w] of want) {
      const existing = this.listeners.get(key);
      if (existing) {
        existing.picker.entry = w.entry;
        continue;
      }
      try {
        this.listeners.set(key, await this.listen(key, w.entry, w.port));
        this.errors.delete(key);
      } catch (e) {
        const message = `cannot listen on ${this.address}:${w.port}/${w.entry.protocol}: ${(e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the port is in use by another program' : (e as Error).message}`;
        const err: HostPortError = { entryId: w.entry.id, port: w.port, protocol: w.entry.protocol, kind: w.kind, message };
        if (this.errors.get(key)?.message !== message) log.warn('service port not bound', { service: w.entry.id, port: w.port, error: message });
        this.errors.set(key, err);
        errors.push(err);
      }
    }
    for (const key of this.errors.keys()) if (!want.has(key)) this.errors.delete(key);
    return errors;
  }

  /** The host ports currently bound (`TCP/30080`, …). */
  bound(): string[] {
    return [...this.listeners.keys()].sort();
  }

  async close(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map((l) => l.close()));
  }

  private listen(key: string, entry: ServicePortEntry, port: number): Promise<Listener> {
    const picker = new BackendPicker(entry);
    return entry.protocol === 'UDP' ? this.listenUdp(key, picker, port) : this.listenTcp(key, picker, port);
  }

  private listenTcp(key: string, picker: BackendPicker, port: number): Promise<Listener> {
    const sockets = new Set<Socket>();
    const server: Server = createServer((sock) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      relayTcp(sock, () => picker.pick(sock.remoteAddress));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.address, port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (e) => log.warn('service listener error', { port, error: e.message }));
        resolve({
          key,
          protocol: 'TCP',
          port,
          picker,
          close: () =>
            new Promise<void>((res) => {
              for (const s of sockets) s.destroy();
              server.close(() => res());
            }),
        });
      });
    });
  }

  private listenUdp(key: string, picker: BackendPicker, port: number): Promise<Listener> {
    const sock = createSocket({ type: 'udp4' });
    // One upstream socket per client address:port, so replies find their way back.
    const flows = new Map<string, { up: UdpSocket; backend: Backend; timer: NodeJS.Timeout }>();
    const endFlow = (id: string) => {
      const f = flows.get(id);
      if (!f) return;
      flows.delete(id);
      clearTimeout(f.timer);
      f.up.close();
    };
    sock.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      const id = `${rinfo.address}:${rinfo.port}`;
      let flow = flows.get(id);
      if (!flow) {
        const backend = picker.pick(rinfo.address);
        if (!backend) return;
        const up = createSocket({ type: 'udp4' });
        up.on('message', (reply, from) => {
          if (from.address !== backend.ip || from.port !== backend.port) return;
          sock.send(reply, rinfo.port, rinfo.address);
          flows.get(id)?.timer.refresh();
        });
        up.on('error', () => endFlow(id));
        flow = { up, backend, timer: setTimeout(() => endFlow(id), UDP_IDLE_MS) };
        flows.set(id, flow);
      }
      flow.timer.refresh();
      flow.up.send(msg, flow.backend.port, flow.backend.ip);
    });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: this.address, port, exclusive: true }, () => {
        sock.off('error', reject);
        sock.on('error', (e) => log.warn('service listener error', { port, error: e.message }));
        resolve({
          key,
          protocol: 'UDP',
          port,
          picker,
          close: async () => {
            for (const id of [...flows.keys()]) endFlow(id);
            await new Promise<void>((res) => sock.close(() => res()));
          },
        });
      });
    });
  }
}
