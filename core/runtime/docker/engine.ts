/**
 * The connection every part of the driver shares: the dockerode client, the endpoint, and
 * `call()`, which turns dockerode failures into runtime errors and keeps track of whether the
 * engine is reachable (a connection failure starts a reconnect loop with backoff; only the loop's
 * ping reports a lost engine back).
 */
import { existsSync } from 'node:fs';
import type Docker from 'dockerode';
import { log } from '../../log.ts';
import {
  RuntimeConflictError,
  RuntimeError,
  RuntimeNotFoundError,
  RuntimeUnavailableError,
  type AvailabilityListener,
  type RuntimeObjectKind,
} from '../runtime.ts';
import { isConnectionError, unavailableError, type DockerEndpoint } from './connect.ts';

export interface EngineOptions {
  /** First reconnect delay; doubles up to `maxBackoffMs` (1 s: a ping of a local socket that is not there costs nothing, and the engine is noticed within a second of its return). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** While someone listens for availability, ping this often to notice a silent engine loss. */
  healthIntervalMs?: number;
  pingTimeoutMs?: number;
}

/** What a failing call was about, to name it in the error. */
export interface Target {
  /** A 404 becomes RuntimeNotFoundError(kind, ref). */
  kind: RuntimeObjectKind;
  ref: string;
  /** Prefix of other errors' messages; default `<kind> <ref>`. */
  what?: string;
}

export class Engine {
  readonly docker: Docker;
  readonly endpoint: DockerEndpoint;
  private available: boolean | undefined;
  private lastError: RuntimeUnavailableError | undefined;
  private readonly listeners = new Set<AvailabilityListener>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private backoff: number;
  private closed = false;
  private readonly opts: Required<EngineOptions>;

  constructor(docker: Docker, endpoint: DockerEndpoint, opts: EngineOptions = {}) {
    this.docker = docker;
    this.endpoint = endpoint;
    this.opts = {
      minBackoffMs: opts.minBackoffMs ?? 250,
      maxBackoffMs: opts.maxBackoffMs ?? 1_000,
      healthIntervalMs: opts.healthIntervalMs ?? 5_000,
      pingTimeoutMs: opts.pingTimeoutMs ?? 5_000,
    };
    this.backoff = this.opts.minBackoffMs;
  }

  /** Runs one engine request; maps its failure; records reachability. */
  async call<T>(fn: (docker: Docker) => Promise<T>, target?: Target): Promise<T> {
    try {
      const result = await fn(this.docker);
      this.answered();
      return result;
    } catch (err) {
      throw this.mapError(err, target);
    }
  }

  mapError(err: unknown, target?: Target): Error {
    if (err instanceof RuntimeError) return err;
    if (isConnectionError(err)) {
      const e = unavailableError(this.endpoint, err);
      this.markDown(e);
      return e;
    }
    if (err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR')) return err;
    this.answered(); // the engine answered, even if with an error
    const status = (err as { statusCode?: number }).statusCode;
    const message = engineMessage(err);
    if (status === 404 && target) return new RuntimeNotFoundError(target.kind, target.ref, message);
    const prefix = target ? `${target.what ?? `${target.kind} ${target.ref}`}: ` : '';
    // 409: name taken / in use; 403: e.g. "network … has active endpoints".
    if (status === 409 || status === 403) return new RuntimeConflictError(prefix + message, message);
    return new RuntimeError(prefix + message, message, { cause: err });
  }

  /**
   * Whether the engine answers now. Only this brings a lost engine back: a stopping engine keeps
   * answering on connections it already has (after removing its socket) while refusing new ones,
   * and taking those answers for its return made the agent flap between "up" and "down" — a
   * whole recovery each time — for as long as the engine took to stop.
   */
  async ping(): Promise<void> {
    const signal = AbortSignal.timeout(this.opts.pingTimeoutMs);
    try {
      if (this.endpoint.socketPath && !existsSync(this.endpoint.socketPath)) {
        throw Object.assign(new Error(`connect ENOENT ${this.endpoint.socketPath}`), { code: 'ENOENT' });
      }
      await this.call((d) => (d.ping as unknown as (o: object) => Promise<unknown>)({ abortSignal: signal }));
      this.markUp();
    } catch (caught) {
      const err = caught instanceof Error && caught.name !== 'AbortError' && !(caught instanceof RuntimeError) ? this.mapError(caught) : caught;
      if (signal.aborted && !(err instanceof RuntimeUnavailableError)) {
        const e = unavailableError(this.endpoint, new Error(`no answer within ${this.opts.pingTimeoutMs}ms`));
        this.markDown(e);
        throw e;
      }
      throw err;
    }
  }

  isAvailable(): boolean | undefined {
    return this.available;
  }

  onAvailabilityChange(cb: AvailabilityListener): () => void {
    this.listeners.add(cb);
    this.ensureHealthLoop();
    return () => {
      this.listeners.delete(cb);
      if (this.listeners.size === 0 && this.healthTimer) {
        clearInterval(this.healthTimer);
        this.healthTimer = undefined;
      }
    };
  }

  /** An answer to an ordinary call: it shows the engine is there unless it was seen lost (then only ping() decides). */
  private answered(): void {
    if (this.available !== false) this.markUp();
  }

  markUp(): void {
    if (this.closed || this.available === true) return;
    const was = this.available;
    this.available = true;
    this.lastError = undefined;
    this.backoff = this.opts.minBackoffMs;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
    }
    if (was === false) {
      log.info('docker engine reachable again', { endpoint: this.endpoint.url });
      this.emit(true);
    }
  }

  markDown(err: RuntimeUnavailableError): void {
    if (this.closed) return;
    this.lastError = err;
    if (this.available !== false) {
      this.available = false;
      log.warn('docker engine unreachable', { endpoint: this.endpoint.url, error: err.message });
      this.emit(false, err);
    }
    this.scheduleReconnect();
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.listeners.clear();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.closed) return;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      // ping() marks the engine up on success, down (→ the next attempt) on failure.
      this.ping().catch(() => {});
    }, delay);
    this.reconnectTimer.unref();
  }

  private ensureHealthLoop(): void {
    if (this.healthTimer || this.closed) return;
    this.healthTimer = setInterval(() => {
      if (this.available !== false) this.ping().catch(() => {});
    }, this.opts.healthIntervalMs);
    this.healthTimer.unref();
    if (this.available === undefined) this.ping().catch(() => {});
  }

  private emit(available: boolean, err?: RuntimeUnavailableError): void {
    for (const cb of [...this.listeners]) {
      try {
        cb(available, err ?? this.lastError);
      } catch (e) {
        log.error('availability listener threw', { error: String(e) });
      }
    }
  }
}

/** The engine's own message out of a dockerode error ("(HTTP code 404) no such container - No such container: x "). */
export function engineMessage(err: unknown): string {
  const e = err as { json?: unknown; message?: string; reason?: unknown };
  const json = e?.json;
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message.trim();
  }
  if (typeof json === 'string' && json.trim() !== '') return json.trim();
  if (Buffer.isBuffer(json) && json.length > 0) return json.toString().trim();
  const m = /^\(HTTP code \d+\) [^-]*- (.*)$/s.exec(e?.message ?? '');
  const fromMessage = (m ? m[1]! : (e?.message ?? String(err))).trim();
  return fromMessage || (typeof e?.reason === 'string' ? e.reason : String(err));
}
