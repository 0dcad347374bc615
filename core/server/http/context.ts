/** What every HTTP handler of the Kubernetes API gets: the API layer, authn/authz, pod streams, metrics. */
import type { ApiServer } from '../api-server.ts';
import type { TokenAuthenticator } from './auth.ts';
import type { MetricsSource } from './metrics-api.ts';
import type { PodIO } from './pod-io.ts';
import type { RbacAuthorizer } from './rbac.ts';

export interface HttpContext {
  api: ApiServer;
  auth: TokenAuthenticator;
  rbac: RbacAuthorizer;
  podIO?: PodIO;
  metrics?: MetricsSource;
  /** host:port clients reach the server at (for /api's serverAddressByClientCIDRs). */
  serverAddress(): string;
  /** Enders of the open watches and streams, so close() does not wait for them. */
  streams: Set<() => void>;
}
