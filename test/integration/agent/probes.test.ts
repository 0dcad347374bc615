import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX, isRunning, setup, type Env } from './helpers.ts';

const readyCond = (p: any) => p.status?.conditions?.find((c: any) => c.type === 'Ready');

describe('node agent on Docker: probes', () => {
  let env: Env;
  beforeAll(async () => {
    env = await setup('probes');
  });
  afterAll(() => env?.close());

  it('restarts a container whose liveness probe fails (httpGet to the pod IP)', async () => {
    await env.createPod('live', {
      // httpd as PID 1 ignores SIGTERM: a short grace period keeps the restart quick.
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'web',
          image: BUSYBOX,
          command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'],
          livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 2 },
        },
      ],
    });
    const p = await env.waitPod('live', (p) => p.status?.containerStatuses?.[0]?.restartCount >= 1, 'restarted by liveness');
    expect(p.status.containerStatuses[0].lastState.terminated).toBeTruthy();
    const events = (await env.events('live')).map((e) => `${e.reason}: ${e.message}`);
    expect(events).toContain('Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 404');
    expect(events).toContain('Killing: Container web failed liveness probe, will be restarted');
  });

  it('gates Ready on the readiness probe (exec)', async () => {
    await env.createPod('ready', {
      containers: [{ name: 'c', image: BUSYBOX, command: ['sleep', '3600'], readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1 } }],
    });
    let p = await env.waitPod('ready', isRunning());
    expect(readyCond(p).status).toBe('False');
    await new Promise((r) => setTimeout(r, 1200));
    p = await env.pod('ready');
    expect(readyCond(p)).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    await env.exec('ready', 'c', ['touch', '/tmp/ready']);
    p = await env.waitPod('ready', (p) => readyCond(p)?.status === 'True', 'Ready');
    expect(p.status.containerStatuses[0].ready).toBe(true);
  });

  it('tcpSocket readiness', async () => {
    await env.createPod('tcp', {
      containers: [{ name: 'c', image: BUSYBOX, command: ['sh', '-c', 'sleep 1; exec httpd -f -p 9000'], readinessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 1 } }],
    });
    await env.waitPod('tcp', (p) => readyCond(p)?.status === 'True', 'Ready by tcpSocket');
  });
});
