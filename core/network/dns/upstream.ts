/**
 * Forwarding to upstream resolvers, for names outside the cluster zone: the client's query bytes
 * go out as they came (same id, same EDNS options) over a fresh connected UDP socket per query
 * (a random source port; ICMP "port unreachable" surfaces at once as ECONNREFUSED), and over TCP
 * when the client asked over TCP and the UDP answer came back truncated. Upstreams are tried in
 * order, sharing one deadline; the caller turns a failure into SERVFAIL.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';

export interface Upstream {
  host: string;
  port: number;
}

/** `1.1.1.1`, `1.1.1.1:5353`, `::1`, `[::1]:5353`. */
export function parseUpstream(spec: string): Upstream {
  const s = spec.trim();
  let host = s;
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if (s.split(':').length === 2) {
    [host, port] = [s.split(':')[0]!, Number(s.split(':')[1])];
  }
  if (!net.isIP(host) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`invalid DNS upstream "${spec}" (expected an IP address, optionally with :port)`);
  }
  return { host, port };
}

/** The `nameserver` lines of resolv.conf (none when it cannot be read). */
export function systemUpstreams(path = '/etc/resolv.conf'): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    // Drop a zone index (fe80::1%eth0): node's sockets want it, but it is rare and host-specific.
    if (m && net.isIP(m[1]!.split('%')[0]!)) out.push(m[1]!.split('%')[0]!);
  }
  return out;
}

export interface ForwardOptions {
  /** The whole budget across upstreams. */
  timeoutMs: number;
  /** The client asked over TCP: retry a truncated UDP answer over TCP. */
  tcp: boolean;
}

/** Send `query` to the upstreams in turn; resolves with the first answer carrying the query's id. */
export async function forward(upstreams: Upstream[], query: Buffer, opts: ForwardOptions): Promise<Buffer> {
  if (!upstreams.length) throw new Error('no upstream DNS servers configured');
  const deadline = Date.now() + opts.timeoutMs;
  const failures: string[] = [];
  for (let i = 0; i < upstreams.length; i++) {
    const u = upstreams[i]!;
    const budget = Math.max(1, Math.floor((deadline - Date.now()) / (upstreams.length - i)));
    try {
      const reply = await exchangeUdp(u, query, budget);
      const truncated = (reply[2]! & 0x02) !== 0;
      if (!truncated || !opts.tcp) return reply;
      return await exchangeTcp(u, query, Math.max(1, deadline - Date.now()));
    } catch (e) {
      failures.push(`${label(u)}: ${(e as Error).message}`);
    }
  }
  throw new Error(`upstream DNS failed (${failures.join('; ')})`);
}

function label(u: Upstream): string {
  return net.isIPv6(u.host) ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
}

function isReplyTo(query: Buffer, msg: Buffer): boolean {
  return msg.length >= 12 && msg.readUInt16BE(0) === query.readUInt16BE(0) && (msg[2]! & 0x80) !== 0;
}

export function exchangeUdp(u: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(u.host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (err: Error | undefined, msg?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock.close();
      } catch {
        // already closed
      }
      if (err) reject(err);
      else resolve(msg!);
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (e) => finish(e));
    sock.on('message', (msg) => {
      if (isReplyTo(query, msg)) finish(undefined, msg);
    });
    // A failed connect (an unroutable nameserver) comes to this callback, not to 'error'.
    sock.connect(u.port, u.host, (err?: Error) => (err ? finish(err) : sock.send(query, (e) => e && finish(e))));
  });
}

export function exchangeTcp(u: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: u.host, port: u.port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (err: Error | undefined, msg?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(msg!);
    };
    const timer = setTimeout(() => finish(new Error(`no answer over TCP within ${timeoutMs} ms`)), timeoutMs);
    sock.on('connect', () => sock.write(frame(query)));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        if (isReplyTo(query, msg)) return finish(undefined, Buffer.from(msg));
      }
    });
    sock.on('error', (e) => finish(e));
    sock.on('close', () => finish(new Error('connection closed before an answer')));
  });
}

/** TCP framing: a two-byte big-endian length before each message. */
export function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}
