/**
 * The cluster DNS server: UDP and TCP (RFC 7766 two-byte length framing, pipelined queries) on one
 * port. Names in the cluster zone are answered authoritatively from the resolver over a DnsView;
 * everything else is forwarded to upstream resolvers (default: the host's resolv.conf), SERVFAIL
 * when none answers in time. An ExternalName CNAME leaving the zone is chased upstream, as CoreDNS
 * does, so stub resolvers that do not follow CNAMEs themselves still get addresses.
 *
 * UDP answers are limited to 512 bytes, or the client's EDNS payload size (capped at 4096): past
 * that the additional section goes first, then the answer is sent empty with TC set so the client
 * retries over TCP. Malformed queries get FORMERR when their header is readable and are dropped
 * otherwise; packets that are themselves responses are always dropped (no reflection loops).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import packet from 'dns-packet';
import type { Answer as RR, DecodedPacket, OptAnswer, Packet } from 'dns-packet';
import { DEFAULT_CLUSTER_DOMAIN } from '../config.ts';
import { log } from '../../log.ts';
import { resolve, type DnsView, type PodRecords, type Rcode } from './resolver.ts';
import { forward, frame, parseUpstream, systemUpstreams, type Upstream } from './upstream.ts';

export { InformerDnsView, type DnsInformers, type InformerDnsViewOptions } from './informer-view.ts';
export type { DnsView, PodRecords } from './resolver.ts';

export interface DnsServerOptions {
  view: DnsView;
  /** The cluster domain (default cluster.local). */
  domain?: string;
  /** `ip` or `ip:port` (`[v6]:port`); default: the nameservers in /etc/resolv.conf. */
  upstream?: string[];
  /** Budget for an upstream answer, across all upstreams (default 2000 ms). */
  upstreamTimeoutMs?: number;
  ttl?: number;
  pods?: PodRecords;
}

export interface ListenOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port (the same for UDP and TCP). Default 53. */
  port?: number;
}

type Transport = 'udp' | 'tcp';

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type RcodeName = keyof typeof RCODE;
const MAX_EDNS_UDP = 4096;
/** What we advertise in our own OPT record (the DNS flag day 2020 value). */
const OUR_EDNS_UDP = 1232;
const TCP_IDLE_MS = 10_000;

export class DnsServer {
  private readonly view: DnsView;
  private readonly domain: string;
  private readonly upstreams: Upstream[];
  private readonly timeoutMs: number;
  private readonly ttl?: number;
  private readonly pods?: PodRecords;
  private udp?: dgram.Socket;
  private tcp?: net.Server;
  private readonly conns = new Set<net.Socket>();
  private boundPort = 0;

  constructor(opts: DnsServerOptions) {
    this.view = opts.view;
    this.domain = opts.domain ?? DEFAULT_CLUSTER_DOMAIN;
    this.upstreams = (opts.upstream ?? systemUpstreams()).map(parseUpstream);
    this.timeoutMs = opts.upstreamTimeoutMs ?? 2000;
    this.ttl = opts.ttl;
    this.pods = opts.pods;
  }

  /** The bound port (0 before start). */
  get port(): number {
    return this.boundPort;
  }

