/**
 * The Electron main process: starts the cluster (the same core as `wheelhouse serve`), serves the
 * built renderer from the app's own `app://wheelhouse/` origin, and carries the desktop contract
 * over IPC (ipc.ts). The window is locked down:
 *  - contextIsolation, sandbox, no nodeIntegration; the preload exposes only the contract;
 *  - a strict Content-Security-Policy on every app response (no eval, no remote anything);
 *  - no remote content: every request that is not the app's own origin is cancelled;
 *  - navigation away from the app and new windows are blocked — except "Open in browser" of an
 *    open port-forward or of a Service's node port / LoadBalancer port (http://127.0.0.1:<port>/),
 *    which goes to the system browser;
 *  - permission requests (camera, notifications …) are refused; webviews are refused;
 *  - devtools only in development (running from source, or WHEELHOUSE_DEV=1).
 * The settings and guards themselves live in security.ts (checked by a unit test); this file wires them.
 *
 * Run from source: `bash scripts/build-ui.sh && npx electron out/electron/main.mjs`.
 * WHEELHOUSE_DATA_DIR picks the data folder (default ~/.wheelhouse), WHEELHOUSE_CLUSTER_NAME the
 * cluster name (labels every Docker object; default `wheelhouse`).
 */
import { kubeconfigFor, startClusterApi } from '../core/serve.ts';
import type { ApiHttpServer } from '../core/server/http/server.ts';
import { readFile } from 'node:fs/promises';
import { extname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, protocol, session, shell, type WebContents } from 'electron';
import type { KubeObject } from '../core/api/types.ts';
import { defaultDataDir, startCluster, type Cluster } from '../core/cluster.ts';
import { DesktopHost } from '../core/desktop/host.ts';
import { registerIpc } from './ipc.ts';
import {
  CSP, guardNavigation, isAllowedRequest, isAppUrl, isDevelopment, ORIGIN, refusePermission, rendererFile, SCHEME, webPreferences, windowOpenHandler,
} from './security.ts';
import { safeStorageKeyProvider } from './safe-storage-key.ts';

const RENDERER_DIR = normalize(fileURLToPath(new URL('../../renderer/dist/', import.meta.url)));
const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const DEV = isDevelopment(app.isPackaged);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  void main();
}

async function main(): Promise<void> {
  await app.whenReady();
  lockDown();
  serveRenderer();

  let cluster: Cluster;
  try {
    const dataDir = defaultDataDir();
    cluster = await startCluster({
      dataDir,
      encryptionKey: safeStorageKeyProvider(dataDir), // Secrets at rest: the key sealed by the OS keychain
      ...(process.env.WHEELHOUSE_CLUSTER_NAME ? { name: process.env.WHEELHOUSE_CLUSTER_NAME } : {}),
    });
  } catch (e) {
    dialog.showErrorBox('Wheelhouse could not start', (e as Error).message);
    app.exit(1);
    return;
  }
  // The Kubernetes API (kubectl, client libraries) with DIR/kubeconfig, as `wheelhouse serve` has.
  let apiServer: ApiHttpServer | undefined;
  try {
    apiServer = await startClusterApi(cluster);
    console.log(`Kubernetes API: ${apiServer.url}\nkubeconfig:     ${apiServer.kubeconfigPath}`);
  } catch (e) {
    console.error(`the Kubernetes API could not start: ${(e as Error).message}`);
  }
  const host = new DesktopHost(cluster, { mode: 'electron', ...(apiServer ? { kubeconfig: kubeconfigFor(cluster, apiServer) } : {}) });
  const unregister = registerIpc(host, { isAppUrl });

  // What "Open" may send to the system browser: an open port-forward, or a port a Service
  // answers on here (a node port, or a LoadBalancer's port on 127.0.0.1).
  const mayOpen = async (url: string): Promise<boolean> => {
    if (host.portForwards.list().some((f) => url === f.url || url.startsWith(f.url))) return true;
    const port = Number(new URL(url).port);
    const services = await cluster.client.list<KubeObject>({ apiVersion: 'v1', kind: 'Service' }).catch(() => undefined);
    return !!services?.items.some((s) => ((s.spec?.ports ?? []) as Array<{ port?: number; nodePort?: number }>).some((p) => p.nodePort === port || (s.spec?.type === 'LoadBalancer' && p.port === port)));
  };
  let win = createWindow(mayOpen);

  app.on('second-instance', () => {
    if (win.isDestroyed()) win = createWindow(mayOpen);
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) win = createWindow(mayOpen);
  });
  app.on('window-all-closed', () => app.quit());

  let stopping = false;
  app.on('before-quit', (e) => {
    if (stopping) return;
    stopping = true;
    e.preventDefault();
    // The containers keep running: the next start adopts them.
    void (async () => {
      unregister();
      await host.close().catch(() => {});
      await apiServer?.close().catch(() => {});
      await cluster.stop().catch(() => {});
      app.quit();
    })();
  });
}

function createWindow(mayOpen: (url: string) => Promise<boolean>): BrowserWindow {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    title: 'Wheelhouse',
    show: false,
    backgroundColor: '#0f141c',
    webPreferences: webPreferences(PRELOAD, DEV),
  });
  win.once('ready-to-show', () => win.show());
  // "Open in browser" of a port-forward or a Service's host port: the system browser, never a window of ours.
  win.webContents.setWindowOpenHandler(
    windowOpenHandler((url) => {
      void mayOpen(url).then((ok) => {
        if (ok) void shell.openExternal(url);
      });
    }),
  );
  void win.loadURL(`${ORIGIN}/index.html#/overview`);
  return win;
}

/** Process-wide guards: every web contents, the default session. */
function lockDown(): void {
  app.on('web-contents-created', (_e, wc: WebContents) => {
    wc.on('will-navigate', (e, url) => guardNavigation(e, url));
    wc.on('will-redirect', (e, url) => guardNavigation(e, url));
    wc.on('will-attach-webview', (e) => e.preventDefault());
    wc.setWindowOpenHandler(windowOpenHandler());
  });
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler(refusePermission);
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isAllowedRequest(details.url, DEV) }));
}

/** `app://wheelhouse/<path>` → renderer/dist/<path>, with the CSP on every response. */
function serveRenderer(): void {
  protocol.handle(SCHEME, async (req) => {
    const file = rendererFile(RENDERER_DIR, req.url);
    if (file === 'bad') return new Response('bad path', { status: 400 });
    if (!file) return new Response('not found', { status: 404 });
    try {
      const body = await readFile(file);
      return new Response(body, {
        headers: {
          'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
          'Content-Security-Policy': CSP,
          'X-Content-Type-Options': 'nosniff',
        },
      });
    } catch {
      return new Response(file === normalize(`${RENDERER_DIR}/index.html`) ? 'The UI is not built: run bash scripts/build-ui.sh' : 'not found', { status: 404 });
    }
  });
}
