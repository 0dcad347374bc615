/**
 * Authentication by bearer token, as kube-apiserver's token authenticators do it:
 *
 *  - the admin token: made at first start, stored in DIR/admin-token (0600); its user is in
 *    `system:masters`, which RBAC lets do everything;
 *  - ServiceAccount tokens (`kubectl create token`, the serviceaccounts/token subresource): signed
 *    JWTs (HS256 with a key kept in DIR/token-signing-key, 0600) naming the account and its uid,
 *    and the Secret or Pod they are bound to (`kubectl create token --bound-object-kind`); a token
 *    stops working when it expires or its ServiceAccount — or bound object — is deleted (or
 *    re-created): every request reads them afresh, so the next request after a delete gets 401;
 *  - tokens for other identities (node agents, the desktop UI) made with `issueToken`.
 *
 * A request with no token or a bad one gets 401 `Unauthorized` (anonymous access is off); every
 * comparison is constant-time, and no token is ever logged.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, isApiError } from '../../api/errors.ts';
import type { ApiServer } from '../api-server.ts';
import type { UserInfo } from '../admission/chain.ts';

export const ADMIN_USER: UserInfo = { username: 'wheelhouse-admin', groups: ['system:masters', 'system:authenticated'] };
export const ISSUER = 'https://wheelhouse.local';
export const DEFAULT_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';
/** kube-apiserver's default for a TokenRequest without expirationSeconds. */
export const DEFAULT_TOKEN_SECONDS = 3600;

export function unauthorized(): ApiError {
  return new ApiError('Unauthorized', 'Unauthorized');
}

interface Claims {
  iss: string;
  sub: string;
  aud: string[];
  iat: number;
  nbf: number;
  exp?: number;
  /** Set for ServiceAccount tokens; `secret` / `pod` when the token is bound to that object. */
  'kubernetes.io'?: { namespace: string; serviceaccount: ObjectClaim; secret?: ObjectClaim; pod?: ObjectClaim };
  /** Set for other identities. */
  'wheelhouse.dev/groups'?: string[];
  'wheelhouse.dev/uid'?: string;
}