  /** Listen on UDP and TCP; resolves with the bound port. */
  async start({ host = '127.0.0.1', port = 53 }: ListenOptions = {}): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.boundPort = await this.listen(host, port);
        return this.boundPort;
      } catch (e) {
        await this.stop();
        // Port 0: the UDP port we got may be taken for TCP; pick another.
        if (port === 0 && (e as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
        throw new Error(`cluster DNS cannot listen on ${host}:${port}: ${(e as Error).message}`);
      }
    }
  }

  async stop(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    this.boundPort = 0;
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp?.listening) await new Promise<void>((r) => tcp.close(() => r()));
  }

  private async listen(host: string, port: number): Promise<number> {
    const udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    this.udp = udp;
    await new Promise<void>((ok, fail) => {
      udp.once('error', fail);
      udp.bind(port, host, () => {
        udp.off('error', fail);
        ok();
      });
    });
    const bound = udp.address().port;
    const tcp = net.createServer((sock) => this.serveTcp(sock));
    this.tcp = tcp;
    await new Promise<void>((ok, fail) => {
      tcp.once('error', fail);
      tcp.listen(bound, host, () => {
        tcp.off('error', fail);
        ok();
      });
    });
    udp.on('error', (e) => log.warn('cluster DNS: UDP socket error', { error: e.message }));
    tcp.on('error', (e) => log.warn('cluster DNS: TCP listener error', { error: e.message }));
    udp.on('message', (msg, from) => {
      void this.handle(msg, 'udp').then((reply) => {
        if (!reply || this.udp !== udp) return;
        udp.send(reply, from.port, from.address, (e) => e && log.debug('cluster DNS: UDP send failed', { error: e.message }));
      });
    });
    return bound;
  }

  private serveTcp(sock: net.Socket): void {
    this.conns.add(sock);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.conns.delete(sock));
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const query = Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + query.length);
        void this.handle(query, 'tcp').then((reply) => {
          if (reply && !sock.destroyed) sock.write(frame(reply));
        });
      }
    });
  }

  /** Answer one query message; undefined means drop it. Never throws. */
  async handle(query: Buffer, transport: Transport): Promise<Buffer | undefined> {
    try {
      return await this.answer(query, transport);
    } catch (e) {
      log.warn('cluster DNS: query failed', { error: (e as Error).message });
      return headerOnly(query, 'SERVFAIL');
    }
  }

  private async answer(query: Buffer, transport: Transport): Promise<Buffer | undefined> {
    let req: DecodedPacket;
    try {
      req = packet.decode(query);
    } catch {
      return headerOnly(query, 'FORMERR');
    }
    if (req.flag_qr) return undefined;
    if (((query[2]! >> 3) & 0x0f) !== 0) return headerOnly(query, 'NOTIMP'); // only QUERY
    const q = req.questions?.[0];
    if (!q || req.questions!.length !== 1) return headerOnly(query, 'FORMERR');
    const opt = req.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
    const limit = transport === 'tcp' ? 65535 : opt ? Math.min(Math.max(opt.udpPayloadSize, 512), MAX_EDNS_UDP) : 512;

    const res = resolve(q, this.view, this.domain, { ttl: this.ttl, pods: this.pods });
    if (res.kind === 'forward') {
      try {
        return await forward(this.upstreams, query, { timeoutMs: this.timeoutMs, tcp: transport === 'tcp' });
      } catch (e) {
        log.debug('cluster DNS: forwarding failed', { name: q.name, type: q.type, error: (e as Error).message });
        return reply(req, 'SERVFAIL', { limit, opt, authoritative: false });
      }
    }
    let { rcode, answers } = res as { rcode: Rcode | RcodeName; answers: RR[] };
    if (res.chase) {
      const chased = await this.chase(res.chase.name, res.chase.type, transport);
      if (chased) {
        answers = [...answers, ...(chased.answers ?? [])];
        rcode = chased.rcode;
      }
    }
    const sections = { answers, authorities: res.authorities, additionals: res.additionals };
    return reply(req, rcode, { limit, opt, authoritative: true, ...sections });
  }

  /** Look up an ExternalName's target upstream; undefined when that fails (the CNAME alone is sent). */
  private async chase(name: string, type: string, transport: Transport): Promise<{ answers?: RR[]; rcode: RcodeName } | undefined> {
    if (!this.upstreams.length) return undefined;
    const id = Math.floor(Math.random() * 65536);
    const q = packet.encode({ type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [{ name, type: type as any, class: 'IN' }] });
    try {
      const raw = await forward(this.upstreams, q, { timeoutMs: this.timeoutMs, tcp: transport === 'tcp' });
      const res = packet.decode(raw);
      const code = raw[3]! & 0x0f;
      const rcode = (Object.keys(RCODE) as RcodeName[]).find((k) => RCODE[k] === code) ?? 'SERVFAIL';
      return { answers: res.answers, rcode };
    } catch (e) {
      log.debug('cluster DNS: chasing an ExternalName failed', { name, error: (e as Error).message });
      return undefined;
    }
  }
}

interface ReplyOptions {
  limit: number;
  opt?: OptAnswer;
  authoritative: boolean;
  answers?: RR[];
  authorities?: RR[];
  additionals?: RR[];
}

/** Encode a response to `req`, dropping additionals and then setting TC when it exceeds `limit`. */
function reply(req: DecodedPacket, rcode: RcodeName, o: ReplyOptions): Buffer {
  const ourOpt: RR[] = o.opt
    ? [{ type: 'OPT', name: '.', udpPayloadSize: OUR_EDNS_UDP, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }]
    : [];
  let flags = (req.flags ?? 0) & packet.RECURSION_DESIRED;
  flags |= packet.RECURSION_AVAILABLE | RCODE[rcode];
  if (o.authoritative) flags |= packet.AUTHORITATIVE_ANSWER;
  const res: Packet = {
    type: 'response',
    id: req.id,
    flags,
    questions: req.questions,
    answers: o.answers ?? [],
    authorities: o.authorities ?? [],
    additionals: [...(o.additionals ?? []), ...ourOpt],
  };
  let buf = packet.encode(res);
  if (buf.length > o.limit) {
    res.additionals = ourOpt;
    buf = packet.encode(res);
  }
  if (buf.length > o.limit) {
    res.flags = flags | packet.TRUNCATED_RESPONSE;
    res.answers = [];
    res.authorities = [];
    buf = packet.encode(res);
  }
  return buf;
}

/** A bare header answering `query` (FORMERR, SERVFAIL, NOTIMP …); undefined when it is unreadable or a response. */
function headerOnly(query: Buffer, rcode: RcodeName): Buffer | undefined {
  if (query.length < 12 || (query[2]! & 0x80) !== 0) return undefined;
  const out = Buffer.alloc(12);
  out.writeUInt16BE(query.readUInt16BE(0), 0);
  out[2] = 0x80 | (query[2]! & 0x79); // QR, the opcode and RD echoed
  out[3] = 0x80 | RCODE[rcode]; // RA
  return out;
}
