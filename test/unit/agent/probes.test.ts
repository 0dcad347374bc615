import { createServer as createHttp2Server } from 'node:http2';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeResponse, encodeRequest, grpcHealthCheck } from '../../../core/agent/grpc-health.ts';
import { runProbe } from '../../../core/agent/probe-runners.ts';
import { ProbeManager } from '../../../core/agent/probes.ts';
import { FakeRuntime } from '../../../core/runtime/fake-runtime.ts';
import { IMAGE, harness, running, until, type Harness } from './harness.ts';

function listen(server: Server | ReturnType<typeof createNetServer> | ReturnType<typeof createHttp2Server>): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

describe('probe runners', () => {
  const rt = new FakeRuntime();
  const c = { name: 'c', ports: [{ name: 'http', containerPort: 1 }] };

  it('httpGet: 2xx/3xx succeed, others fail with the kubelet message; refused connections are named', async () => {
    const srv = createHttpServer((req, res) => {
      expect(req.headers['user-agent']).toBe('kube-probe/1.30');
      res.statusCode = req.url === '/bad' ? 500 : 200;
      res.end();
    });
    const port = await listen(srv);
    const t = { runtime: rt, containerId: 'x', container: c, podIP: '127.0.0.1' };
    expect(await runProbe({ httpGet: { path: '/ok', port } }, t)).toEqual({ result: 'success', output: '' });
    expect(await runProbe({ httpGet: { path: '/bad', port } }, t)).toEqual({ result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
    srv.close();
    const closed = await runProbe({ httpGet: { path: '/', port } }, t);
    expect(closed.output).toBe(`Get "http://127.0.0.1:${port}/": dial tcp 127.0.0.1:${port}: connect: connection refused`);
  });

  it('httpGet on a bare socket: the request as the kubelet sends it, headers, redirects, odd answers, timeouts', async () => {
    const seen: Array<{ url?: string; host?: string; conn?: string; custom?: string | string[] }> = [];
    const srv = createHttpServer((req, res) => {
      seen.push({ url: req.url, host: req.headers.host, conn: req.headers.connection, custom: req.headers['x-custom'] });
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/elsewhere' });
        return res.end();
      }
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end('body that is not read');
    });
    const port = await listen(srv);
    const t = { runtime: rt, containerId: 'x', container: c, podIP: '127.0.0.1' };
    const ok = { result: 'success', output: '' };
    expect(await runProbe({ httpGet: { path: '/a?b=c', port, httpHeaders: [{ name: 'X-Custom', value: 'v 1' }] } }, t)).toEqual(ok);
    expect(seen.at(-1)).toEqual({ url: '/a?b=c', host: `127.0.0.1:${port}`, conn: 'close', custom: 'v 1' });
    expect(await runProbe({ httpGet: { path: 'noslash', port, httpHeaders: [{ name: 'Host', value: 'example.test' }] } }, t)).toEqual(ok);
    expect(seen.at(-1)).toMatchObject({ url: '/noslash', host: 'example.test' });
    expect(await runProbe({ httpGet: { path: '/moved', port } }, t)).toEqual(ok);
    expect(await runProbe({ httpGet: { path: '/missing', port } }, t)).toEqual({ result: 'failure', output: 'HTTP probe failed with statuscode: 404' });
    // A path that needs escaping goes through Node's client, and still reaches the server.
    expect(await runProbe({ httpGet: { path: '/with space', port } }, t)).toEqual(ok);
    expect(seen.at(-1)?.url).toBe('/with%20space');
    srv.close();

    const servers: Array<ReturnType<typeof createNetServer>> = [];
    const raw = (answer: (s: import('node:net').Socket) => void) => {
      // Probes reset their connections when done: the server sees ECONNRESET, as busybox httpd would.
      const server = createNetServer((s) => {
        s.on('error', () => {});
        answer(s);
      });
      servers.push(server);
      return listen(server);
    };
    const garbage = await raw((s) => s.once('data', () => s.end('SSH-2.0-OpenSSH\r\n')));
    expect(await runProbe({ httpGet: { path: '/', port: garbage } }, t)).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${garbage}/": net/http: HTTP/1.x transport connection broken: malformed HTTP response "SSH-2.0-OpenSSH"`,
    });
    const hangsUp = await raw((s) => s.once('data', () => s.end()));
    expect(await runProbe({ httpGet: { path: '/', port: hangsUp } }, t)).toEqual({ result: 'failure', output: `Get "http://127.0.0.1:${hangsUp}/": EOF` });
    const split = await raw((s) => s.once('data', () => {
      s.write('HTTP/1.0 2');
      setTimeout(() => s.end('04 No Content\r\n\r\n'), 20);
    }));
    expect(await runProbe({ httpGet: { path: '/', port: split } }, t)).toEqual(ok);
    const silent = await raw(() => {});
    const t0 = Date.now();
    expect(await runProbe({ httpGet: { path: '/', port: silent }, timeoutSeconds: 1 }, t)).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${silent}/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    for (const server of servers) server.close();
  });

  it('tcpSocket', async () => {
    const srv = createNetServer((s) => s.on('error', () => {}).end());
    const port = await listen(srv);
    const t = { runtime: rt, containerId: 'x', container: c, podIP: '127.0.0.1' };
    expect((await runProbe({ tcpSocket: { port } }, t)).result).toBe('success');
    srv.close();
    expect(await runProbe({ tcpSocket: { port } }, t)).toEqual({ result: 'failure', output: `dial tcp 127.0.0.1:${port}: connect: connection refused` });
  });

  it('closes its connections with a reset (no TIME-WAIT left behind), as the kubelet does', async () => {
    // How each connection ended, seen from the server: a reset is ECONNRESET, an orderly close 'end'.
    const ends: string[] = [];
    const watch = (s: import('node:net').Socket) => {
      s.on('error', (e: NodeJS.ErrnoException) => ends.push(e.code ?? 'error'));
      s.on('end', () => ends.push('end'));
      s.resume();
    };
    const tcp = createNetServer((s) => watch(s));
    const http = createNetServer((s) => {
      watch(s);
      s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    });
    const t = { runtime: rt, containerId: 'x', container: c, podIP: '127.0.0.1' };
    const tcpPort = await listen(tcp);
    const httpPort = await listen(http);
    expect((await runProbe({ tcpSocket: { port: tcpPort } }, t)).result).toBe('success');
    expect((await runProbe({ httpGet: { port: httpPort, path: '/' } }, t)).result).toBe('success');
    await until('both connections ended', () => ends.length >= 2);
    expect(ends).toEqual(['ECONNRESET', 'ECONNRESET']);
    tcp.close();
    http.close();
  });

  it('grpc health check over http2 with hand-encoded protobuf', async () => {
    expect(decodeResponse(Buffer.from([0, 0, 0, 0, 2, 0x08, 0x01]))).toBe(1);
    expect(encodeRequest('svc')).toEqual(Buffer.from([0, 0, 0, 0, 5, 0x0a, 3, 0x73, 0x76, 0x63]));
    let status = 1;
    const srv = createHttp2Server();
    srv.on('stream', (stream, headers) => {
      expect(headers[':path']).toBe('/grpc.health.v1.Health/Check');
      stream.on('data', () => {});
      stream.on('end', () => {
        if (status < 0) {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unknown service' }, { endStream: true });
          return;
        }
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.from([0, 0, 0, 0, 2, 0x08, status]));
      });
    });
    const port = await listen(srv);
    expect(await grpcHealthCheck('127.0.0.1', port, '', 1000)).toEqual({ result: 'success', output: '' });
    status = 2;
    expect(await grpcHealthCheck('127.0.0.1', port, '', 1000)).toEqual({ result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
    status = -1;
    expect(await grpcHealthCheck('127.0.0.1', port, '', 1000)).toEqual({ result: 'failure', output: 'rpc error: code = Unimplemented desc = unknown service' });
    srv.close();
  });
});

