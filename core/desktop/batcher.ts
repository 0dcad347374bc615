/**
 * Collects the pushed state of one renderer session — watch changes, log lines, pull progress —
 * and sends it in batches, at most one batch per `intervalMs` (260 ms: ≤ 4 UI updates a second
 * however much the cluster churns). Several changes to one object within a batch collapse into
 * its latest state; a delete after an add the renderer never saw still goes out as a delete
 * (harmless), so the renderer's view always ends up equal to the cluster's.
 *
 * The first change after a quiet spell goes out at once (next tick): a lone change is not
 * delayed, a burst is.
 */
import type { KubeObject } from '../api/types.ts';
import { BATCH_INTERVAL_MS, type DesktopEvents, type EventName, type ImagePullState, type LogEntry, type ObjectKey, type PodRef, type WatchChange } from '../desktop-api.ts';

type Sink = <E extends EventName>(event: E, payload: DesktopEvents[E]) => void;

interface PendingWatch {
  reset?: KubeObject[];
  /** key → latest object (upsert) or key (delete). */
  ops: Map<string, { upsert?: KubeObject; del?: ObjectKey }>;
}

/** Log lines held per stream between flushes; older lines are dropped beyond this. */
export const MAX_PENDING_LOG_LINES = 5_000;

export class Batcher {
  private readonly watches = new Map<string, PendingWatch>();
  private readonly logs = new Map<string, LogEntry[]>();
  private readonly pulls = new Map<string, PodRef & { images: ImagePullState[] }>();
  private timer?: NodeJS.Timeout;
  private lastFlush = 0;
  private closed = false;
  /** Batches sent so far, by event (tests, the bench). */
  readonly sent = { 'watch.batch': 0, 'logs.batch': 0, 'pull.update': 0 };

  constructor(
    private readonly sink: Sink,
    readonly intervalMs = BATCH_INTERVAL_MS,
  ) {}

  watchReset(watchId: string, items: KubeObject[]): void {
    this.watches.set(watchId, { reset: items, ops: new Map() });
    this.schedule();
  }

  watchUpsert(watchId: string, obj: KubeObject): void {
    this.pending(watchId).ops.set(keyOf(obj.metadata), { upsert: obj });
    this.schedule();
  }

  watchDelete(watchId: string, obj: KubeObject): void {
    const m = obj.metadata;
    this.pending(watchId).ops.set(keyOf(m), { del: { ...(m.namespace ? { namespace: m.namespace } : {}), name: m.name ?? '', ...(m.uid ? { uid: m.uid } : {}) } });
    this.schedule();
  }

  /** Forget pending changes of a closed watch. */
  dropWatch(watchId: string): void {
    this.watches.delete(watchId);
  }

  logLines(streamId: string, lines: LogEntry[]): void {
    let buf = this.logs.get(streamId);
    if (!buf) this.logs.set(streamId, (buf = []));
    buf.push(...lines);
    if (buf.length > MAX_PENDING_LOG_LINES) buf.splice(0, buf.length - MAX_PENDING_LOG_LINES);
    this.schedule();
  }

  dropLogs(streamId: string): void {
    this.logs.delete(streamId);
  }

  pull(ref: PodRef, images: ImagePullState[]): void {
    this.pulls.set(`${ref.namespace}/${ref.pod}`, { ...ref, images });
    this.schedule();
  }

  /** Sends everything pending now (then at most one batch per interval again). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    this.lastFlush = Date.now();
    if (this.watches.size) {
      const changes: WatchChange[] = [];
      for (const [watchId, p] of this.watches) {
        const upserts: KubeObject[] = [];
        const deletes: ObjectKey[] = [];
        for (const op of p.ops.values()) {
          if (op.upsert) upserts.push(op.upsert);
          else if (op.del) deletes.push(op.del);
        }
        changes.push({ watchId, ...(p.reset ? { reset: p.reset } : {}), upserts, deletes });
      }
      this.watches.clear();
      this.sent['watch.batch']++;
      this.sink('watch.batch', { changes });
    }
    if (this.logs.size) {
      const streams = [...this.logs].map(([streamId, lines]) => ({ streamId, lines }));
      this.logs.clear();
      this.sent['logs.batch']++;
      this.sink('logs.batch', { streams });
    }
    if (this.pulls.size) {
      const pods = [...this.pulls.values()];
      this.pulls.clear();
      this.sent['pull.update']++;
      this.sink('pull.update', { pods });
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.watches.clear();
    this.logs.clear();
    this.pulls.clear();
  }

  private pending(watchId: string): PendingWatch {
    let p = this.watches.get(watchId);
    if (!p) this.watches.set(watchId, (p = { ops: new Map() }));
    return p;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref?.();
  }
}

function keyOf(m: { namespace?: string; name?: string }): string {
  return `${m.namespace ?? ''}/${m.name ?? ''}`;
}
