/**
 * Image references, parsed and normalized the way the docker CLI and the kubelet do
 * (distribution/reference's ParseNormalizedNamed + TagNameOnly):
 *   busybox                       → docker.io/library/busybox:latest
 *   user/app:1                    → docker.io/user/app:1
 *   localhost:5000/app            → localhost:5000/app:latest
 *   ghcr.io/o/app@sha256:…        → ghcr.io/o/app@sha256:… (a digest gets no default tag)
 */
export interface ImageRef {
  /** Registry host, with port if any: docker.io, ghcr.io, localhost:5000, [::1]:5000. */
  domain: string;
  /** Repository path inside the registry: library/busybox. */
  path: string;
  tag?: string;
  digest?: string;
  /** domain/path */
  repository: string;
  /** The full form: domain/path[:tag][@digest], with `:latest` when neither tag nor digest. */
  normalized: string;
  /** The short form the docker CLI prints: busybox:latest, user/app:1. */
  familiar: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const MAX_NAME_LENGTH = 255;

export class InvalidImageRefError extends Error {
  constructor(ref: string, why: string) {
    super(`invalid image reference "${ref}": ${why}`);
    this.name = 'InvalidImageRefError';
  }
}

export function parseImageRef(ref: string): ImageRef {
  if (ref === '' || ref.trim() !== ref) throw new InvalidImageRefError(ref, 'empty or surrounded by spaces');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidImageRefError(ref, `bad digest "${digest}"`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidImageRefError(ref, `bad tag "${tag}"`);
  }
  if (rest === '') throw new InvalidImageRefError(ref, 'no repository name');

  let domain: string;
  let path: string;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  if (slash < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    path = rest;
  } else {
    domain = first;
    path = rest.slice(slash + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (!DOMAIN.test(domain)) throw new InvalidImageRefError(ref, `bad registry host "${domain}"`);
  if (path !== path.toLowerCase()) throw new InvalidImageRefError(ref, 'repository name must be lowercase');
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
  for (const c of path.split('/')) {
    if (!PATH_COMPONENT.test(c)) throw new InvalidImageRefError(ref, `bad path component "${c}"`);
  }
  const repository = `${domain}/${path}`;
  if (repository.length > MAX_NAME_LENGTH) throw new InvalidImageRefError(ref, `name longer than ${MAX_NAME_LENGTH} characters`);
  if (tag === undefined && digest === undefined) tag = 'latest';

  const suffix = `${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  let familiarName = repository;
  if (domain === DEFAULT_DOMAIN) {
    familiarName = path.startsWith(OFFICIAL_REPO_PREFIX) && path.split('/').length === 2 ? path.slice(OFFICIAL_REPO_PREFIX.length) : path;
  }
  return {
    domain,
    path,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
    repository,
    normalized: repository + suffix,
    familiar: familiarName + suffix,
  };
}

/** `busybox` → `docker.io/library/busybox:latest`. */
export function normalizeImageRef(ref: string): string {
  return parseImageRef(ref).normalized;
}

/** The host Docker uses for credentials: docker.io → https://index.docker.io/v1/. */
export function registryAuthHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? 'https://index.docker.io/v1/' : domain;
}
