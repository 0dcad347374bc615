/**
 * Browser mode on its own 127.0.0.1 port: an http.Server around `createDesktopServer` (what the
 * e2e tests and the UI benchmark use; `wheelhouse serve` shares its port with the Kubernetes API
 * instead). Anything the UI does not claim gets 404.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { projectRoot } from '../paths.ts';
import type { Cluster } from '../cluster.ts';
import { createDesktopServer, type DesktopServer, type DesktopServerOptions } from './browser-server.ts';

/** Where scripts/build-ui.sh puts the built renderer. */
export const DEFAULT_STATIC_DIR = join(projectRoot(), 'renderer', 'dist');

export interface BrowserMode {
  /** `http://127.0.0.1:<port>/?token=…` */
  url: string;
  port: number;
  token: string;
  desktop: DesktopServer;
  close(): Promise<void>;
}

export async function serveBrowserMode(
  cluster: Cluster,
  opts: { port?: number; token?: string; staticDir?: string; host?: DesktopServerOptions['host'] } = {},
): Promise<BrowserMode> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const desktop = createDesktopServer(cluster, { token, staticDir: opts.staticDir ?? DEFAULT_STATIC_DIR, ...(opts.host ? { host: opts.host } : {}) });
  const server = createServer((req, res) => {
    if (!desktop.handleRequest(req, res)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    }
  });
  server.on('upgrade', (req, socket, head) => {
    if (!desktop.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: opts.port ?? 0 }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    desktop,
    async close() {
      await desktop.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
