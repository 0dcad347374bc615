/**
 * The Kubernetes-compatible HTTP API server: `startApiHttpServer` listens (HTTPS with a
 * self-signed CA by default; plain HTTP on loopback when asked), makes the admin token
 * and DIR/kubeconfig, ensures the default RBAC roles, and serves kubectl and client libraries.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { ApiServer } from '../api-server.ts';
import { log } from '../../log.ts';
import { TokenAuthenticator } from './auth.ts';
import type { HttpContext } from './context.ts';
import { createRequestHandler } from './handler.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import type { MetricsSource } from './metrics-api.ts';
import type { PodIO } from './pod-io.ts';
import { RbacAuthorizer } from './rbac.ts';
import { ensureBootstrapPolicy } from './rbac-bootstrap.ts';
import { createUpgradeHandler } from './streams.ts';
import { ensureTls, isLoopback } from './tls.ts';

export interface ApiHttpServerOptions {
  api: ApiServer;
  /** Where the admin token, token signing key, TLS material and kubeconfig live. */
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  podIO?: PodIO;
  metrics?: MetricsSource;
  /** Cluster, user and context name in DIR/kubeconfig (default `wheelhouse`). */
  kubeconfigName?: string;
  /**
   * HTTPS with the data folder's self-signed CA (default true). Plain HTTP (false) is allowed on
   * loopback only — and kubectl never sends a kubeconfig token over plain HTTP (client-go reads
   * credentials only for TLS transports), so kubectl needs HTTPS; HTTP suits the HttpClient and
   * client libraries that send the token anyway.
   */
  tls?: boolean;
  /** Create the default ClusterRoles and bindings when missing (default true). */
  bootstrapRbac?: boolean;
}

export interface ApiHttpServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** DIR/kubeconfig (0600), context `wheelhouse`. */
  kubeconfigPath: string;
  adminToken: string;
  /** PEM of the CA when serving HTTPS. */
  caPem?: string;
  authenticator: TokenAuthenticator;
  authorizer: RbacAuthorizer;
  close(): Promise<void>;
}

export async function startApiHttpServer(opts: ApiHttpServerOptions): Promise<ApiHttpServer> {
  const host = opts.host ?? '127.0.0.1';
  const useTls = opts.tls ?? true;
  if (!useTls && !isLoopback(host)) throw new Error(`the API server listens on ${host}, beyond loopback: it must use TLS`);
  const auth = new TokenAuthenticator(opts.api, opts.dataDir);
  if (opts.bootstrapRbac !== false) await ensureBootstrapPolicy(opts.api);
  const rbac = new RbacAuthorizer(opts.api);
  await rbac.start();

  let address = '';
  const ctx: HttpContext = {
    api: opts.api,
    auth,
    rbac,
    podIO: opts.podIO,
    metrics: opts.metrics,
    serverAddress: () => address,
    streams: new Set(),
  };
  const handler = createRequestHandler(ctx);
  const tls = useTls ? ensureTls(opts.dataDir, [host]) : undefined;
  const server: Server = tls ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handler) : createHttpServer(handler);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 70_000;
  server.requestTimeout = 0; // watches and log streams are long
  server.on('upgrade', createUpgradeHandler(ctx));
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    rbac.stop();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  address = `${urlHost}:${port}`;
  const url = `${tls ? 'https' : 'http'}://${address}`;
  const kubeconfigPath = writeKubeconfig(opts.dataDir, { server: url, token: auth.adminToken, caPem: tls?.caPem, ...(opts.kubeconfigName ? { name: opts.kubeconfigName } : {}) });
  log.info('api http server listening', { url, tls: !!tls, kubeconfig: kubeconfigPath });

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    kubeconfigPath,
    adminToken: auth.adminToken,
    caPem: tls?.caPem,
    authenticator: auth,
    authorizer: rbac,
    close() {
      closing ??= (async () => {
        rbac.stop();
        for (const end of [...ctx.streams]) end();
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 500).unref();
        await done;
      })();
      return closing;
    },
  };
}
