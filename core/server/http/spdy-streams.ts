/**
 * The Kubernetes streaming protocols over SPDY:
 *
 *  - portforward.k8s.io: per forwarded connection the client opens an `error` and a `data`
 *    stream with the same `requestID` and `port` headers; data is piped to the pod's port, a
 *    failure is written to the error stream (kubectl port-forward, directly or tunneled through a
 *    WebSocket with subprotocol `SPDY/3.1+portforward.k8s.io`);
 *  - v4.channel.k8s.io exec/attach: streams typed `error`, `stdin`, `stdout`, `stderr`, `resize`
 *    (JSON `{"Width","Height"}` lines); the error stream carries the final Status (kubectl ≤ 1.29,
 *    and newer kubectl falling back from WebSocket).
 */
import type { Duplex } from 'node:stream';
import type { HttpContext } from './context.ts';
import type { ExecOptions, ExecSession } from './pod-io.ts';
import type { SpdyConnection, SpdyStream } from './spdy.ts';

export function servePortForwardSpdy(ctx: HttpContext, conn: SpdyConnection, ns: string, pod: string): void {
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream; port: number }>();
  const sockets = new Set<Duplex>();
  const stop = () => {
    for (const s of sockets) s.destroy();
    conn.close();
  };
  ctx.streams.add(stop);
  conn.onClose(() => {
    ctx.streams.delete(stop);
    for (const s of sockets) s.destroy();
  });
  conn.onStream((s: SpdyStream) => {
    s.reply();
    const id = s.headers.requestid ?? '0';
    const port = Number(s.headers.port);
    const pair = pairs.get(id) ?? { port };
    pairs.set(id, pair);
    if (s.headers.streamtype === 'error') pair.error = s;
    else if (s.headers.streamtype === 'data') pair.data = s;
    else return conn.resetStream(s.id);
    if (pair.error && pair.data) void forward(pair.error, pair.data, pair.port, id);
  });

  async function forward(error: SpdyStream, data: SpdyStream, port: number, id: string): Promise<void> {
    pairs.delete(id);
    const fail = (msg: string) => {
      error.write(msg);
      error.end();
      data.end();
    };
    if (!Number.isInteger(port) || port < 1 || port > 65535) return fail(`invalid port "${port}"`);
    let sock: Duplex;
    try {
      sock = await ctx.podIO!.portForward(ns, pod, port);
    } catch (e) {
      return fail(`error forwarding port ${port} to pod ${pod}: ${(e as Error).message}`);
    }
    sockets.add(sock);
    data.onData((d) => sock.write(d));
    data.onEnd(() => sock.end());
    sock.on('data', (d: Buffer) => data.write(d));
    sock.on('error', (e) => error.write(`error forwarding port ${port} to pod ${pod}: ${e.message}`));
    sock.on('close', () => {
      sockets.delete(sock);
      data.end();
      error.end();
    });
  }
}

export function serveExecSpdy(
  ctx: HttpContext,
  conn: SpdyConnection,
  opts: ExecOptions,
  command: string[],
  start: () => Promise<ExecSession>,
): void {
  const streams: Record<string, SpdyStream> = {};
  const wanted = ['error', ...(opts.stdin ? ['stdin'] : []), ...(opts.stdout ? ['stdout'] : []), ...(opts.stderr && !opts.tty ? ['stderr'] : [])];
  let started = false;
  let session: ExecSession | undefined;
  const stop = () => {
    session?.close();
    conn.close();
  };
  ctx.streams.add(stop);
  conn.onClose(() => {
    ctx.streams.delete(stop);
    session?.close();
  });
  const timer = setTimeout(() => {
    if (!started) conn.close();
  }, 30_000);
  timer.unref();
  conn.onStream((s) => {
    s.reply();
    const type = s.headers.streamtype ?? '';
    streams[type] = s;
    if (type === 'resize') {
      let buf = '';
      s.onData((d) => {
        buf += d.toString('utf8');
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0 || (buf.trim().endsWith('}') && (i = buf.length) > 0)) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          try {
            const size = JSON.parse(line);
            session?.resize?.({ width: Number(size.Width ?? size.width), height: Number(size.Height ?? size.height) });
          } catch {
            /* partial or malformed: ignored */
          }
        }
      });
    }
    if (!started && wanted.every((w) => streams[w])) {
      started = true;
      clearTimeout(timer);
      void run();
    }
  });

  async function run(): Promise<void> {
    const error = streams.error!;
    try {
      session = await start();
    } catch (e) {
      error.write(JSON.stringify({ metadata: {}, status: 'Failure', message: (e as Error).message, reason: 'InternalError', code: 500 }));
      error.end();
      return conn.close();
    }
    const s = session;
    streams.stdin?.onData((d) => s.stdin?.write(d));
    streams.stdin?.onEnd(() => s.stdin?.end());
    const ended = (r: NodeJS.ReadableStream | undefined) => (r ? new Promise<void>((res) => { r.once('end', res); r.once('close', res); r.once('error', () => res()); }) : Promise.resolve());
    s.stdout?.on('data', (d: Buffer) => streams.stdout?.write(d));
    s.stderr?.on('data', (d: Buffer) => streams.stderr?.write(d));
    const outputs = Promise.all([ended(s.stdout), ended(s.stderr)]);
    const code = await s.exit.catch(() => 1);
    await Promise.race([outputs, new Promise((r) => setTimeout(r, 1000))]);
    streams.stdout?.end();
    streams.stderr?.end();
    if (code !== 0) {
      error.write(
        JSON.stringify({
          metadata: {},
          status: 'Failure',
          message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
          reason: 'NonZeroExitCode',
          details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
        }),
      );
    }
    error.end();
    setTimeout(() => conn.close(), 100).unref();
  }
}
