import { createSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendPicker, HostPorts } from '../../../core/network/proxy/host-ports.ts';
import { baseChains, chainPrefix, jumpRules, renderRules } from '../../../core/network/proxy/iptables-rules.ts';
import { buildServicePorts, type ServicePortEntry } from '../../../core/network/proxy/model.ts';

const svc = (name: string, spec: any, ns = 'default') => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec });
const ep = (name: string, subsets: any[], ns = 'default') => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns }, subsets });

describe('service port model', () => {
  it('maps service ports to ready endpoints by port name and protocol', () => {
    const services = [
      svc('web', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
      svc('db', { clusterIP: 'None', ports: [{ port: 5432 }] }),
      svc('ext', { type: 'ExternalName', externalName: 'example.com' }),
    ];
    const eps = new Map([
      ['default/web', ep('web', [
        { addresses: [{ ip: '172.20.0.3' }, { ip: '172.20.0.2' }], notReadyAddresses: [{ ip: '172.20.0.9' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 5353, protocol: 'UDP' }] },
      ])],
    ]);
    const entries = buildServicePorts(services, (ns, n) => eps.get(`${ns}/${n}`) as any);
    expect(entries.map((e) => e.id)).toEqual(['default/db:/TCP', 'default/web:dns/UDP', 'default/web:http/TCP']);
    const http = entries.find((e) => e.portName === 'http')!;
    expect(http).toMatchObject({ clusterIP: '10.96.0.20', port: 80, nodePort: 30080, loadBalancer: false });
    expect(http.endpoints).toEqual([{ ip: '172.20.0.2', port: 8080 }, { ip: '172.20.0.3', port: 8080 }]);
    expect(entries.find((e) => e.portName === 'dns')!.endpoints.map((b) => b.port)).toEqual([5353, 5353]);
    expect(entries[0]!.clusterIP).toBeUndefined(); // headless
  });
});

function entry(over: Partial<ServicePortEntry> = {}): ServicePortEntry {
  return { id: 'default/web:/TCP', namespace: 'default', name: 'web', portName: '', protocol: 'TCP', clusterIP: '10.96.0.20', port: 80, loadBalancer: false, endpoints: [], ...over };
}

describe('iptables rules', () => {
  const prefix = chainPrefix('test-cluster');

  it('names chains within iptables limits, distinct per cluster', () => {
    expect(prefix).toMatch(/^WH-[0-9a-f]{8}$/);
    expect(chainPrefix('other')).not.toBe(prefix);
    const r = renderRules(prefix, [entry({ endpoints: [{ ip: '172.20.0.2', port: 8080 }] })]);
    for (const c of r.natChains) expect(c.length).toBeLessThanOrEqual(28);
  });

  it('spreads new connections evenly over the ready endpoints', () => {
    const eps = [1, 2, 3].map((i) => ({ ip: `172.20.0.${i}`, port: 8080 }));
    const { text, natChains } = renderRules(prefix, [entry({ endpoints: eps })]);
    const lines = text.split('\n');
    expect(lines).toContain(`-A ${baseChains(prefix).post} -m mark --mark 0x40000/0x40000 -j MASQUERADE`);
    const jump = lines.find((l) => l.startsWith(`-A ${prefix}-SVC `))!;
    expect(jump).toContain('-d 10.96.0.20/32 -p tcp -m tcp --dport 80');
    const sChain = jump.split(' -j ')[1]!;
    const picks = lines.filter((l) => l.startsWith(`-A ${sChain} `));
    expect(picks[0]).toContain('--probability 0.3333333333');
    expect(picks[1]).toContain('--probability 0.5000000000');
    expect(picks[2]).not.toContain('--probability');
    const dnats = lines.filter((l) => l.includes('-j DNAT'));
    expect(dnats.map((l) => l.split('--to-destination ')[1])).toEqual(['172.20.0.1:8080', '172.20.0.2:8080', '172.20.0.3:8080']);
    // Hairpin: a pod reaching itself through its service is masqueraded.
    expect(lines.filter((l) => l.includes('-j MARK --set-xmark 0x40000/0x40000')).length).toBe(3);
    expect(natChains.length).toBe(2 + 1 + 3);
    expect(text.match(/^\*nat$/m)).toBeTruthy();
    expect(text.trim().endsWith('COMMIT')).toBe(true);
  });

  it('rejects at once when a service has no ready endpoint', () => {
    const { text } = renderRules(prefix, [entry({ protocol: 'UDP', port: 53 })]);
    expect(text).toContain(`-A ${prefix}-REJ -d 10.96.0.20/32 -p udp -m udp --dport 53`);
    expect(text).toContain('-j REJECT --reject-with icmp-port-unreachable');
    expect(text).not.toContain('DNAT');
  });

  it('keeps clients on one endpoint with ClientIP affinity', () => {
    const { text } = renderRules(prefix, [entry({ affinitySeconds: 600, endpoints: [{ ip: '172.20.0.2', port: 80 }, { ip: '172.20.0.3', port: 80 }] })]);
    expect(text.match(/--rcheck --seconds 600 --reap/g)?.length).toBe(2);
    expect(text.match(/-m recent --name \S+ --set -j DNAT/g)?.length).toBe(2);
  });

  it('deletes chains it no longer needs in the same transaction', () => {
    const first = renderRules(prefix, [entry({ endpoints: [{ ip: '172.20.0.2', port: 80 }] })]);
    const second = renderRules(prefix, [], { nat: first.natChains, filter: first.filterChains });
    const gone = first.natChains.filter((c) => !second.natChains.includes(c));
    expect(gone.length).toBe(2);
    for (const c of gone) {
      expect(second.text).toContain(`:${c} - [0:0]`);
      expect(second.text).toContain(`-X ${c}`);
    }
    expect(second.text).not.toContain(`-X ${prefix}-SVC`);
  });

  it('skips headless services', () => {
    const { text } = renderRules(prefix, [entry({ clusterIP: undefined, endpoints: [{ ip: '172.20.0.2', port: 80 }] })]);
    expect(text).not.toContain('DNAT');
  });

  it('jumps from pods (by subnet) and the desktop into the cluster chains', () => {
    const j = jumpRules(prefix, '10.96.0.0/16', '172.20.0.0/16');
    const pre = j.find((r) => r.chain === 'PREROUTING')!;
    expect(pre.rule).toEqual(['-s', '172.20.0.0/16', '-d', '10.96.0.0/16', '-m', 'comment', '--comment', `wheelhouse:${prefix}`, '-j', `${prefix}-SVC`]);
    expect(j.find((r) => r.chain === 'FORWARD')!.insert).toBe(true);
    expect(jumpRules(prefix, '10.96.0.0/16', undefined).some((r) => r.chain === 'PREROUTING')).toBe(false);
  });
});

describe('backend picker', () => {
  it('round-robins and sticks with ClientIP affinity while the endpoint stays ready', () => {
    const eps = [{ ip: '10.0.0.1', port: 1 }, { ip: '10.0.0.2', port: 1 }, { ip: '10.0.0.3', port: 1 }];
    const rr = new BackendPicker(entry({ endpoints: eps }));
    expect([0, 1, 2, 3].map(() => rr.pick()!.ip)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1']);
    const sticky = new BackendPicker(entry({ endpoints: eps, affinitySeconds: 60 }));
    const first = sticky.pick('1.1.1.1')!;
    for (let i = 0; i < 5; i++) expect(sticky.pick('1.1.1.1')).toEqual(first);
    sticky.entry = entry({ endpoints: eps.filter((b) => b.ip !== first.ip), affinitySeconds: 60 });
    expect(sticky.pick('1.1.1.1')!.ip).not.toBe(first.ip);
    expect(new BackendPicker(entry()).pick()).toBeUndefined();
  });
});

describe('host ports (NodePort / LoadBalancer on 127.0.0.1)', () => {
  const closers: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  async function tcpBackend(reply: string): Promise<number> {
    const s: Server = createServer((c) => c.end(reply));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => s.close(r)));
    return (s.address() as any).port;
  }
  const freePort = async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const p = (s.address() as any).port as number;
    await new Promise((r) => s.close(r));
    return p;
  };
  const get = (port: number) =>
    new Promise<string>((resolve, reject) => {
      const c = connect(port, '127.0.0.1');
      let data = '';
      c.on('data', (d) => (data += d));
      c.on('close', () => resolve(data));
      c.on('error', reject);
    });

  it('relays TCP to every ready backend in turn and follows endpoint changes', async () => {
    const a = await tcpBackend('A');
    const b = await tcpBackend('B');
    const hp = new HostPorts();
    closers.push(() => hp.close());
    const nodePort = await freePort();
    const e = entry({ nodePort, endpoints: [{ ip: '127.0.0.1', port: a }, { ip: '127.0.0.1', port: b }] });
    expect(await hp.sync([e])).toEqual([]);
    expect(hp.bound()).toEqual([`TCP/${nodePort}`]);
    const got = [await get(nodePort), await get(nodePort), await get(nodePort), await get(nodePort)];
    expect(got.sort()).toEqual(['A', 'A', 'B', 'B']);
    await hp.sync([{ ...e, endpoints: [{ ip: '127.0.0.1', port: b }] }]);
    expect([await get(nodePort), await get(nodePort)]).toEqual(['B', 'B']);
    await hp.sync([]);
    expect(hp.bound()).toEqual([]);
    await expect(get(nodePort)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('holds a connection to a service without endpoints for a moment: one that arrives just after, carries it; none, closes it', async () => {
    const live = await tcpBackend('LATE');
    const hp = new HostPorts();
    closers.push(() => hp.close());
    const nodePort = await freePort();
    const e = entry({ nodePort, endpoints: [] });
    await hp.sync([e]);
    const pending = get(nodePort);
    await new Promise((r) => setTimeout(r, 200));
    await hp.sync([{ ...e, endpoints: [{ ip: '127.0.0.1', port: live }] }]);
    expect(await pending).toBe('LATE');
    await hp.sync([{ ...e, endpoints: [] }]);
    const t0 = Date.now();
    expect(await get(nodePort)).toBe('');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it('skips a backend that refuses the connection for the next ready one', async () => {
    const dead = await freePort(); // nothing listens there
    const live = await tcpBackend('LIVE');
    const hp = new HostPorts();
    closers.push(() => hp.close());
    const nodePort = await freePort();
    await hp.sync([entry({ nodePort, endpoints: [{ ip: '127.0.0.1', port: dead }, { ip: '127.0.0.1', port: live }] })]);
    for (let i = 0; i < 4; i++) expect(await get(nodePort)).toBe('LIVE');
  });

  it('reports a port held by another program and by another service, and binds once it is free', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as any).port as number;
    const hp = new HostPorts();
    closers.push(() => hp.close());
    const lb = entry({ id: 'default/lb:/TCP', name: 'lb', port, loadBalancer: true, endpoints: [{ ip: '127.0.0.1', port: await tcpBackend('X') }] });
    const errs = await hp.sync([lb]);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.message).toBe(`cannot listen on 127.0.0.1:${port}/TCP: the port is in use by another program`);
    await new Promise((r) => blocker.close(r));
    expect(await hp.sync([lb])).toEqual([]);
    expect(await get(port)).toBe('X');
    const other = entry({ id: 'default/lb2:/TCP', name: 'lb2', port, loadBalancer: true });
    const clash = await hp.sync([lb, other]);
    expect(clash.map((e) => e.message)).toEqual([`port ${port}/TCP on 127.0.0.1 is already used by service default/lb`]);
  });

  it('relays UDP datagrams and their replies', async () => {
    const echo = createSocket('udp4');
    echo.on('message', (m, r) => echo.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
    await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => echo.close(() => r())));
    const hp = new HostPorts();
    closers.push(() => hp.close());
    const port = await freePort();
    expect(await hp.sync([entry({ protocol: 'UDP', nodePort: port, endpoints: [{ ip: '127.0.0.1', port: echo.address().port }] })])).toEqual([]);
    const client = createSocket('udp4');
    closers.push(() => new Promise<void>((r) => client.close(() => r())));
    const reply = new Promise<string>((r) => client.once('message', (m) => r(m.toString())));
    client.send('ping', port, '127.0.0.1');
    expect(await reply).toBe('echo:ping');
  });
});