describe('node agent: probes (fake runtime)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    await h.agent.start();
  });
  afterEach(() => h.close());

  it('restarts a container whose liveness probe fails, with Unhealthy and Killing events', async () => {
    let healthy = false;
    h.runtime.setExecHandler(() => (healthy ? { exitCode: 0 } : { exitCode: 1, stdout: 'not ok' }));
    await h.createPod('live', {
      containers: [{ name: 'c', image: IMAGE, livenessProbe: { exec: { command: ['check'] }, periodSeconds: 1, failureThreshold: 2 } }],
    });
    const p = await h.waitPod('live', (p) => p.status?.containerStatuses?.[0]?.restartCount === 1, 'restart after liveness failure', 6000);
    healthy = true;
    const events = (await h.events('live')).map((e) => `${e.type} ${e.reason}: ${e.message}`);
    expect(events).toContain('Warning Unhealthy: Liveness probe failed: not ok');
    expect(events).toContain('Normal Killing: Container c failed liveness probe, will be restarted');
    expect(p.status.containerStatuses[0].lastState.terminated).toBeTruthy();
  });

  it('does not restart a container its liveness probe keeps killing in a tight loop', async () => {
    h.runtime.setExecHandler(() => ({ exitCode: 1 }));
    await h.createPod('dying', {
      containers: [{ name: 'c', image: IMAGE, livenessProbe: { exec: { command: ['check'] }, periodSeconds: 1, failureThreshold: 1 } }],
    });
    await h.waitPod('dying', (p) => p.status?.containerStatuses?.[0]?.restartCount >= 1, 'first restart', 5000);
    // The kubelet probes a new instance at once, so without a back-off this loops (it did: ~370
    // restarts in 3 s). From the second restart on a CrashLoopBackOff (200-800 ms in this
    // harness) spaces them: a handful in 3 s.
    await new Promise((r) => setTimeout(r, 3000));
    const p = await h.pod('dying');
    expect(p.status.containerStatuses[0].restartCount).toBeLessThanOrEqual(12);
    const backoffs = (await h.events('dying')).filter((e: any) => e.reason === 'BackOff');
    expect(backoffs.length).toBeGreaterThan(0);
  });

  it('gates Ready on the readiness probe', async () => {
    let ready = false;
    h.runtime.setExecHandler(() => ({ exitCode: ready ? 0 : 1 }));
    await h.createPod('ready', { containers: [{ name: 'c', image: IMAGE, readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 1 } }] });
    let p = await h.waitPod('ready', running());
    expect(p.status.containerStatuses[0].ready).toBe(false);
    expect(p.status.conditions.find((c: any) => c.type === 'Ready').status).toBe('False');
    ready = true;
    p = await h.waitPod('ready', (p) => p.status.conditions.find((c: any) => c.type === 'Ready').status === 'True', 'Ready', 4000);
    expect(p.status.containerStatuses[0].ready).toBe(true);
    ready = false;
    await h.waitPod('ready', (p) => p.status.conditions.find((c: any) => c.type === 'Ready').status === 'False', 'not Ready', 6000);
  });

  it('holds liveness and readiness until the startup probe succeeds', async () => {
    let started = false;
    const calls: string[] = [];
    h.runtime.setExecHandler((_id, cmd) => {
      calls.push(cmd[0]!);
      if (cmd[0] === 'startup') return { exitCode: started ? 0 : 1 };
      return { exitCode: 0 };
    });
    await h.createPod('startup', {
      containers: [
        {
          name: 'c',
          image: IMAGE,
          startupProbe: { exec: { command: ['startup'] }, periodSeconds: 1, failureThreshold: 30 },
          livenessProbe: { exec: { command: ['live'] }, periodSeconds: 1 },
        },
      ],
    });
    let p = await h.waitPod('startup', running());
    expect(p.status.containerStatuses[0].started).toBe(false);
    await until('a startup probe ran', () => calls.includes('startup'));
    expect(calls).not.toContain('live');
    started = true;
    p = await h.waitPod('startup', (p) => p.status.containerStatuses[0].started === true, 'started', 4000);
    expect(p.status.containerStatuses[0].ready).toBe(true);
  });
});

