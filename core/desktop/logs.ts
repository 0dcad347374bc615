/**
 * logs.open / close / download: one pod's container, every container of a pod, or every pod of
 * a workload, read from the node agents (the runtime's log files). Lines of open streams go into
 * the session's batcher (≤ 4 batches a second), optionally filtered by a case-insensitive search;
 * `logs.end` says when every source has ended. A followed workload's stream also reads the pods
 * the workload gets later (a rollout, a scale-up) and ends only when closed. Downloads are capped
 * at 16 MiB of text.
 */
import type { KubeObject } from '../api/types.ts';
import { DesktopError, type LogEntry, type LogSource, type LogTarget, type LogsOpenArgs, type LogsOpened } from '../desktop-api.ts';
import type { PodLogOptions } from '../agent/logs-exec.ts';
import type { HandlerMap } from './handler-types.ts';
import type { DesktopSession } from './host.ts';
import { controllerUid, ownersOfWorkload, podsOfWorkload } from './workload-pods.ts';

export const MAX_DOWNLOAD_BYTES = 16 * 1024 * 1024;
const MAX_SOURCES = 64;

async function sourcesOf(s: DesktopSession, t: LogTarget): Promise<LogSource[]> {
  let pods: KubeObject[];
  if (t.pod && t.workload) throw new DesktopError('BadRequest', 'args: give either pod or workload, not both', { field: 'args.pod' });
  if (t.pod) pods = [await s.client.get<KubeObject>({ apiVersion: 'v1', kind: 'Pod', namespace: t.namespace, name: t.pod })];
  // A workload's current pods: those being replaced (terminating) are left out.
  else if (t.workload) pods = (await podsOfWorkload(s.client, t.workload.kind, t.namespace, t.workload.name)).filter((p) => !p.metadata.deletionTimestamp);
  else throw new DesktopError('BadRequest', 'args: give a pod or a workload', { field: 'args.pod' });
  const out: LogSource[] = [];
  for (const p of pods) {
    const names: string[] = (p.spec?.containers ?? []).map((c: { name: string }) => c.name);
    const all = [...(p.spec?.initContainers ?? []).map((c: { name: string }) => c.name), ...names];
    if (t.container) {
      if (all.includes(t.container)) out.push({ pod: p.metadata.name!, container: t.container });
      else if (t.pod) throw new DesktopError('BadRequest', `container ${t.container} is not valid for pod ${t.pod}`, { field: 'args.container' });
    } else for (const c of names) out.push({ pod: p.metadata.name!, container: c });
  }
  if (out.length > MAX_SOURCES) throw new DesktopError('BadRequest', `too many containers to follow at once (${out.length}, at most ${MAX_SOURCES}): pick a pod or a container`);
  return out;
}

/**
 * Follows the pods a workload gets after its logs were opened: each container of a pod that the
 * workload controls (through its ReplicaSets or Jobs, new ones included) is read from its start
 * once it has started. Returns the stop function.
 */
function followNewPods(s: DesktopSession, a: LogsOpenArgs, followed: Set<string>, read: (src: LogSource) => Promise<void>): () => void {
  const w = a.workload!;
  let owners = new Set<string>();
  const strangers = new Set<string>();
  const pending = new Set<string>();
  let stopped = false;
  const consider = async (pod: KubeObject & { status?: { containerStatuses?: Array<{ name: string; state?: { running?: unknown; terminated?: unknown } }> } }) => {
    const owner = controllerUid(pod);
    if (pod.metadata.deletionTimestamp || !owner || strangers.has(owner)) return;
    if (!owners.has(owner)) {
      // A controller not seen yet: the workload's new ReplicaSet or Job, or another workload's.
      owners = await ownersOfWorkload(s.client, w.kind, a.namespace, w.name);
      if (!owners.has(owner)) {
        strangers.add(owner);
        return;
      }
    }
    for (const cs of pod.status?.containerStatuses ?? []) {
      const key = `${pod.metadata.name}/${cs.name}`;
      if (a.container && cs.name !== a.container) continue;
      if (followed.has(key) || pending.has(key) || !(cs.state?.running || cs.state?.terminated)) continue;
      pending.add(key);
      await read({ pod: pod.metadata.name!, container: cs.name })
        .catch(() => {})
        .finally(() => pending.delete(key));
    }
  };
  let queue = Promise.resolve();
  const handle = s.client.watch({ apiVersion: 'v1', kind: 'Pod', namespace: a.namespace }, { namespace: a.namespace }, (ev) => {
    if (stopped || (ev.type !== 'ADDED' && ev.type !== 'MODIFIED')) return;
    queue = queue.then(() => (stopped ? undefined : consider(ev.object as KubeObject))).catch(() => {});
  });
  // Pods that started between the first list and this watch.
  queue = queue.then(async () => {
    owners = await ownersOfWorkload(s.client, w.kind, a.namespace, w.name);
    for (const p of (await s.client.list<KubeObject>({ apiVersion: 'v1', kind: 'Pod', namespace: a.namespace })).items) if (!stopped) await consider(p);
  }).catch(() => {});
  return () => {
    stopped = true;
    handle.close();
  };
}

