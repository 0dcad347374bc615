import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import { Resolver } from 'node:dns/promises';
import packet, { type DecodedPacket, type Packet } from 'dns-packet';
import type { KubeObject } from '../../../core/api/types.ts';
import { DnsServer } from '../../../core/network/dns/server.ts';
import type { DnsView } from '../../../core/network/dns/resolver.ts';
import { parseUpstream, systemUpstreams } from '../../../core/network/dns/upstream.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Response = DecodedPacket & { rcode: string };

/** A fixed view: a ClusterIP service, a headless one with `wide` endpoints, an ExternalName. */
function view(wide = 40): DnsView {
  const objs: Record<string, KubeObject> = {
    'shop/web': { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name: 'web' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] } },
    'shop/big': { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name: 'big' }, spec: { clusterIP: 'None' } },
    'shop/ext': { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } },
  };
  const bigEps: KubeObject = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { namespace: 'shop', name: 'big' },
    subsets: [{ addresses: Array.from({ length: wide }, (_, i) => ({ ip: `10.244.${Math.floor(i / 250)}.${(i % 250) + 1}` })) }],
  };
  return { service: (ns, n) => objs[`${ns}/${n}`], endpoints: (ns, n) => (`${ns}/${n}` === 'shop/big' ? bigEps : undefined) };
}

let nextId = 1;
function query(name: string, type = 'A', extra: Partial<Packet> = {}): Buffer {
  return packet.encode({ type: 'query', id: nextId++, flags: packet.RECURSION_DESIRED, questions: [{ name, type: type as any, class: 'IN' }], ...extra });
}

/** Send raw bytes over UDP; resolves with the decoded reply, or undefined after `ms` of silence. */
function udp(port: number, msg: Buffer, ms = 3000): Promise<Response | undefined> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => (sock.close(), resolve(undefined)), ms);
    sock.on('message', (m) => {
      clearTimeout(timer);
      sock.close();
      try {
        resolve(packet.decode(m) as Response);
      } catch (e) {
        reject(e);
      }
    });
    sock.send(msg, port, '127.0.0.1');
  });
}

/** Send framed messages over one TCP connection; resolves with as many replies as `expect`. */
function tcp(port: number, msgs: Buffer[], expected = msgs.length): Promise<Response[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const out: Response[] = [];
    const timer = setTimeout(() => (sock.destroy(), reject(new Error(`only ${out.length} TCP replies`))), 3000);
    sock.on('connect', () => {
      for (const m of msgs) {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(m.length);
        sock.write(Buffer.concat([len, m]));
      }
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(packet.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))) as Response);
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length >= expected) {
        clearTimeout(timer);
        sock.destroy();
        resolve(out);
      }
    });
    sock.on('error', reject);
  });
}