/** Reads (or makes, 0600) a secret file in the data folder. */
function secretFile(dir: string, name: string, make: () => string): string {
  const path = join(dir, name);
  if (existsSync(path)) {
    const v = readFileSync(path, 'utf8').trim();
    if (v) return v;
  }
  mkdirSync(dir, { recursive: true });
  const v = make();
  writeFileSync(path, v + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
  return v;
}

interface ObjectClaim {
  name: string;
  uid: string;
}

/** A token bound to an object: its kind and claim. */
export interface BoundObject {
  kind: 'Secret' | 'Pod';
  name: string;
  uid: string;
}

/** As kube-apiserver: a bound object marked for deletion invalidates its tokens after 60 s. */
const DELETION_GRACE_MS = 60_000;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export class TokenAuthenticator {
  readonly adminToken: string;
  private readonly adminDigest: Buffer;
  private readonly key: Buffer;

  constructor(
    private readonly api: ApiServer,
    dataDir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.adminToken = secretFile(dataDir, 'admin-token', () => randomBytes(32).toString('base64url'));
    this.adminDigest = digest(this.adminToken);
    this.key = Buffer.from(secretFile(dataDir, 'token-signing-key', () => randomBytes(32).toString('hex')), 'hex');
  }

  /**
   * The user a request's `Authorization` header names. Throws 401 Unauthorized when there is no
   * bearer token or it is not valid.
   */
  async authenticate(authorization: string | undefined): Promise<UserInfo> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) throw unauthorized();
    const token = m[1]!;
    if (timingSafeEqual(digest(token), this.adminDigest)) return ADMIN_USER;
    const claims = this.verify(token);
    if (!claims) throw unauthorized();
    const sa = claims['kubernetes.io'];
    if (sa) {
      if (!(await this.live('ServiceAccount', sa.namespace, sa.serviceaccount))) throw unauthorized();
      if (sa.secret && !(await this.live('Secret', sa.namespace, sa.secret))) throw unauthorized();
      if (sa.pod && !(await this.live('Pod', sa.namespace, sa.pod))) throw unauthorized();
      return serviceAccountUser(sa.namespace, sa.serviceaccount.name, sa.serviceaccount.uid);
    }
    const groups = claims['wheelhouse.dev/groups'] ?? [];
    return {
      username: claims.sub,
      groups: groups.includes('system:authenticated') ? groups : [...groups, 'system:authenticated'],
      ...(claims['wheelhouse.dev/uid'] ? { uid: claims['wheelhouse.dev/uid'] } : {}),
    };
  }

  /** A token for the ServiceAccount ns/name (whose uid is `uid`), valid for `seconds`, optionally bound to a Secret or Pod. */
  issueServiceAccountToken(
    ns: string,
    name: string,
    uid: string,
    seconds = DEFAULT_TOKEN_SECONDS,
    audiences?: string[],
    bound?: BoundObject,
  ): { token: string; expirationTimestamp: string } {
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + Math.max(600, seconds);
    const token = this.sign({
      iss: ISSUER,
      sub: `system:serviceaccount:${ns}:${name}`,
      aud: audiences?.length ? audiences : [DEFAULT_AUDIENCE],
      iat,
      nbf: iat,
      exp,
      'kubernetes.io': {
        namespace: ns,
        serviceaccount: { name, uid },
        ...(bound ? { [bound.kind === 'Secret' ? 'secret' : 'pod']: { name: bound.name, uid: bound.uid } } : {}),
      },
    });
    return { token, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d+Z$/, 'Z') };
  }

  /** A token for any identity (a node agent: `system:node:<name>` in `system:nodes`). No expiry unless given. */
  issueToken(user: UserInfo, seconds?: number): string {
    const iat = Math.floor(this.now() / 1000);
    return this.sign({
      iss: ISSUER,
      sub: user.username,
      aud: [DEFAULT_AUDIENCE],
      iat,
      nbf: iat,
      ...(seconds ? { exp: iat + seconds } : {}),
      'wheelhouse.dev/groups': user.groups,
      ...(user.uid ? { 'wheelhouse.dev/uid': user.uid } : {}),
    });
  }

  private sign(claims: Claims): string {
    const head = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'wheelhouse' })}.${b64(claims)}`;
    return `${head}.${createHmac('sha256', this.key).update(head).digest('base64url')}`;
  }

  private verify(token: string): Claims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const want = createHmac('sha256', this.key).update(`${parts[0]}.${parts[1]}`).digest();
    const got = Buffer.from(parts[2]!, 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Claims;
    } catch {
      return undefined;
    }
    const now = this.now() / 1000;
    if (claims.iss !== ISSUER || typeof claims.sub !== 'string') return undefined;
    if (claims.exp !== undefined && now >= claims.exp) return undefined;
    if (claims.nbf !== undefined && now + 60 < claims.nbf) return undefined;
    return claims;
  }

  /**
   * Whether the object a token names still exists with the same uid (not re-created) and is not
   * past a deletion. Read on every request, never cached: a delete revokes the token at once.
   */
  private async live(kind: 'ServiceAccount' | 'Secret' | 'Pod', namespace: string, claim: ObjectClaim): Promise<boolean> {
    let obj;
    try {
      obj = await this.api.get({ apiVersion: 'v1', kind, namespace, name: claim.name });
    } catch (e) {
      if (isApiError(e, 'NotFound')) return false;
      throw e;
    }
    if (obj.metadata.uid !== claim.uid) return false;
    const deleting = obj.metadata.deletionTimestamp;
    return !deleting || Date.parse(deleting) >= this.now() - DELETION_GRACE_MS;
  }
}

export function serviceAccountUser(ns: string, name: string, uid?: string): UserInfo {
  return {
    username: `system:serviceaccount:${ns}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
    ...(uid ? { uid } : {}),
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
