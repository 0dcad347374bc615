/**
 * Services end to end on the real engine: a client pod reaches a 3-replica web Service by DNS
 * name and traffic spreads over all three; a pod made unready leaves the rotation with no failed
 * request; UDP through a Service; NodePort and LoadBalancer on 127.0.0.1 (and a port collision
 * reported on the Service); headless StatefulSet DNS names; service environment variables;
 * deleting a Service frees its port. Traffic goes only to loopback and the cluster's containers.
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../core/api/types.ts';
import { BUSYBOX, deployment, httpGet, isRunningReady, NS, setupCluster, sleep, type TestCluster } from '../cluster/helpers.ts';
import { freePort } from '../runtime/helpers.ts';

const run = promisify(execFile);
const UDP_IMAGE = `wheelhouse-test/udp-echo:${process.env.TEST_IMAGE_VERSION ?? '1'}`;
const SVC = { apiVersion: 'v1', kind: 'Service' } as const;
const SERVICE_CIDR = '10.213.0.0/16';

let tc: TestCluster;

/** Runs a shell command in a pod's first container (docker exec on its container id). */
async function sh(pod: string, script: string, timeoutMs = 60_000): Promise<string> {
  const p = await tc.client.get({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name: pod });
  const id = String(p.status?.containerStatuses?.[0]?.containerID ?? '').replace(/^docker:\/\//, '');
  if (!id) throw new Error(`pod ${pod} has no running container`);
  const { stdout } = await run('docker', ['exec', id, 'sh', '-c', script], { timeout: timeoutMs, maxBuffer: 16 << 20 });
  return stdout;
}

/** A web server answering with its pod name; ready while /www/ready exists. */
function webPod(): Record<string, unknown> {
  return {
    containers: [
      {
        name: 'web',
        image: BUSYBOX,
        command: ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && touch /www/ready && exec httpd -f -p 8080 -h /www'],
        ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { exec: { command: ['test', '-f', '/www/ready'] }, periodSeconds: 1, failureThreshold: 1, successThreshold: 1 },
      },
    ],
  };
}

const service = (name: string, spec: Record<string, unknown>): KubeObject => ({ ...SVC, metadata: { name, namespace: NS }, spec }) as KubeObject;

async function readyPods(selector: string, n: number): Promise<any[]> {
  return tc.waitFor(`${n} ready pods (${selector})`, async () => {
    const pods = (await tc.pods(selector)).filter(isRunningReady);
    return pods.length === n ? pods : undefined;
  }, 60_000);
}

async function endpointsCount(name: string): Promise<number> {
  const ep = await tc.client.get({ apiVersion: 'v1', kind: 'Endpoints', namespace: NS, name }).catch(() => undefined);
  return ((ep?.subsets ?? []) as any[]).reduce((n: number, s: any) => n + (s.addresses?.length ?? 0), 0);
}

beforeAll(async () => {
  tc = await setupCluster('svc', { network: { serviceCIDR: SERVICE_CIDR, removeRulesOnStop: true, upstreamDNS: [] } });
  await tc.client.create(service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }));
  await tc.client.create(deployment('web', 3, webPod()));
  await tc.client.create({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: NS },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: UDP_IMAGE, command: ['sleep', '3600'] }] },
  } as KubeObject);
  await readyPods('app=web', 3);
  await tc.waitFor('client running', async () => (await tc.pods()).find((p) => p.metadata.name === 'client' && isRunningReady(p)));
  await tc.waitFor('3 web endpoints', async () => (await endpointsCount('web')) === 3);
}, 120_000);

afterAll(async () => {
  await tc?.close();
});

