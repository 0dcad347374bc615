import { describe, expect, it } from 'vitest';
import { parseEvent } from '../../../core/runtime/docker/events.ts';
import { pullErrorKind } from '../../../core/runtime/docker/images.ts';
import { dockerName, labelFilters, objectLabels, userLabelsOf } from '../../../core/runtime/docker/labels.ts';
import { LogDecoder } from '../../../core/runtime/docker/logs.ts';
import { rfc3339Ns, toStats } from '../../../core/runtime/docker/stats.ts';
import { LABEL, containerSpecHash, type ContainerConfig } from '../../../core/runtime/runtime.ts';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

describe('LogDecoder', () => {
  it('demultiplexes frames split anywhere, strips timestamps into `time`', () => {
    const d = new LogDecoder(false, true);
    const all = Buffer.concat([
      frame(1, '2024-05-01T10:00:00.123456789Z hello\n'),
      frame(2, '2024-05-01T10:00:01.000000001Z oops\n'),
      frame(1, '2024-05-01T10:00:02Z bye\n'),
    ]);
    const out = [];
    for (let i = 0; i < all.length; i += 5) out.push(...d.push(all.subarray(i, i + 5)));
    out.push(...d.end());
    expect(out).toEqual([
      { stream: 'stdout', line: 'hello', time: '2024-05-01T10:00:00.123456789Z' },
      { stream: 'stderr', line: 'oops', time: '2024-05-01T10:00:01.000000001Z' },
      { stream: 'stdout', line: 'bye', time: '2024-05-01T10:00:02Z' },
    ]);
  });

  it('stitches records Docker split at 16 KiB back into one line; flushes a last line without newline', () => {
    const d = new LogDecoder(false, false);
    const out = [
      ...d.push(frame(1, '2024-05-01T10:00:00Z part-a,')),
      ...d.push(frame(2, '2024-05-01T10:00:00Z err\n')),
      ...d.push(frame(1, '2024-05-01T10:00:00Z part-b\n')),
      ...d.push(frame(1, '2024-05-01T10:00:01Z tail')),
      ...d.end(),
    ];
    expect(out).toEqual([
      { stream: 'stderr', line: 'err' },
      { stream: 'stdout', line: 'part-a,part-b' },
      { stream: 'stdout', line: 'tail' },
    ]);
  });

  it('reads a TTY stream (raw, CRLF) as stdout', () => {
    const d = new LogDecoder(true, false);
    expect([...d.push(Buffer.from('2024-05-01T10:00:00Z one\r\n2024-05-01T10:00:00Z tw')), ...d.push(Buffer.from('o\r\n')), ...d.end()]).toEqual([
      { stream: 'stdout', line: 'one' },
      { stream: 'stdout', line: 'two' },
    ]);
  });
});

describe('parseEvent', () => {
  it('parses a die event: exit code, labels without Docker attributes, exact time', () => {
    const line =
      '{"status":"die","id":"abc","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"exitCode":"137","image":"busybox","name":"wh_x","io.wheelhouse.cluster":"c1","app":"web"}},"scope":"local","time":1714557600,"timeNano":1714557600123456789}';
    const ev = parseEvent(line)!;
    expect(ev.timeNano).toBe(1714557600123456789n);
    expect(ev.event).toEqual({ type: 'container', action: 'die', id: 'abc', labels: { 'io.wheelhouse.cluster': 'c1', app: 'web' }, exitCode: 137, time: new Date(1714557600123) });
  });

  it('splits `health_status: healthy` into action and detail; ignores junk', () => {
    const ev = parseEvent('{"Type":"container","Action":"health_status: healthy","Actor":{"ID":"x","Attributes":{}},"time":1,"timeNano":1000000001}')!;
    expect(ev.event).toMatchObject({ action: 'health_status', actionDetail: 'healthy' });
    expect(parseEvent('not json')).toBeUndefined();
    expect(parseEvent('{}')).toBeUndefined();
  });
});

