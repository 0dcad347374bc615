import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKubectl, startHarness, type Harness } from './helpers.ts';
import { FakePodIO } from './fake-pod-io.ts';

const run = requireKubectl();

describe.runIf(run)('kubectl logs and exec (WebSocket v5.channel.k8s.io)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ podIO: new FakePodIO() });
    await h.api.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'box', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } });
    await h.api.bind('default', 'box', 'node-1');
    await h.api.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'duo', namespace: 'default' }, spec: { containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox' }] } });
    await h.api.bind('default', 'duo', 'node-1');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('streams logs with --tail and -c', async () => {
    const r = await h.kubectl(['logs', 'box', '--tail=2']);
    expect(r.stdout).toBe('default/box/main line 4\ndefault/box/main line 5\n');
    const b = await h.kubectl(['logs', 'duo', '-c', 'b', '--tail=1']);
    expect(b.stdout).toBe('default/duo/b line 5\n');
    const bad = await h.kubectl(['logs', 'duo', '-c', 'zzz']);
    expect(bad.stderr).toContain('container zzz is not valid for pod duo');
  });

  it('runs commands and passes exit codes and stdin', async () => {
    const r = await h.kubectl(['exec', 'box', '--', 'echo', 'hello', 'world']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hello world\n');
    const f = await h.kubectl(['exec', 'box', '--', 'fail']);
    expect(f.code).toBe(3);
    expect(f.stderr).toContain('it failed');
    const s = await h.kubectl(['exec', 'box', '--', 'sh', '-c', 'exit 7']);
    expect(s.code).toBe(7);
    const c = await h.kubectl(['exec', '-i', 'box', '--', 'cat'], { input: 'piped through\n' });
    expect(c.stdout).toBe('piped through\n');
  });
});
