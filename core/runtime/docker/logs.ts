/**
 * Container logs through the engine's logs endpoint (json-file driver). The engine multiplexes
 * stdout and stderr into frames (8-byte header: stream, 0, 0, 0, big-endian length), one frame
 * per log record; TTY containers are not multiplexed. Timestamps are always asked for, so the
 * records Docker split at 16 KiB can be stitched back into one line.
 */
import type { Readable } from 'node:stream';
import type { LogLine, LogOptions } from '../runtime.ts';
import { RuntimeNotFoundError } from '../runtime.ts';
import type { Engine } from './engine.ts';

export async function* logs(engine: Engine, id: string, opts: LogOptions = {}, signal?: AbortSignal): AsyncIterable<LogLine> {
  if (signal?.aborted) return;
  const info = await engine.call((d) => d.getContainer(id).inspect(), { kind: 'container', ref: id });
  const query: Record<string, unknown> = {
    follow: opts.follow ?? false,
    stdout: true,
    stderr: true,
    timestamps: true,
    tail: opts.tailLines !== undefined ? String(Math.max(0, opts.tailLines)) : 'all',
  };
  const since = opts.sinceTime ? opts.sinceTime.getTime() : opts.sinceSeconds !== undefined ? Date.now() - opts.sinceSeconds * 1000 : undefined;
  if (since !== undefined) query.since = (since / 1000).toFixed(3);
  let stream: Readable;
  try {
    stream = await engine.call(
      (d) =>
        new Promise<Readable>((resolve, reject) => {
          d.modem.dial(
            {
              path: `/containers/${encodeURIComponent(info.Id)}/logs?`,
              method: 'GET',
              options: query,
              isStream: true,
              abortSignal: signal,
              statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
            },
            (err: unknown, s: unknown) => (err ? reject(err) : resolve(s as Readable)),
          );
        }),
      { kind: 'container', ref: id },
    );
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  }
  const onAbort = () => stream.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });
  const decoder = new LogDecoder(info.Config.Tty, opts.timestamps ?? false);
  try {
    for await (const chunk of stream) {
      yield* decoder.push(chunk as Buffer);
    }
    yield* decoder.end();
  } catch (err) {
    if (signal?.aborted) return;
    if (err instanceof RuntimeNotFoundError) throw err;
    throw engine.mapError(err, { kind: 'container', ref: id });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stream.destroy();
  }
}

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d)) /;

/** Turns the engine's log stream into lines. Pure; exported for unit tests. */
export class LogDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private readonly partial: Record<'stdout' | 'stderr', { text: string; time?: string } | undefined> = { stdout: undefined, stderr: undefined };

  constructor(
    private readonly tty: boolean,
    private readonly withTime: boolean,
  ) {}

  push(chunk: Buffer): LogLine[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: LogLine[] = [];
    if (this.tty) {
      let nl: number;
      while ((nl = this.buf.indexOf(0x0a)) >= 0) {
        this.record('stdout', this.buf.subarray(0, nl + 1).toString('utf8'), out);
        this.buf = this.buf.subarray(nl + 1);
      }
      return out;
    }
    while (this.buf.length >= 8) {
      const kind = this.buf[0];
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) break;
      const payload = this.buf.subarray(8, 8 + len).toString('utf8');
      this.buf = this.buf.subarray(8 + len);
      this.record(kind === 2 ? 'stderr' : 'stdout', payload, out);
    }
    return out;
  }

  end(): LogLine[] {
    const out: LogLine[] = [];
    if (this.tty && this.buf.length) this.record('stdout', this.buf.toString('utf8'), out);
    this.buf = Buffer.alloc(0);
    for (const stream of ['stdout', 'stderr'] as const) {
      const p = this.partial[stream];
      if (p) out.push(this.line(stream, p.text, p.time));
      this.partial[stream] = undefined;
    }
    return out;
  }

  /** One record: `<timestamp> <text>` with a trailing newline unless Docker split it. */
  private record(stream: 'stdout' | 'stderr', rec: string, out: LogLine[]): void {
    const m = TIMESTAMP.exec(rec);
    const time = m?.[1];
    let text = m ? rec.slice(m[0].length) : rec;
    const complete = text.endsWith('\n');
    if (complete) text = text.slice(0, -1);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const p = this.partial[stream];
    if (p) {
      p.text += text;
      if (!complete) return;
      this.partial[stream] = undefined;
      out.push(this.line(stream, p.text, p.time));
      return;
    }
    if (!complete) {
      this.partial[stream] = { text, ...(time ? { time } : {}) };
      return;
    }
    out.push(this.line(stream, text, time));
  }

  private line(stream: 'stdout' | 'stderr', line: string, time?: string): LogLine {
    return this.withTime && time ? { stream, line, time } : { stream, line };
  }
}
