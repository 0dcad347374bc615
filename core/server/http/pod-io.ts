/**
 * What the node agents give the API for the streaming pod subresources — pods/log, pods/exec,
 * pods/attach and pods/portforward. The HTTP layer authorizes the request, checks the pod and
 * container, and carries the bytes: logs as a chunked HTTP response, exec/attach/port-forward
 * over WebSocket (channel.k8s.io subprotocols). An agent on another machine implements the same
 * interface behind its own transport.
 */
import type { Duplex, Readable, Writable } from 'node:stream';

export interface LogOptions {
  container: string;
  follow?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: string;
  timestamps?: boolean;
  previous?: boolean;
  limitBytes?: number;
}

export interface ExecOptions {
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface TerminalSize {
  width: number;
  height: number;
}

/** A running exec/attach session. */
export interface ExecSession {
  /** Present when stdin was asked for; end() it to send EOF. */
  stdin?: Writable;
  stdout?: Readable;
  /** Absent with a TTY (stderr is merged into stdout). */
  stderr?: Readable;
  resize?(size: TerminalSize): void;
  /** Resolves with the process's exit code once it ended (attach: when the container ended or the stream closed). */
  exit: Promise<number>;
  /** Stops the session (the client went away). */
  close(): void;
}

export interface PodIO {
  /** The container's log, as chunks; with `follow` it ends when the container does or the iterator is returned. */
  logs(namespace: string, pod: string, opts: LogOptions): AsyncIterable<string | Buffer>;
  exec(namespace: string, pod: string, container: string, command: string[], opts: ExecOptions): Promise<ExecSession>;
  attach?(namespace: string, pod: string, container: string, opts: ExecOptions): Promise<ExecSession>;
  /** A byte stream to `port` inside the pod's network namespace. */
  portForward(namespace: string, pod: string, port: number): Promise<Duplex>;
}
