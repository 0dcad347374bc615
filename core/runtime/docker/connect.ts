/**
 * Finding the Docker engine the way the docker CLI does:
 *   1. DOCKER_HOST (unix://, npipe://, tcp://, http(s)://), with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH;
 *   2. else the current docker context (DOCKER_CONTEXT, or `currentContext` in
 *      $DOCKER_CONFIG/config.json) — Docker Desktop installs point it at their own socket;
 *   3. else the platform default: unix:///var/run/docker.sock, npipe:////./pipe/docker_engine.
 * Also turns connection-level failures into `RuntimeUnavailableError`s that name the endpoint.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { RuntimeUnavailableError } from '../runtime.ts';

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** false: TLS without checking the server's certificate (docker's --tls without --tlsverify). */
  verify: boolean;
}

export interface DockerEndpoint {
  /** What users recognise: unix:///var/run/docker.sock, tcp://10.0.0.5:2376 … */
  url: string;
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
  tls?: TlsMaterial;
  /** Where the endpoint came from: DOCKER_HOST, context <name>, default. */
  source: string;
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

export const DEFAULT_UNIX_SOCKET = '/var/run/docker.sock';
export const DEFAULT_NPIPE = '//./pipe/docker_engine';

export function resolveDockerEndpoint(opts: ResolveOptions = {}): DockerEndpoint {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const home = opts.home ?? homedir();
  const configDir = env.DOCKER_CONFIG || join(home, '.docker');
  const certPath = env.DOCKER_CERT_PATH || configDir;
  const tlsVerify = env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '';
  const wantTls = tlsVerify || (env.DOCKER_CERT_PATH !== undefined && env.DOCKER_CERT_PATH !== '');

  if (env.DOCKER_HOST) {
    return parseHost(env.DOCKER_HOST, 'DOCKER_HOST', wantTls ? loadTls(certPath, tlsVerify) : undefined, platform);
  }
  const context = env.DOCKER_CONTEXT || currentContext(configDir);
  if (context && context !== 'default') {
    const fromContext = contextEndpoint(configDir, context, platform);
    if (fromContext) return fromContext;
  }
  if (platform === 'win32') return { url: `npipe://${DEFAULT_NPIPE}`, socketPath: DEFAULT_NPIPE, source: 'default' };
  // Docker Desktop (macOS, Linux) may only offer its per-user socket.
  const desktop = join(home, '.docker', 'run', 'docker.sock');
  const socketPath = !existsSync(DEFAULT_UNIX_SOCKET) && existsSync(desktop) ? desktop : DEFAULT_UNIX_SOCKET;
  return { url: `unix://${socketPath}`, socketPath, source: 'default' };
}

export function parseHost(hostUrl: string, source: string, tls?: TlsMaterial, platform: NodeJS.Platform = process.platform): DockerEndpoint {
  const fail = (why: string) =>
    new RuntimeUnavailableError(hostUrl, why, `set ${source === 'DOCKER_HOST' ? 'DOCKER_HOST' : 'the docker context'} to unix:///path, npipe:////./pipe/name or tcp://host:port`);
  if (hostUrl.startsWith('unix://')) {
    const socketPath = hostUrl.slice('unix://'.length) || DEFAULT_UNIX_SOCKET;
    return { url: `unix://${socketPath}`, socketPath, source };
  }
  if (hostUrl.startsWith('npipe://')) {
    const socketPath = hostUrl.slice('npipe://'.length) || DEFAULT_NPIPE;
    return { url: `npipe://${socketPath}`, socketPath, source };
  }
  if (hostUrl.startsWith('/') && platform !== 'win32') return { url: `unix://${hostUrl}`, socketPath: hostUrl, source };
  const withScheme = hostUrl.includes('://') ? hostUrl : `tcp://${hostUrl}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw fail('not a valid address');
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme === 'ssh') throw fail('ssh:// endpoints are not supported');
  if (!['tcp', 'http', 'https'].includes(scheme)) throw fail(`unsupported scheme "${scheme}"`);
  const https = scheme === 'https' || tls !== undefined;
  const port = u.port ? Number(u.port) : https ? 2376 : 2375;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    url: `tcp://${u.hostname}:${port}`,
    host,
    port,
    protocol: https ? 'https' : 'http',
    ...(https ? { tls: tls ?? { verify: true } } : {}),
    source,
  };
}

function loadTls(dir: string, verify: boolean): TlsMaterial {
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f)) : undefined);
  const ca = read('ca.pem');
  const cert = read('cert.pem');
  const key = read('key.pem');
  return { verify, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

function currentContext(configDir: string): string | undefined {
  try {
    const cfg = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as { currentContext?: unknown };
    return typeof cfg.currentContext === 'string' ? cfg.currentContext : undefined;
  } catch {
    return undefined;
  }
}

/** Contexts live in <config>/contexts/meta/<sha256(name)>/meta.json, TLS files under contexts/tls/<same>/docker/. */
function contextEndpoint(configDir: string, name: string, platform: NodeJS.Platform): DockerEndpoint | undefined {
  const id = createHash('sha256').update(name).digest('hex');
  let meta: { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } };
  try {
    meta = JSON.parse(readFileSync(join(configDir, 'contexts', 'meta', id, 'meta.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const ep = meta.Endpoints?.docker;
  if (!ep || typeof ep.Host !== 'string' || ep.Host === '') return undefined;
  const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
  const tls = existsSync(tlsDir) ? loadTls(tlsDir, ep.SkipTLSVerify !== true) : undefined;
  return parseHost(ep.Host, `context ${name}`, tls, platform);
}

export function dockerodeFor(ep: DockerEndpoint): Docker {
  // Every key is passed explicitly: docker-modem otherwise mixes in DOCKER_HOST from the environment.
  const tls = ep.tls;
  return new Docker({
    socketPath: ep.socketPath,
    host: ep.host,
    port: ep.port,
    protocol: ep.protocol,
    ca: tls?.ca,
    cert: tls?.cert,
    key: tls?.key,
    ...(tls && !tls.verify ? { agent: new HttpsAgent({ rejectUnauthorized: false }) } : {}),
  } as Docker.DockerOptions);
}

const CONNECTION_CODES = new Set([
  'ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EACCES', 'EPERM', 'ETIMEDOUT', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'ENOTSOCK', 'ERR_SOCKET_CLOSED',
  'UND_ERR_SOCKET', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Whether `err` means "the engine could not be talked to" (as opposed to an engine error reply). */
export function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof e.statusCode === 'number') return false;
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
  return typeof e.message === 'string' && /socket hang up|connect E[A-Z]+|read ECONNRESET/.test(e.message);
}

export function unavailableError(ep: DockerEndpoint, err: unknown): RuntimeUnavailableError {
  const e = err as { code?: string; message?: string };
  const detail = e?.message ?? String(err);
  let hint = 'is Docker running?';
  if (e?.code === 'EACCES' || e?.code === 'EPERM') hint = 'no permission on the socket: add your user to the "docker" group (then log in again) or start Docker Desktop';
  else if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN') hint = 'check DOCKER_HOST';
  else if (typeof e?.code === 'string' && /CERT|TLS/.test(e.code)) hint = 'check DOCKER_CERT_PATH / DOCKER_TLS_VERIFY';
  return new RuntimeUnavailableError(ep.url, detail, hint, { cause: err });
}