describe('services on the cluster network', () => {
  it('runs the proxy in iptables mode with cluster DNS published as kube-system/kube-dns', async () => {
    const net = tc.cluster.network!;
    expect(net.proxy.mode).toBe('iptables');
    const dns = await tc.client.get({ ...SVC, namespace: 'kube-system', name: 'kube-dns' });
    expect(dns.spec.clusterIP).toBe('10.213.0.10');
    const web = await tc.client.get({ ...SVC, namespace: NS, name: 'web' });
    expect(web.spec.clusterIP).toMatch(/^10\.213\./);
  });

  it('resolves svc, svc.ns and the full name from inside a pod', async () => {
    const web = await tc.client.get({ ...SVC, namespace: NS, name: 'web' });
    for (const name of ['web', `web.${NS}.svc.cluster.local`]) {
      // busybox's nslookup also tries the other search domains and exits 1 when those fail.
      const out = await sh('client', `nslookup ${name} 2>&1 || true`);
      expect(out, `nslookup ${name}`).toContain(`Address: ${web.spec.clusterIP}`);
    }
    // busybox's nslookup sends a dotted name as it is; resolvers that use the search domains
    // (wget's, libc's) find `web.default` through `default.svc.cluster.local`.
    for (const name of ['web', `web.${NS}`, `web.${NS}.svc`, `web.${NS}.svc.cluster.local`]) {
      expect((await sh('client', `timeout 3 wget -q -O - http://${name}/`)).trim(), `wget http://${name}/`).toMatch(/^web-/);
    }
    const missing = await sh('client', 'nslookup nope.default.svc.cluster.local 2>&1 || true');
    expect(missing).toMatch(/NXDOMAIN|can't find/);
  });

  it('spreads 300 requests by DNS name over all three pods (each >= 20%)', async () => {
    const out = await sh('client', 'i=0; while [ $i -lt 300 ]; do timeout 3 wget -q -O - http://web/ || echo FAIL; i=$((i+1)); done', 120_000);
    const lines = out.trim().split('\n');
    expect(lines.length).toBe(300);
    expect(lines.filter((l) => l === 'FAIL').length).toBe(0);
    const counts = new Map<string, number>();
    for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
    const pods = (await tc.pods('app=web')).map((p) => p.metadata.name).sort();
    expect([...counts.keys()].sort()).toEqual(pods);
    for (const [pod, n] of counts) expect(n, `${pod} got ${n}/300`).toBeGreaterThanOrEqual(60);
  }, 150_000);

  it('takes an unready pod out of the rotation within 1 s with no failed request meanwhile', async () => {
    const [victim] = (await tc.pods('app=web')).map((p) => p.metadata.name).sort();
    // Requests run throughout: before, during and after the pod turns unready.
    const load = sh('client', 'i=0; while [ $i -lt 200 ]; do timeout 3 wget -q -O - http://web/ || echo FAIL; i=$((i+1)); done', 120_000);
    await sleep(300);
    await sh(victim, 'rm /www/ready');
    await tc.waitFor('the pod to be unready', async () => (await tc.pods('app=web')).find((p) => p.metadata.name === victim && !isRunningReady(p)), 10_000, 20);
    const unreadyAt = Date.now();
    await tc.waitFor('2 endpoints', async () => (await endpointsCount('web')) === 2, 5_000, 10);
    await tc.cluster.network!.proxy.idle();
    const rulesAfterMs = Date.now() - unreadyAt;
    expect(rulesAfterMs, 'from Ready=False to the rules without the pod').toBeLessThan(1_000);
    const during = (await load).trim().split('\n');
    expect(during.filter((l) => l === 'FAIL')).toEqual([]);
    const after = (await sh('client', 'i=0; while [ $i -lt 60 ]; do timeout 3 wget -q -O - http://web/ || echo FAIL; i=$((i+1)); done')).trim().split('\n');
    expect(after.filter((l) => l === 'FAIL')).toEqual([]);
    expect(after).not.toContain(victim);
    await sh(victim, 'touch /www/ready');
    await tc.waitFor('3 endpoints again', async () => (await endpointsCount('web')) === 3, 10_000);
  }, 150_000);

  it('keeps clients on one pod with ClientIP affinity, on every port of a multi-port service', async () => {
    await tc.client.create(service('sticky', {
      selector: { app: 'web' }, sessionAffinity: 'ClientIP',
      ports: [{ name: 'a', port: 80, targetPort: 'http' }, { name: 'b', port: 8081, targetPort: 8080 }],
    }));
    await tc.waitFor('sticky endpoints', async () => (await endpointsCount('sticky')) === 3);
    await tc.cluster.network!.proxy.idle();
    const out = await sh('client', 'i=0; while [ $i -lt 20 ]; do timeout 3 wget -q -O - http://sticky/ || echo FAIL; i=$((i+1)); done; timeout 3 wget -q -O - http://sticky:8081/ || echo FAIL');
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(21);
    expect(new Set(lines.slice(0, 20)).size, lines.join(',')).toBe(1);
    expect(lines[0]).toMatch(/^web-/);
    expect(lines[20]).toMatch(/^web-/);
  });

  it('keeps a Service name working while all its pods are replaced', async () => {
    const before = (await tc.pods('app=web')).map((p) => p.metadata.name);
    for (const name of before) await tc.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name });
    const fresh = await tc.waitFor('3 new ready pods', async () => {
      const pods = (await tc.pods('app=web')).filter((p) => isRunningReady(p) && !before.includes(p.metadata.name));
      return pods.length === 3 ? pods : undefined;
    }, 60_000);
    await tc.waitFor('the endpoints to list the new pods', async () => {
      const ep = await tc.client.get({ apiVersion: 'v1', kind: 'Endpoints', namespace: NS, name: 'web' });
      const ips = ((ep.subsets ?? []) as any[]).flatMap((s) => (s.addresses ?? []).map((a: any) => a.ip)).sort();
      return JSON.stringify(ips) === JSON.stringify(fresh.map((p) => p.status.podIP).sort());
    });
    await tc.cluster.network!.proxy.idle();
    const out = (await sh('client', 'i=0; while [ $i -lt 30 ]; do timeout 3 wget -q -O - http://web/ || echo FAIL; i=$((i+1)); done')).trim().split('\n');
    expect(out.filter((l) => l === 'FAIL')).toEqual([]);
    for (const l of out) expect(fresh.map((p) => p.metadata.name)).toContain(l);
  }, 90_000);

  it('injects service environment variables into pods started after the service', async () => {
    const web = await tc.client.get({ ...SVC, namespace: NS, name: 'web' });
    const env = await sh('client', 'env');
    expect(env).toContain(`WEB_SERVICE_HOST=${web.spec.clusterIP}`);
    expect(env).toContain('WEB_SERVICE_PORT=80');
    expect(env).toContain(`WEB_PORT=tcp://${web.spec.clusterIP}:80`);
  });

  it('carries UDP through a Service (from a pod and from the desktop)', async () => {
    await tc.client.create(deployment('udp', 1, { containers: [{ name: 'echo', image: UDP_IMAGE, command: ['udp-echo', 'serve', '9000'], ports: [{ containerPort: 9000, protocol: 'UDP' }] }] }));
    const svc = await tc.client.create(service('udp', { type: 'NodePort', selector: { app: 'udp' }, ports: [{ port: 5000, targetPort: 9000, protocol: 'UDP' }] }));
    const [pod] = await readyPods('app=udp', 1);
    await tc.waitFor('udp endpoints', async () => (await endpointsCount('udp')) === 1);
    await tc.cluster.network!.proxy.idle();
    const fromPod = await sh('client', `udp-echo send ${svc.spec.clusterIP} 5000 hello`);
    expect(fromPod.trim()).toBe(`${pod.metadata.name}:hello`);
    const reply = await udpRoundTrip('127.0.0.1', svc.spec.ports[0].nodePort, 'from-desktop');
    expect(reply).toBe(`${pod.metadata.name}:from-desktop`);
  }, 90_000);

  it('answers a NodePort on 127.0.0.1 and a ClusterIP from the desktop', async () => {
    const np = await tc.client.create(service('web-np', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }));
    const nodePort = np.spec.ports[0].nodePort;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    const res = await tc.waitFor('NodePort answer', async () => {
      const r = await httpGet('127.0.0.1', nodePort).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    }, 10_000);
    expect(res.body).toMatch(/^web-/);
    const direct = await httpGet(np.spec.clusterIP, 80);
    expect(direct.body).toMatch(/^web-/);
  });

  it('serves a LoadBalancer on 127.0.0.1:port, reports a port collision, and frees the port on delete', async () => {
    const port = await freePort();
    await tc.client.create(service('lb', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port, targetPort: 8080 }] }));
    const lb = await tc.waitFor('LoadBalancer ingress', async () => {
      const s = await tc.client.get({ ...SVC, namespace: NS, name: 'lb' });
      return s.status?.loadBalancer?.ingress?.[0]?.ip ? s : undefined;
    }, 10_000);
    expect(lb.status.loadBalancer.ingress[0].ip).toBe('127.0.0.1');
    expect((await httpGet('127.0.0.1', port)).body).toMatch(/^web-/);

    await tc.client.create(service('lb2', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port, targetPort: 8080 }] }));
    const clash = await tc.waitFor('the collision on lb2', async () => {
      const s = await tc.client.get({ ...SVC, namespace: NS, name: 'lb2' });
      return s.status?.loadBalancer?.ingress?.[0]?.ports?.[0]?.error ? s : undefined;
    }, 10_000);
    expect(clash.status.loadBalancer.ingress[0].ports[0].error).toBe(`port ${port}/TCP on 127.0.0.1 is already used by service default/lb`);
    const ev = await tc.waitFor('FailedToBindPort event', async () => (await tc.events((e) => e.reason === 'FailedToBindPort' && e.involvedObject?.name === 'lb2'))[0]);
    expect(ev.type).toBe('Warning');

    await tc.client.delete({ ...SVC, namespace: NS, name: 'lb2' });
    await tc.client.delete({ ...SVC, namespace: NS, name: 'lb' });
    await tc.waitFor('the port to be free', async () => !tc.cluster.network!.proxy.boundHostPorts().includes(`TCP/${port}`));
    await expect(httpGet('127.0.0.1', port, '/', 1_000)).rejects.toThrow();
  });

  it('gives headless StatefulSet pods stable DNS names', async () => {
    await tc.client.create(service('db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 8080 }] }));
    await tc.client.create({
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: NS },
      spec: { serviceName: 'db', replicas: 2, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { terminationGracePeriodSeconds: 0, ...webPod() } } },
    } as KubeObject);
    const pods = await readyPods('app=db', 2);
    await tc.waitFor('2 db endpoints', async () => (await endpointsCount('db')) === 2);
    for (const p of pods) {
      const out = await sh('client', `nslookup ${p.metadata.name}.db.${NS}.svc.cluster.local 2>&1 || true`);
      expect(out).toContain(`Address: ${p.status.podIP}`);
    }
    const all = await sh('client', 'nslookup db 2>&1 || true');
    for (const p of pods) expect(all).toContain(p.status.podIP);
  }, 90_000);
});

function udpRoundTrip(host: string, port: number, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP reply from ${host}:${port}`));
    }, 3_000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m.toString());
    });
    s.send(msg, port, host);
  });
}
