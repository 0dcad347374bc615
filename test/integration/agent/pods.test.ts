import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../runtime/helpers.ts';
import { BUSYBOX, allRunning, isRunning, setup, type Env } from './helpers.ts';

describe('node agent on Docker: pods', () => {
  let env: Env;
  beforeAll(async () => {
    env = await setup('pods');
  });
  afterAll(() => env?.close());

  it('runs a pod whose two containers talk over localhost, with a hostPort on 127.0.0.1', async () => {
    const port = await freePort();
    await env.createPod('duo', {
      containers: [
        {
          name: 'web',
          image: BUSYBOX,
          command: ['sh', '-c', 'mkdir -p /www && echo "hello from $(POD_NAME)" > /www/index.html && exec httpd -f -p 8080 -h /www'],
          env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          ports: [{ containerPort: 8080, hostPort: port }],
        },
        { name: 'client', image: BUSYBOX, command: ['sleep', '3600'] },
      ],
    });
    const p = await env.waitPod('duo', allRunning, 'both running');
    expect(p.status.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    let got = '';
    for (let i = 0; i < 40 && !got.includes('hello'); i++) {
      got = (await env.exec('duo', 'client', ['wget', '-qO-', 'http://127.0.0.1:8080/'])).out;
      if (!got.includes('hello')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(got.trim()).toBe('hello from duo');
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect((await res.text()).trim()).toBe('hello from duo');
    const direct = await fetch(`http://${p.status.podIP}:8080/`);
    expect(direct.status).toBe(200);
  });

  it('backs off a crashing container into CrashLoopBackOff', async () => {
    await env.createPod('crash', { containers: [{ name: 'c', image: BUSYBOX, command: ['sh', '-c', 'echo dying; exit 3'] }] });
    const p = await env.waitPod('crash', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff', 'CrashLoopBackOff');
    const cs = p.status.containerStatuses[0];
    expect(cs.restartCount).toBeGreaterThanOrEqual(1);
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(cs.state.waiting.message).toMatch(/^back-off \d+(ms|s) restarting failed container=c pod=crash_default\(/);
    expect(p.status.phase).toBe('Running');
    const prev: string[] = [];
    for await (const l of await env.agent.logs('default', 'crash', 'c', { previous: true })) prev.push(l.line);
    expect(prev).toEqual(['dying']);
  });

  it('Job-style pods end Succeeded or Failed and keep their containers for logs', async () => {
    await env.createPod('job-ok', { restartPolicy: 'Never', containers: [{ name: 'c', image: BUSYBOX, command: ['sh', '-c', 'echo done'] }] });
    await env.createPod('job-bad', { restartPolicy: 'Never', containers: [{ name: 'c', image: BUSYBOX, command: ['sh', '-c', 'echo oops >&2; echo "bad input" > /dev/termination-log; exit 4'] }] });
    const ok = await env.waitPod('job-ok', (p) => p.status?.phase === 'Succeeded', 'Succeeded');
    expect(ok.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const bad = await env.waitPod('job-bad', (p) => p.status?.phase === 'Failed', 'Failed');
    expect(bad.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 4, reason: 'Error', message: 'bad input\n' });
    const lines: string[] = [];
    for await (const l of await env.agent.logs('default', 'job-ok', 'c')) lines.push(l.line);
    expect(lines).toEqual(['done']);
    const kept = await env.dockerContainers([`io.wheelhouse.pod.name=job-ok`, 'io.wheelhouse.type=container']);
    expect(kept.map((c) => c.State)).toEqual(['exited']);
  });

  it('reports a memory hog as OOMKilled', async () => {
    await env.createPod('hog', {
      restartPolicy: 'Never',
      containers: [{ name: 'c', image: BUSYBOX, command: ['sh', '-c', 'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done'], resources: { limits: { memory: '16Mi' } } }],
    });
    const p = await env.waitPod('hog', (p) => p.status?.phase === 'Failed', 'OOMKilled');
    expect(p.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
  });

  it('stops a deleted pod gracefully within its grace period, then removes it', async () => {
    await env.createPod('polite', {
      terminationGracePeriodSeconds: 10,
      containers: [{ name: 'c', image: BUSYBOX, command: ['sh', '-c', 'trap "echo got TERM; exit 0" TERM; while true; do sleep 0.1; done'] }],
    });
    await env.createPod('stubborn', {
      terminationGracePeriodSeconds: 2,
      containers: [{ name: 'c', image: BUSYBOX, command: ['sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done'] }],
    });
    await env.waitPod('polite', isRunning());
    await env.waitPod('stubborn', isRunning());
    const t0 = Date.now();
    await env.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'polite' });
    await env.waitGone('polite');
    const polite = Date.now() - t0;
    const t1 = Date.now();
    await env.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'stubborn' });
    await env.waitGone('stubborn');
    const stubborn = Date.now() - t1;
    // The trap exits at once; the one that ignores TERM is killed when its 2 s are up.
    expect(polite).toBeLessThan(2000);
    expect(stubborn).toBeGreaterThanOrEqual(1800);
    expect(stubborn).toBeLessThan(5000);
    expect(await env.dockerContainers(['io.wheelhouse.pod.name=polite'])).toEqual([]);
    expect((await env.events('polite')).some((e) => e.reason === 'Killing' && e.message === 'Stopping container c')).toBe(true);
  });
});
