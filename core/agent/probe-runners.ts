/**
 * Running one probe or lifecycle handler: httpGet (to the pod IP — on Linux the node process
 * reaches the pod's bridge address directly), tcpSocket, exec (through the runtime) and grpc. The
 * outputs are the kubelet's words, so events read as they do on a real cluster:
 * `HTTP probe failed with statuscode: 500`, `dial tcp 10.0.0.5:80: connect: connection refused`.
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { ExecTimeoutError, type ContainerRuntime } from '../runtime/runtime.ts';
import { grpcHealthCheck } from './grpc-health.ts';
import { errorMessage, sleep } from './util.ts';

export interface ProbeOutcome {
  /** `error`: the probe could not be run at all (counts as a failure, worded "errored"). */
  result: 'success' | 'failure' | 'error';
  output: string;
}

export interface ProbeTarget {
  runtime: ContainerRuntime;
  containerId: string;
  container: k8s.Container;
  podIP?: string;
}

type Handler = Pick<k8s.Probe, 'exec' | 'httpGet' | 'tcpSocket' | 'grpc'> & { sleep?: { seconds: number } };

export async function runProbe(p: k8s.Probe, t: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutMs = (p.timeoutSeconds || 1) * 1000;
  try {
    if (p.exec) return await execCheck(t, p.exec.command ?? [], timeoutMs);
    if (p.httpGet) return await httpCheck(t, p.httpGet, timeoutMs, (code) => code >= 200 && code < 400);
    if (p.tcpSocket) return await tcpCheck(p.tcpSocket.host || t.podIP || '', resolvePort(p.tcpSocket.port, t.container), timeoutMs);
    if (p.grpc) {
      if (!t.podIP) return { result: 'error', output: 'pod has no IP' };
      return await grpcHealthCheck(t.podIP, p.grpc.port, p.grpc.service ?? '', timeoutMs);
    }
    return { result: 'error', output: 'missing probe handler' };
  } catch (err) {
    return { result: 'error', output: errorMessage(err) };
  }
}

/** A postStart/preStop handler; resolves with an error message, or undefined when it succeeded. */
export async function runHandler(h: Handler, t: ProbeTarget, timeoutMs: number): Promise<string | undefined> {
  try {
    if (h.exec) {
      const cmd = h.exec.command ?? [];
      const r = await t.runtime.execSync(t.containerId, cmd, timeoutMs);
      if (r.exitCode === 0) return undefined;
      const out = (r.stdout + r.stderr).trim();
      return `command '${cmd.join(' ')}' exited with ${r.exitCode}: ${out}`;
    }
    if (h.httpGet) {
      const r = await httpCheck(t, h.httpGet, timeoutMs, (code) => code >= 200 && code < 400);
      return r.result === 'success' ? undefined : r.output;
    }
    if (h.tcpSocket) {
      const r = await tcpCheck(h.tcpSocket.host || t.podIP || '', resolvePort(h.tcpSocket.port, t.container), timeoutMs);
      return r.result === 'success' ? undefined : r.output;
    }
    if (h.sleep) {
      await sleep(Math.min(h.sleep.seconds * 1000, timeoutMs));
      return undefined;
    }
    return 'missing handler';
  } catch (err) {
    if (err instanceof ExecTimeoutError) return `command timed out after ${timeoutMs}ms`;
    return errorMessage(err);
  }
}

/** A port number, or a container port's name. */
export function resolvePort(port: number | string, c: k8s.Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const found = (c.ports ?? []).find((p) => p.name === port);
  if (!found) throw new Error(`couldn't find port: ${port} in ${JSON.stringify(c.ports?.map((p) => p.name) ?? [])}`);
  return found.containerPort;
}

async function execCheck(t: ProbeTarget, cmd: string[], timeoutMs: number): Promise<ProbeOutcome> {
  try {
    const r = await t.runtime.execSync(t.containerId, cmd, timeoutMs);
    const output = (r.stdout + r.stderr).trimEnd();
    return { result: r.exitCode === 0 ? 'success' : 'failure', output };
  } catch (err) {
    if (err instanceof ExecTimeoutError) return { result: 'failure', output: `command "${cmd.join(' ')}" timed out` };
    return { result: 'error', output: errorMessage(err) };
  }
}

