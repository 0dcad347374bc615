/**
 * logs.open / close / download: one pod's container, every container of a pod, or every pod of
 * a workload, read from the node agents (the runtime's log files). Lines of open streams go into
 * the session's batcher (≤ 4 batches a second), optionally filtered by a case-insensitive search;
 * `logs.end` says when every source has ended. Downloads are capped at 16 MiB of text.
 */
import type { KubeObject } from '../api/types.ts';
import { DesktopError, type LogEntry, type LogSource, type LogTarget, type LogsOpened } from '../desktop-api.ts';
import type { PodLogOptions } from '../agent/logs-exec.ts';
import type { HandlerMap } from './handler-types.ts';
import type { DesktopSession } from './host.ts';
import { podsOfWorkload } from './workload-pods.ts';

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

async function openSource(s: DesktopSession, namespace: string, src: LogSource, opts: PodLogOptions): Promise<AsyncIterable<{ stream: 'stdout' | 'stderr'; line: string; time?: string }>> {
  const agent = await s.cluster.agentForPod(namespace, src.pod);
  if (!agent) throw new DesktopError('Unavailable', `pod ${namespace}/${src.pod} is not running on a node of this app (not scheduled yet, or no container runtime)`);
  return agent.logs(namespace, src.pod, src.container, opts);
}

export const logHandlers: HandlerMap<'logs.open' | 'logs.close' | 'logs.download'> = {
  async 'logs.open'(s, a) {
    const sources = await sourcesOf(s, a);
    const abort = new AbortController();
    const streamId = s.track('logStreams', 'l', () => {
      abort.abort();
      s.batch.dropLogs(streamId);
    });
    const needle = a.search?.toLowerCase();
    const opened: LogsOpened = { streamId, sources: [], errors: [] };
    const readers: Promise<void>[] = [];
    const opts: PodLogOptions = {
      follow: a.follow,
      ...(a.tailLines !== undefined ? { tailLines: a.tailLines } : {}),
      ...(a.sinceSeconds !== undefined ? { sinceSeconds: a.sinceSeconds } : {}),
      ...(a.previous ? { previous: true } : {}),
      timestamps: a.timestamps ?? true,
      signal: abort.signal,
    };
    const errors: string[] = [];
    for (const src of sources) {
      try {
        const it = await openSource(s, a.namespace, src, opts);
        opened.sources.push(src);
        readers.push(
          (async () => {
            for await (const l of it) {
              if (abort.signal.aborted) break;
              if (needle && !l.line.toLowerCase().includes(needle)) continue;
              const entry: LogEntry = { pod: src.pod, container: src.container, stream: l.stream, line: l.line, ...(l.time ? { time: l.time } : {}) };
              s.batch.logLines(streamId, [entry]);
            }
          })().catch((e) => {
            if (!abort.signal.aborted) errors.push(`${src.pod}/${src.container}: ${(e as Error).message}`);
          }),
        );
      } catch (e) {
        opened.errors.push({ ...src, message: (e as Error).message });
      }
    }
    void Promise.all(readers).then(() => {
      if (!s.has(streamId, 'logStreams')) return;
      s.forgetResource(streamId);
      s.batch.flush();
      s.emit('logs.end', { streamId, ...(errors.length ? { error: errors.join('; ') } : {}) });
    });
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
