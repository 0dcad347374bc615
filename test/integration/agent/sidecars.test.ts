import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX, setup, type Env } from './helpers.ts';

const init = (p: any, i = 0) => p.status?.initContainerStatuses?.[i];
const main = (p: any, i = 0) => p.status?.containerStatuses?.[i];
/** A shell that ends cleanly on SIGTERM (a shell as PID 1 otherwise ignores it), after `onTerm`; `wait` lets the trap run at once. */
const untilTerm = (script: string, onTerm = '') => ['sh', '-c', `trap '${onTerm}exit 0' TERM; ${script} while true; do sleep 1 & wait $!; done`];

describe('node agent on Docker: sidecar containers', () => {
  let env: Env;
  beforeAll(async () => {
    env = await setup('sidecars');
  });
  afterAll(() => env?.close());

  it('a Job pod: the sidecar serves the init container and the app, then is stopped when the app succeeds', async () => {
    await env.createPod('job', {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 5,
      volumes: [{ name: 'shared', emptyDir: {} }],
      initContainers: [
        {
          name: 'server',
          image: BUSYBOX,
          restartPolicy: 'Always',
          command: untilTerm('mkdir -p /www && echo from-sidecar > /www/x && httpd -p 8081 -h /www;'),
          startupProbe: { exec: { command: ['wget', '-qO-', 'http://127.0.0.1:8081/x'] }, periodSeconds: 1, failureThreshold: 30 },
        },
        { name: 'fetch', image: BUSYBOX, command: ['sh', '-c', 'wget -qO- http://127.0.0.1:8081/x > /shared/got'], volumeMounts: [{ name: 'shared', mountPath: '/shared' }] },
      ],
      containers: [{ name: 'app', image: BUSYBOX, command: ['sh', '-c', 'cat /shared/got; wget -qO- http://127.0.0.1:8081/x'], volumeMounts: [{ name: 'shared', mountPath: '/shared' }] }],
    });
    const p = await env.waitPod('job', (p) => p.status?.phase === 'Succeeded', 'Succeeded', 60_000);
    expect(main(p).state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(init(p, 1).state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(init(p, 0).state.terminated).toBeTruthy();
    const lines: string[] = [];
    for await (const l of await env.agent.logs('default', 'job', 'app')) lines.push(l.line);
    expect(lines).toEqual(['from-sidecar', 'from-sidecar']);
    const running = await env.dockerContainers(['io.wheelhouse.pod.name=job']);
    expect(running.filter((c) => c.State === 'running')).toEqual([]);
  });

  it('restarts an exiting sidecar in a restartPolicy Never pod; the pod keeps running', async () => {
    await env.createPod('flaky', {
      restartPolicy: 'Never',
      initContainers: [{ name: 'side', image: BUSYBOX, restartPolicy: 'Always', command: ['sh', '-c', 'sleep 1; exit 1'] }],
      containers: [{ name: 'app', image: BUSYBOX, command: ['sleep', '3600'] }],
    });
    const p = await env.waitPod('flaky', (p) => init(p)?.restartCount >= 2, 'sidecar restarted twice', 60_000);
    expect(p.status.phase).toBe('Running');
    expect(main(p).restartCount).toBe(0);
    expect(main(p).state.running).toBeTruthy();
  });

  it('deleting the pod stops the app first, then the sidecars in reverse order', async () => {
    const dir = join(env.dataDir, 'order');
    await mkdir(dir, { recursive: true });
    const mount = [{ name: 'log', mountPath: '/log' }];
    const container = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      image: BUSYBOX,
      command: untilTerm('', `echo ${name} >> /log/stopped; `),
      volumeMounts: mount,
      ...extra,
    });
    await env.createPod('order', {
      terminationGracePeriodSeconds: 10,
      volumes: [{ name: 'log', hostPath: { path: dir } }],
      initContainers: [container('first', { restartPolicy: 'Always' }), container('second', { restartPolicy: 'Always' })],
      containers: [container('app')],
    });
    await env.waitPod('order', (p) => p.status?.phase === 'Running' && main(p)?.state?.running, 'running', 60_000);
    await env.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'order' });
    await env.waitGone('order', 60_000);
    expect((await readFile(join(dir, 'stopped'), 'utf8')).trim().split('\n')).toEqual(['app', 'second', 'first']);
  });
});