/** A fake upstream on loopback: answers every A question with 192.0.2.1 (or stays silent). */
async function fakeUpstream(silent = false) {
  const sock = dgram.createSocket('udp4');
  const seen: string[] = [];
  sock.on('message', (m, from) => {
    const q = packet.decode(m);
    seen.push(q.questions![0]!.name);
    if (silent) return;
    const res: Packet = { type: 'response', id: q.id, flags: packet.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: 'A', name: q.questions![0]!.name, ttl: 60, data: '192.0.2.1' }] };
    sock.send(packet.encode(res), from.port, from.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { addr: `127.0.0.1:${sock.address().port}`, seen, close: () => sock.close() };
}

const ips = (res: Response | undefined) => (res?.answers ?? []).filter((a) => a.type === 'A').map((a) => (a as { data: string }).data);

describe('DnsServer', () => {
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  let server: DnsServer;
  let port: number;
  beforeAll(async () => {
    upstream = await fakeUpstream();
    server = new DnsServer({ view: view(), upstream: [upstream.addr], upstreamTimeoutMs: 500 });
    port = await server.start({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.stop();
    upstream.close();
  });

  it('answers cluster names over UDP, authoritatively, echoing id and RD', async () => {
    const q = query('web.shop.svc.cluster.local');
    const res = await udp(port, q);
    expect(res).toMatchObject({ id: q.readUInt16BE(0), rcode: 'NOERROR', flag_qr: true, flag_aa: true, flag_rd: true, flag_ra: true, flag_tc: false });
    expect(ips(res)).toEqual(['10.96.0.20']);
    expect(res!.answers![0]).toMatchObject({ ttl: 5 });
    expect(await udp(port, query('nope.shop.svc.cluster.local'))).toMatchObject({ rcode: 'NXDOMAIN', authorities: [{ type: 'SOA' }] });
  });

  it('answers over TCP on the same port, several pipelined queries on one connection', async () => {
    const [a, b] = await tcp(port, [query('web.shop.svc.cluster.local'), query('_http._tcp.web.shop.svc.cluster.local', 'SRV')]);
    const byType = [a!, b!].sort((x, y) => x.questions![0]!.type.localeCompare(y.questions![0]!.type));
    expect(ips(byType[0])).toEqual(['10.96.0.20']);
    expect(byType[1]!.answers).toMatchObject([{ type: 'SRV', data: { port: 80, target: 'web.shop.svc.cluster.local' } }]);
  });

  it('serves node’s own resolver (c-ares), A, SRV and NXDOMAIN', async () => {
    const r = new Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`127.0.0.1:${port}`]);
    expect(await r.resolve4('web.shop.svc.cluster.local')).toEqual(['10.96.0.20']);
    expect(await r.resolveSrv('_http._tcp.web.shop.svc.cluster.local')).toMatchObject([{ port: 80, name: 'web.shop.svc.cluster.local' }]);
    await expect(r.resolve4('missing.shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    // Truncated over UDP, c-ares retries over TCP and gets every address.
    expect(await r.resolve4('big.shop.svc.cluster.local')).toHaveLength(40);
  });

  it('forwards other names to the upstream and relays its answer', async () => {
    const res = await udp(port, query('example.org'));
    expect(ips(res)).toEqual(['192.0.2.1']);
    expect(res!.flag_aa).toBe(false);
    expect(upstream.seen).toContain('example.org');
    const [viaTcp] = await tcp(port, [query('example.net')]);
    expect(ips(viaTcp)).toEqual(['192.0.2.1']);
  });

  it('chases an ExternalName CNAME upstream', async () => {
    const res = await udp(port, query('ext.shop.svc.cluster.local'));
    expect(res!.answers!.map((a) => a.type)).toEqual(['CNAME', 'A']);
    expect(ips(res)).toEqual(['192.0.2.1']);
    expect(upstream.seen).toContain('db.example.com');
  });

  it('sets TC on a UDP answer past 512 bytes, fits it in a larger EDNS size, and sends it whole over TCP', async () => {
    const res = await udp(port, query('big.shop.svc.cluster.local'));
    expect(res).toMatchObject({ flag_tc: true, rcode: 'NOERROR', answers: [] });
    const edns = await udp(port, query('big.shop.svc.cluster.local', 'A', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as any] }));
    expect(edns!.flag_tc).toBe(false);
    expect(ips(edns)).toHaveLength(40);
    expect(edns!.additionals).toMatchObject([{ type: 'OPT' }]);
    const [full] = await tcp(port, [query('big.shop.svc.cluster.local')]);
    expect(full!.flag_tc).toBe(false);
    expect(ips(full)).toHaveLength(40);
  });

  it('survives garbage: FORMERR when the header is readable, silence otherwise', async () => {
    expect(await udp(port, Buffer.from([1, 2, 3]), 300)).toBeUndefined();
    const junk = Buffer.concat([Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]), Buffer.from([0x3f, 0x41, 0x42])]);
    expect(await udp(port, junk)).toMatchObject({ id: 0xabcd, rcode: 'FORMERR', flag_qr: true });
    // A response is never answered (no reflection loops).
    const reply = packet.encode({ type: 'response', id: 7, questions: [{ name: 'web.shop.svc.cluster.local', type: 'A' }] });
    expect(await udp(port, reply, 300)).toBeUndefined();
    // No question, and an opcode other than QUERY.
    expect(await udp(port, packet.encode({ type: 'query', id: 8, questions: [] }))).toMatchObject({ rcode: 'FORMERR' });
    const notify = query('web.shop.svc.cluster.local');
    notify[2] = (notify[2]! & 0x87) | (4 << 3);
    expect(await udp(port, notify)).toMatchObject({ rcode: 'NOTIMP' });
    const [formerr] = await tcp(port, [junk]);
    expect(formerr).toMatchObject({ rcode: 'FORMERR' });
    expect(ips(await udp(port, query('web.shop.svc.cluster.local')))).toEqual(['10.96.0.20']);
  });
});

