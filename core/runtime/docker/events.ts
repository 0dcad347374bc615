/**
 * The engine's event stream, parsed, with reconnection: when the stream breaks (engine restart,
 * socket gone) it is dialled again with backoff, asking for events `since` the last one seen, so
 * a short break loses nothing the engine still remembers. After an engine restart the agent
 * should relist (see onAvailabilityChange): events from before the restart are gone.
 */
import type { Readable } from 'node:stream';
import { log } from '../../log.ts';
import type { EventFilter, EventType, Labels, RuntimeEvent } from '../runtime.ts';
import type { Engine } from './engine.ts';
import { labelFilters } from './labels.ts';

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

/** Attribute keys that are not labels, per event type. */
const NOT_LABELS: Record<string, Set<string>> = {
  container: new Set(['image', 'name', 'exitCode', 'signal', 'execID', 'health_status']),
  network: new Set(['container', 'name', 'type']),
  volume: new Set(['driver', 'container', 'destination', 'propagation', 'read/write']),
  image: new Set(['name']),
};

export function subscribeEvents(engine: Engine, onEvent: (e: RuntimeEvent) => void, filter: EventFilter = {}): () => void {
  let stopped = false;
  let stream: Readable | undefined;
  let timer: NodeJS.Timeout | undefined;
  let backoff = MIN_BACKOFF_MS;
  // Replay from here on reconnect: the last event's time + 1 ns, or when we first subscribed.
  let sinceNs = BigInt(Date.now()) * 1_000_000n;
  const filters: Record<string, string[]> = {};
  if (filter.types?.length) filters.type = filter.types;
  if (filter.actions?.length) filters.event = filter.actions;
  const labels = labelFilters(undefined, { cluster: filter.cluster, node: filter.node, labels: filter.labels });
  if (labels.length) filters.label = labels;
  let first = true;

  const connect = async () => {
    timer = undefined;
    if (stopped) return;
    const query: Record<string, unknown> = { filters };
    if (!first) query.since = `${sinceNs / 1_000_000_000n}.${String(sinceNs % 1_000_000_000n).padStart(9, '0')}`;
    try {
      const s = (await engine.call((d) => d.getEvents(query))) as unknown as Readable;
      if (stopped) {
        s.destroy();
        return;
      }
      stream = s;
      first = false;
      backoff = MIN_BACKOFF_MS;
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const ev = parseEvent(line);
          if (!ev) continue;
          if (ev.timeNano >= sinceNs) sinceNs = ev.timeNano + 1n;
          try {
            onEvent(ev.event);
          } catch (err) {
            log.error('event handler threw', { action: ev.event.action, id: ev.event.id, error: String(err) });
          }
        }
      });
      const broken = (why: string) => {
        if (stream !== s) return;
        stream = undefined;
        if (stopped) return;
        log.debug('docker event stream broke; reconnecting', { endpoint: engine.endpoint.url, why });
        // Let the engine tracker notice an engine that went away.
        engine.ping().catch(() => {});
        schedule();
      };
      s.on('end', () => broken('end'));
      s.on('close', () => broken('close'));
      s.on('error', (err) => broken(String(err)));
    } catch (err) {
      first = false;
      if (stopped) return;
      log.debug('docker event stream: connect failed', { endpoint: engine.endpoint.url, error: String(err) });
      schedule();
    }
  };

  const schedule = () => {
    if (stopped || timer) return;
    const delay = backoff;
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    timer = setTimeout(() => void connect(), delay);
  };

  // A stream that is broken while the engine is away: reconnect as soon as it is back.
  const unsubscribe = engine.onAvailabilityChange((up) => {
    if (up && !stream && !stopped) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      backoff = MIN_BACKOFF_MS;
      void connect();
    }
  });

  void connect();
  return () => {
    stopped = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
    stream?.destroy();
    stream = undefined;
  };
}

interface DockerEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number | string;
}

/** One line of the engine's event stream → a RuntimeEvent. Exported for unit tests. */
export function parseEvent(line: string): { event: RuntimeEvent; timeNano: bigint } | undefined {
  let raw: DockerEvent;
  try {
    raw = JSON.parse(line) as DockerEvent;
  } catch {
    return undefined;
  }
  const type = raw.Type as EventType | undefined;
  const fullAction = raw.Action ?? raw.status ?? '';
  if (!type || !fullAction) return undefined;
  const colon = fullAction.indexOf(':');
  const action = colon >= 0 ? fullAction.slice(0, colon).trim() : fullAction;
  const detail = colon >= 0 ? fullAction.slice(colon + 1).trim() : undefined;
  const attrs = raw.Actor?.Attributes ?? {};
  const skip = NOT_LABELS[type] ?? new Set<string>();
  const labels: Labels = {};
  for (const [k, v] of Object.entries(attrs)) if (!skip.has(k)) labels[k] = v;
  // timeNano is beyond 2^53: read its digits from the text, not from the parsed number.
  const nanoText = /"timeNano"\s*:\s*(\d+)/.exec(line)?.[1];
  const timeNano = nanoText ? BigInt(nanoText) : BigInt(raw.time ?? 0) * 1_000_000_000n;
  const exit = attrs.exitCode !== undefined ? Number.parseInt(attrs.exitCode, 10) : undefined;
  return {
    event: {
      type,
      action,
      ...(detail ? { actionDetail: detail } : {}),
      id: raw.Actor?.ID ?? raw.id ?? '',
      labels,
      ...(exit !== undefined && Number.isFinite(exit) ? { exitCode: exit } : {}),
      time: new Date(Number(timeNano / 1_000_000n)),
    },
    timeNano,
  };
}