async function openSource(s: DesktopSession, namespace: string, src: LogSource, opts: PodLogOptions): Promise<AsyncIterable<{ stream: 'stdout' | 'stderr'; line: string; time?: string }>> {
  const agent = await s.cluster.agentForPod(namespace, src.pod);
  if (!agent) throw new DesktopError('Unavailable', `pod ${namespace}/${src.pod} is not running on a node of this app (not scheduled yet, or no container runtime)`);
  return agent.logs(namespace, src.pod, src.container, opts);
}

export const logHandlers: HandlerMap<'logs.open' | 'logs.close' | 'logs.download'> = {
  async 'logs.open'(s, a) {
    const sources = await sourcesOf(s, a);
    const abort = new AbortController();
    const stopFollowing: Array<() => void> = [];
    const streamId = s.track('logStreams', 'l', () => {
      abort.abort();
      for (const stop of stopFollowing) stop();
      s.batch.dropLogs(streamId);
    });
    const needle = a.search?.toLowerCase();
    const opened: LogsOpened = { streamId, sources: [], errors: [] };
    const opts: PodLogOptions = {
      follow: a.follow,
      ...(a.tailLines !== undefined ? { tailLines: a.tailLines } : {}),
      ...(a.sinceSeconds !== undefined ? { sinceSeconds: a.sinceSeconds } : {}),
      ...(a.previous ? { previous: true } : {}),
      timestamps: a.timestamps ?? true,
      signal: abort.signal,
    };
    const errors: string[] = [];
    const followed = new Set<string>();
    let reading = 0;
    // A followed workload's stream stays open for the pods it gets later (a rollout, a scale-up,
    // a replaced pod): it ends only when closed.
    const followWorkload = !!(a.workload && a.follow && !a.previous);
    const ended = () => {
      if (reading > 0 || followWorkload || !s.has(streamId, 'logStreams')) return;
      s.forgetResource(streamId);
      s.batch.flush();
      s.emit('logs.end', { streamId, ...(errors.length ? { error: errors.join('; ') } : {}) });
    };
    const read = async (src: LogSource, sourceOpts: PodLogOptions): Promise<void> => {
      const it = await openSource(s, a.namespace, src, sourceOpts);
      followed.add(`${src.pod}/${src.container}`);
      reading++;
      void (async () => {
        for await (const l of it) {
          if (abort.signal.aborted) break;
          if (needle && !l.line.toLowerCase().includes(needle)) continue;
          const entry: LogEntry = { pod: src.pod, container: src.container, stream: l.stream, line: l.line, ...(l.time ? { time: l.time } : {}) };
          s.batch.logLines(streamId, [entry]);
        }
      })()
        .catch((e) => {
          if (!abort.signal.aborted) errors.push(`${src.pod}/${src.container}: ${(e as Error).message}`);
        })
        .finally(() => {
          reading--;
          ended();
        });
    };
    for (const src of sources) {
      try {
        await read(src, opts);
        opened.sources.push(src);
      } catch (e) {
        opened.errors.push({ ...src, message: (e as Error).message });
      }
    }
    if (followWorkload) stopFollowing.push(followNewPods(s, a, followed, (src) => read(src, { ...opts, tailLines: undefined, sinceSeconds: undefined })));
    // After the handler's answer has gone, so that the renderer knows the stream id before its end.
    setImmediate(ended);
    return opened;
  },

  async 'logs.close'(s, a) {
    s.release(a.streamId, 'logStreams');
    return null;
  },

  async 'logs.download'(s, a) {
    const sources = await sourcesOf(s, a);
    const many = sources.length > 1 || !!a.workload;
    const needle = a.search?.toLowerCase();
    const parts: string[] = [];
    let size = 0;
    let truncated = false;
    outer: for (const src of sources) {
      let it;
      try {
        it = await openSource(s, a.namespace, src, { follow: false, timestamps: a.timestamps ?? false, ...(a.previous ? { previous: true } : {}) });
      } catch (e) {
        if (!many) throw e;
        parts.push(`[${src.pod}/${src.container}] (no logs: ${(e as Error).message})\n`);
        continue;
      }
      for await (const l of it) {
        if (needle && !l.line.toLowerCase().includes(needle)) continue;
        const text = `${many ? `[${src.pod}/${src.container}] ` : ''}${l.time && a.timestamps ? `${l.time} ` : ''}${l.line}\n`;
        size += Buffer.byteLength(text);
        if (size > MAX_DOWNLOAD_BYTES) {
          truncated = true;
          break outer;
        }
        parts.push(text);
      }
    }
    const base = a.pod ?? `${a.workload!.kind.toLowerCase()}-${a.workload!.name}`;
    const fileName = `${a.namespace}_${base}${a.container ? `_${a.container}` : ''}${a.previous ? '_previous' : ''}.log`;
    return { fileName, text: parts.join(''), truncated };
  },
};