describe('DnsServer upstream failures', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  it('answers SERVFAIL when the upstream does not answer in time', async () => {
    const silent = await fakeUpstream(true);
    const server = new DnsServer({ view: view(), upstream: [silent.addr], upstreamTimeoutMs: 200 });
    cleanup.push(() => server.stop(), () => silent.close());
    const port = await server.start({ port: 0 });
    const t0 = Date.now();
    const res = await udp(port, query('example.org'));
    expect(res).toMatchObject({ rcode: 'SERVFAIL', flag_qr: true });
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(silent.seen).toEqual(['example.org']);
  });

  it('tries the next upstream when one refuses, and SERVFAILs with none configured', async () => {
    const good = await fakeUpstream();
    const dead = dgram.createSocket('udp4');
    await new Promise<void>((r) => dead.bind(0, '127.0.0.1', () => r()));
    const deadAddr = `127.0.0.1:${dead.address().port}`;
    dead.close(); // nothing listens there now: ICMP port unreachable
    const server = new DnsServer({ view: view(), upstream: [deadAddr, good.addr], upstreamTimeoutMs: 1000 });
    const lonely = new DnsServer({ view: view(), upstream: [] });
    cleanup.push(() => server.stop(), () => lonely.stop(), () => good.close());
    expect(ips(await udp(await server.start({ port: 0 }), query('example.org')))).toEqual(['192.0.2.1']);
    const lonelyPort = await lonely.start({ port: 0 });
    expect(await udp(lonelyPort, query('example.org'))).toMatchObject({ rcode: 'SERVFAIL' });
    // The ExternalName CNAME alone when it cannot be chased.
    expect((await udp(lonelyPort, query('ext.shop.svc.cluster.local')))!.answers!.map((a) => a.type)).toEqual(['CNAME']);
  });

  it('stops: the port is released and can be bound again', async () => {
    const server = new DnsServer({ view: view(), upstream: [] });
    const port = await server.start({ port: 0 });
    expect(server.port).toBe(port);
    await server.stop();
    expect(server.port).toBe(0);
    const again = new DnsServer({ view: view(), upstream: [] });
    cleanup.push(() => again.stop());
    expect(await again.start({ port })).toBe(port);
  });
});

describe('upstream configuration', () => {
  it('parses ip, ip:port and IPv6 forms, rejecting names', () => {
    expect(parseUpstream('1.1.1.1')).toEqual({ host: '1.1.1.1', port: 53 });
    expect(parseUpstream('10.0.0.2:5353')).toEqual({ host: '10.0.0.2', port: 5353 });
    expect(parseUpstream('::1')).toEqual({ host: '::1', port: 53 });
    expect(parseUpstream('[fd00::1]:54')).toEqual({ host: 'fd00::1', port: 54 });
    expect(() => parseUpstream('dns.google')).toThrow(/invalid DNS upstream "dns.google"/);
    expect(() => parseUpstream('1.1.1.1:0')).toThrow(/invalid DNS upstream/);
  });

  it('reads nameservers from resolv.conf', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-dns-'));
    const path = join(dir, 'resolv.conf');
    writeFileSync(path, '# comment\nsearch lan\nnameserver 192.168.1.1\nnameserver fe80::1%eth0\noptions ndots:5\nnameserver bogus\n');
    expect(systemUpstreams(path)).toEqual(['192.168.1.1', 'fe80::1']);
    expect(systemUpstreams(join(dir, 'missing'))).toEqual([]);
  });
});
