/** `kubectl get pods` rows (the server-side Table) for pods with sidecar containers, as kubectl's printPod words them. */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../core/api/types.ts';
import { toTable } from '../../../core/server/http/table.ts';
import { podRow as desktopRow } from '../../../renderer/src/lib/pods.ts';

const now = Date.parse('2026-01-01T00:10:00Z');
const spec = {
  nodeName: 'n1',
  initContainers: [{ name: 'proxy', restartPolicy: 'Always' }, { name: 'setup' }],
  containers: [{ name: 'app' }],
};
const pod = (status: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec,
  status,
});
const initialized = (yes: boolean) => [{ type: 'Initialized', status: yes ? 'True' : 'False' }];
const running = { running: { startedAt: '2026-01-01T00:01:00Z' } };
const done = { terminated: { exitCode: 0, reason: 'Completed' } };
/** READY, STATUS, RESTARTS as kubectl prints them, and the desktop's READY and status. */
function row(p: KubeObject): [string, string, string, string, string] {
  const cells = toTable('Pod', [p], {}, 'None', now).rows[0]!.cells as string[];
  const d = desktopRow(p);
  return [cells[1]!, cells[2]!, cells[3]!, d.ready, d.status];
}

describe('pod table rows with sidecar containers', () => {
  it('counts sidecars in READY, and a started sidecar does not hold the pod in Init', () => {
    const p = pod({
      phase: 'Running',
      conditions: initialized(true),
      initContainerStatuses: [
        { name: 'proxy', started: true, ready: true, restartCount: 0, state: running },
        { name: 'setup', started: false, ready: true, restartCount: 0, state: done },
      ],
      containerStatuses: [{ name: 'app', started: true, ready: true, restartCount: 0, state: running }],
    });
    expect(row(p)).toEqual(['2/2', 'Running', '0', '2/2', 'Running']);
  });

  it('while an init container after the sidecar runs: Init:1/2 with the sidecar ready', () => {
    const p = pod({
      phase: 'Pending',
      conditions: initialized(false),
      initContainerStatuses: [
        { name: 'proxy', started: true, ready: true, restartCount: 0, state: running },
        { name: 'setup', started: true, ready: false, restartCount: 0, state: running },
      ],
      containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
    });
    expect(row(p)).toEqual(['1/2', 'Init:1/2', '0', '1/2', 'Init:1/2']);
  });

  it('a sidecar not started yet (startup probe) is Init:0/2', () => {
    const p = pod({
      phase: 'Pending',
      conditions: initialized(false),
      initContainerStatuses: [
        { name: 'proxy', started: false, ready: false, restartCount: 0, state: running },
        { name: 'setup', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } },
      ],
      containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
    });
    expect(row(p)).toEqual(['0/2', 'Init:0/2', '0', '0/2', 'Init:0/2']);
  });

  it("a crashing sidecar shows Init:CrashLoopBackOff, its restarts counted, the app's readiness kept", () => {
    const p = pod({
      phase: 'Running',
      conditions: initialized(true),
      initContainerStatuses: [
        {
          name: 'proxy',
          started: false,
          ready: false,
          restartCount: 3,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: '2026-01-01T00:09:00Z' } },
        },
        { name: 'setup', ready: true, restartCount: 0, state: done },
      ],
      containerStatuses: [{ name: 'app', started: true, ready: true, restartCount: 0, state: running }],
    });
    expect(row(p)).toEqual(['1/2', 'Init:CrashLoopBackOff', '3 (60s ago)', '1/2', 'Init:CrashLoopBackOff']);
  });

  it('a completed Job pod whose sidecar was stopped is Completed', () => {
    const p = pod({
      phase: 'Succeeded',
      conditions: [{ type: 'Initialized', status: 'True', reason: 'PodCompleted' }],
      initContainerStatuses: [
        { name: 'proxy', started: false, ready: false, restartCount: 0, state: { terminated: { exitCode: 143, reason: 'Error' } } },
        { name: 'setup', ready: true, restartCount: 0, state: done },
      ],
      containerStatuses: [{ name: 'app', started: false, ready: false, restartCount: 0, state: done }],
    });
    expect(row(p)).toEqual(['0/2', 'Completed', '0', '0/2', 'Completed']);
  });
});