describe('labels', () => {
  it('reserved keys win over caller labels; annotations get a prefix and come back', () => {
    const labels = objectLabels('container', { app: 'web', [LABEL.cluster]: 'spoofed' }, { 'example.com/x': 'y' }, { [LABEL.cluster]: 'real' });
    expect(labels).toEqual({ app: 'web', [`${LABEL.annotationPrefix}example.com/x`]: 'y', [LABEL.cluster]: 'real', [LABEL.type]: 'container' });
    expect(userLabelsOf(labels)).toEqual({ labels: { app: 'web' }, annotations: { 'example.com/x': 'y' } });
  });

  it('builds engine filters and readable, valid Docker names', () => {
    expect(labelFilters('sandbox', { cluster: 'c', node: 'n', labels: { app: 'a' } })).toEqual([
      'app=a',
      `${LABEL.type}=sandbox`,
      `${LABEL.cluster}=c`,
      `${LABEL.node}=n`,
    ]);
    const name = dockerName({ cluster: 'c1', node: 'node-1', namespace: 'default', podName: 'web.v1', podUid: 'u-1' }, 'POD', 2);
    expect(name).toBe('wh_c1_node-1_default_web.v1_POD_u-1_2');
    expect(dockerName({ cluster: 'c', node: 'n', namespace: 'ns', podName: 'p', podUid: 'u' }, 'we ird/name', 0)).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
  });

  it('the spec hash ignores attempt, labels, annotations and log path, but not what runs', () => {
    const base: ContainerConfig = { name: 'c', attempt: 0, image: 'nginx', env: [{ name: 'A', value: '1' }], mounts: [], resources: {}, securityContext: {}, labels: {}, annotations: {} };
    const h = containerSpecHash(base);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(containerSpecHash({ ...base, attempt: 3, labels: { x: 'y' }, annotations: { a: 'b' }, logPath: '/x' })).toBe(h);
    expect(containerSpecHash({ ...base, resources: {}, securityContext: {}, env: [{ value: '1', name: 'A' }] })).toBe(h); // key order
    expect(containerSpecHash({ ...base, image: 'nginx:2' })).not.toBe(h);
    expect(containerSpecHash({ ...base, env: [{ name: 'A', value: '2' }] })).not.toBe(h);
  });
});

describe('stats and pull errors', () => {
  it('computes CPU from two samples and the working set as usage minus inactive file', () => {
    const raw = {
      read: '2024-05-01T10:00:01.500000000Z',
      memory_stats: { usage: 100_000_000, stats: { total_inactive_file: 30_000_000, total_rss: 60_000_000 } },
      pids_stats: { current: 3 },
    } as never;
    const s = toStats(raw, { readNs: rfc3339Ns('2024-05-01T10:00:01.5Z'), cpuTotal: 2_000_000_000 }, { readNs: rfc3339Ns('2024-05-01T10:00:00.5Z'), cpuTotal: 1_500_000_000 });
    expect(s).toMatchObject({ cpuNanoCores: 500_000_000, cpuUsageCoreNanoSeconds: 2_000_000_000, memoryUsageBytes: 100_000_000, memoryWorkingSetBytes: 70_000_000, memoryRssBytes: 60_000_000, pids: 3 });
    expect(rfc3339Ns('2024-05-01T10:00:00.000000123Z') - rfc3339Ns('2024-05-01T10:00:00Z')).toBe(123n);
  });

  it('classifies the engine pull messages', () => {
    expect(pullErrorKind('Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.0.0.53:53: no such host')).toBe('Network');
    expect(pullErrorKind('pull access denied for nope, repository does not exist or may require \'docker login\'')).toBe('NotFound');
    expect(pullErrorKind('manifest for busybox:nope not found: manifest unknown: manifest unknown')).toBe('NotFound');
    expect(pullErrorKind('Head "https://ghcr.io/v2/x/manifests/1": unauthorized: authentication required')).toBe('Unauthorized');
    // Docker 20.10's words for a basic-auth registry without / with wrong credentials (seen in test/integration/agent/pull.test.ts).
    expect(pullErrorKind('Head "http://127.0.0.1:41029/v2/wh-pull/private/manifests/1": no basic auth credentials')).toBe('Unauthorized');
    expect(pullErrorKind('unauthorized')).toBe('Unauthorized');
  });
});
