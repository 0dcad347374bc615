/**
 * imagePullSecrets → registry credentials for one image, matched the way the kubelet's keyring
 * does (pkg/credentialprovider): keys may carry a scheme, a path prefix (`quay.io/team`), a
 * `/v1/` or `/v2/` suffix, a port, and `*` globs per host component (`*.example.com`); more
 * specific keys win; Docker Hub answers to docker.io, index.docker.io and registry-1.docker.io.
 */
import type { RegistryAuth } from '../runtime.ts';
import { DEFAULT_DOMAIN, parseImageRef, registryAuthHost } from './image-ref.ts';

/** The content of a `kubernetes.io/dockerconfigjson` (`{ auths: {…} }`) or legacy `.dockercfg` secret. */
export type DockerConfig = string | Buffer | Record<string, unknown>;

interface Entry {
  host: string; // lowercased host[:port], Docker Hub aliases folded to docker.io
  port: string;
  path: string; // '' or '/team/…'
  auth: Omit<RegistryAuth, 'serverAddress'>;
  order: number;
}

const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** Every credential that matches `image`, most specific first (the kubelet tries them in turn). */
export function registryAuthsForImage(configs: DockerConfig | DockerConfig[], image: string): RegistryAuth[] {
  const ref = parseImageRef(image);
  const target = splitUrl(`${ref.domain}/${ref.path}`);
  if (!target) return [];
  const list = Array.isArray(configs) ? configs : [configs];
  const entries: Entry[] = [];
  for (const cfg of list) {
    for (const [key, raw] of Object.entries(authsOf(cfg))) {
      const loc = splitUrl(key);
      const auth = entryAuth(raw);
      if (loc && auth) entries.push({ ...loc, auth, order: entries.length });
    }
  }
  const matches = entries.filter((e) => urlsMatch(e, target));
  matches.sort((a, b) => b.path.length - a.path.length || globCount(a.host) - globCount(b.host) || a.order - b.order);
  const serverAddress = registryAuthHost(ref.domain);
  return matches.map((m) => ({ ...m.auth, serverAddress }));
}

/** The best credential for `image`, or undefined (pull anonymously). */
export function registryAuthForImage(configs: DockerConfig | DockerConfig[], image: string): RegistryAuth | undefined {
  return registryAuthsForImage(configs, image)[0];
}

function authsOf(cfg: DockerConfig): Record<string, unknown> {
  let obj: unknown = cfg;
  if (typeof cfg === 'string' || Buffer.isBuffer(cfg)) {
    try {
      obj = JSON.parse(cfg.toString());
    } catch {
      return {};
    }
  }
  if (!obj || typeof obj !== 'object') return {};
  const auths = (obj as { auths?: unknown }).auths;
  if (auths && typeof auths === 'object') return auths as Record<string, unknown>;
  return obj as Record<string, unknown>; // legacy .dockercfg: the map itself
}

function entryAuth(raw: unknown): Entry['auth'] | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  const str = (k: string) => (typeof r[k] === 'string' && r[k] !== '' ? (r[k] as string) : undefined);
  let username = str('username');
  let password = str('password');
  const encoded = str('auth');
  if (encoded && username === undefined) {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) {
      username = decoded.slice(0, i);
      password = decoded.slice(i + 1);
    }
  }
  const identityToken = str('identitytoken') ?? str('identityToken');
  if (username === undefined && identityToken === undefined) return undefined;
  return {
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(identityToken !== undefined ? { identityToken } : {}),
  };
}

function splitUrl(loc: string): Omit<Entry, 'auth' | 'order'> | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(loc) ? loc : `https://${loc}`;
  let u: URL;
  try {
    // URL() rejects `*` in hosts: swap it for a placeholder while parsing.
    u = new URL(withScheme.replace(/\*/g, 'wh-glob-star'));
  } catch {
    return undefined;
  }
  let host = u.hostname.replace(/wh-glob-star/g, '*').toLowerCase();
  if (HUB_ALIASES.has(host)) host = DEFAULT_DOMAIN;
  let path = decodeURIComponent(u.pathname);
  if (path.startsWith('/v1/') || path.startsWith('/v2/')) path = path.slice(3);
  if (path === '/') path = '';
  path = path.replace(/\/+$/, '');
  return { host, port: u.port, path };
}

function urlsMatch(glob: Omit<Entry, 'auth' | 'order'>, target: Omit<Entry, 'auth' | 'order'>): boolean {
  const g = glob.host.split('.');
  const t = target.host.split('.');
  if (g.length !== t.length) return false;
  for (let i = 0; i < g.length; i++) {
    if (!globMatch(g[i]!, t[i]!)) return false;
  }
  if (glob.port !== target.port) return false;
  if (glob.path === '') return true;
  return target.path === glob.path || target.path.startsWith(glob.path + '/');
}

function globMatch(pattern: string, s: string): boolean {
  if (!pattern.includes('*')) return pattern === s;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*')}$`);
  return re.test(s);
}

function globCount(host: string): number {
  return host.split('*').length - 1;
}