describe('probe scheduling', () => {
  it('runs first probes at once and gathers periodic runs into shared slots, late by under a tenth of the period', async () => {
    const runs: Array<{ id: string; at: number }> = [];
    const runtime = {
      execSync: async (id: string) => {
        runs.push({ id, at: Date.now() });
        return { exitCode: 0, stdout: '', stderr: '' };
      },
    };
    const changed: string[] = [];
    const pm = new ProbeManager({ runtime, recorder: { event() {} } } as any, (uid) => changed.push(uid));
    const probe = { exec: { command: ['true'] }, periodSeconds: 1 };
    const t0 = Date.now();
    const started = new Map<string, number>();
    for (let i = 0; i < 5; i++) {
      // Containers started at scattered times, as they do.
      await new Promise((r) => setTimeout(r, 37));
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace: 'default', uid: `u${i}` }, spec: { containers: [] } } as any;
      started.set(`c${i}`, Date.now());
      pm.sync(pod, '10.0.0.1', [{ id: `c${i}`, kind: 'regular', startedAt: Date.now(), spec: { name: 'c', image: 'x', readinessProbe: probe } }]);
    }
    await new Promise((r) => setTimeout(r, 3_300));
    expect(pm.pendingSlots).toBeGreaterThan(0);
    pm.stop();
    expect(pm.pendingSlots).toBe(0);
    // The first run of each container at once (its readiness is not held up).
    for (const [id, at] of started) expect(runs.find((r) => r.id === id)!.at - at).toBeLessThan(100);
    expect(new Set(changed)).toEqual(new Set(['u0', 'u1', 'u2', 'u3', 'u4']));
    // Later runs share slots: the five containers, started within 150 ms, run in at most three
    // timer callbacks per period (runs of one callback are a few ms apart at most).
    const later = runs.filter((r) => r.at - started.get(r.id)! > 500).sort((a, b) => a.at - b.at);
    expect(later.length).toBeGreaterThanOrEqual(10);
    let callbacks = 0;
    for (let i = 0; i < later.length; i++) if (i === 0 || later[i]!.at - later[i - 1]!.at > 20) callbacks++;
    expect(callbacks).toBeLessThan(later.length / 1.5);
    // Each container still runs once a period (a ticker: due a period after the last was due;
    // timer lateness on a busy machine shifts single runs, not the rate).
    for (const id of started.keys()) {
      const at = runs.filter((r) => r.id === id).map((r) => r.at);
      expect(at.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < at.length; i++) {
        expect(at[i]! - at[i - 1]!).toBeGreaterThan(850);
        expect(at[i]! - at[i - 1]!).toBeLessThan(1_300);
      }
      expect((at.at(-1)! - at[1]!) / Math.max(1, at.length - 2)).toBeLessThan(1_060);
    }
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