function httpCheck(t: ProbeTarget, g: k8s.HTTPGetAction, timeoutMs: number, ok: (code: number) => boolean): Promise<ProbeOutcome> {
  const host = g.host || t.podIP || '';
  const port = resolvePort(g.port, t.container);
  const scheme = (g.scheme ?? 'HTTP').toLowerCase();
  let path = g.path || '/';
  if (!path.startsWith('/')) path = `/${path}`;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const url = `${scheme}://${hostPart}:${port}${path}`;
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.30', Accept: '*/*' };
  for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
  if (scheme === 'http' && RAW_PATH.test(path) && Object.entries(headers).every(([k, v]) => RAW_NAME.test(k) && RAW_VALUE.test(v))) {
    return rawHttpCheck({ host, hostPart, port, path, url, headers, timeoutMs, ok });
  }
  const request = scheme === 'https' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(o);
    };
    const req = request(url, { method: 'GET', headers, ...(scheme === 'https' ? { rejectUnauthorized: false } : {}) }, (res) => {
      const code = res.statusCode ?? 0;
      res.resume();
      if (ok(code)) finish({ result: 'success', output: '' });
      else finish({ result: 'failure', output: `HTTP probe failed with statuscode: ${code}` });
    });
    const timer = setTimeout(
      () => finish({ result: 'failure', output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` }),
      timeoutMs,
    );
    req.on('error', (err) => finish({ result: 'failure', output: `Get "${url}": ${dialError(hostPart, port, err)}` }));
    req.end();
  });
}

const RAW_PATH = /^\/[\x21-\x7e]*$/;
const RAW_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RAW_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * A plain-HTTP probe on a bare socket: one request line and its headers, `Connection: close`
 * (the kubelet's probe client keeps no connections either), and only the status line read
 * back. With 100 pods probed every 10 s this is most of what an idle app does; Node's HTTP client
 * (an agent, a parser and a request object per probe) cost about twice as much per probe.
 * HTTPS, and paths or headers that would need escaping, go through Node's client.
 */
function rawHttpCheck(o: {
  host: string;
  hostPart: string;
  port: number;
  path: string;
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  ok: (code: number) => boolean;
}): Promise<ProbeOutcome> {
  const lines = [`GET ${o.path} HTTP/1.1`];
  const given = new Set(Object.keys(o.headers).map((k) => k.toLowerCase()));
  if (!given.has('host')) lines.push(`Host: ${o.hostPart}:${o.port}`);
  for (const [k, v] of Object.entries(o.headers)) lines.push(`${k}: ${v}`);
  if (!given.has('connection')) lines.push('Connection: close');
  const request = `${lines.join('\r\n')}\r\n\r\n`;
  return new Promise((resolve) => {
    let head = '';
    let settled = false;
    const sock = netConnect({ host: o.host, port: o.port });
    const finish = (out: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      closeProbeSocket(sock);
      resolve(out);
    };
    const timer = setTimeout(
      () => finish({ result: 'failure', output: `Get "${o.url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` }),
      o.timeoutMs,
    );
    sock.setNoDelay(true);
    sock.once('connect', () => sock.write(request));
    sock.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const eol = head.indexOf('\n');
      if (eol < 0 && head.length < 4096) return;
      const line = (eol < 0 ? head : head.slice(0, eol)).replace(/\r$/, '');
      const m = /^HTTP\/\d(?:\.\d)? (\d{3})(?: |$)/.exec(line);
      if (!m) return finish({ result: 'failure', output: `Get "${o.url}": net/http: HTTP/1.x transport connection broken: malformed HTTP response ${JSON.stringify(line.slice(0, 100))}` });
      const code = Number(m[1]);
      finish(o.ok(code) ? { result: 'success', output: '' } : { result: 'failure', output: `HTTP probe failed with statuscode: ${code}` });
    });
    sock.once('end', () => finish({ result: 'failure', output: `Get "${o.url}": EOF` }));
    sock.once('error', (err) => finish({ result: 'failure', output: `Get "${o.url}": ${dialError(o.hostPart, o.port, err)}` }));
  });
}

function tcpCheck(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return new Promise((resolve) => {
    const sock = netConnect({ host, port });
    const finish = (o: ProbeOutcome) => {
      clearTimeout(timer);
      closeProbeSocket(sock);
      resolve(o);
    };
    const timer = setTimeout(() => finish({ result: 'failure', output: `dial tcp ${hostPart}:${port}: i/o timeout` }), timeoutMs);
    sock.once('connect', () => finish({ result: 'success', output: '' }));
    sock.once('error', (err) => finish({ result: 'failure', output: dialError(hostPart, port, err) }));
  });
}

/**
 * A probe's connection, done with: reset (SO_LINGER 0) once connected, so it leaves no TIME-WAIT
 * socket and conntrack entry behind for a minute. The kubelet does the same since 1.27
 * (kubernetes#115143): 100 pods probed every 10 s otherwise keep ~600 such sockets, and an
 * orderly close is more packets through the pod's network, each costing the app kernel time.
 */
function closeProbeSocket(sock: Socket): void {
  if (sock.readyState === 'open' || sock.readyState === 'readOnly' || sock.readyState === 'writeOnly') {
    // A reset reports nothing to anyone who listens; nobody does any more.
    sock.on('error', () => {});
    sock.resetAndDestroy();
  } else sock.destroy();
}

/** A Node socket error in Go's net words. */
function dialError(host: string, port: number, err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    ETIMEDOUT: 'i/o timeout',
    ECONNRESET: 'read: connection reset by peer',
  };
  if (code && why[code]) return `dial tcp ${host}:${port}: ${why[code]}`;
  return err.message;
}
