/**
 * The desktop shell's security settings, in one module with no runtime Electron import so that
 * test/unit/desktop/electron-security.test.ts checks each item of Electron's security checklist:
 *  - the window's webPreferences: contextIsolation, sandbox, no Node integration anywhere,
 *    webSecurity on, no insecure content, no webviews, devtools only in development;
 *  - the Content-Security-Policy of every app response (no eval, no inline script, nothing remote);
 *  - no remote content: requests other than the app's own `app://wheelhouse/` origin are cancelled;
 *  - navigation away from the app and new windows are refused; only an http://127.0.0.1:<port>/
 *    link may go to the system browser (and main.ts checks it is an open port-forward or a
 *    Service's port first);
 *  - permission requests are refused;
 *  - IPC: a call is served only from the app's own top frame, and every call goes through the
 *    session, which validates its arguments against the contract's schema before a handler runs.
 * main.ts, ipc.ts and the test all use these values; main.ts only wires them to Electron.
 */
import { join, normalize, sep } from 'node:path';
import type { IpcMainInvokeEvent, WebPreferences, WindowOpenHandlerResponse } from 'electron';
import { DesktopError, type CallName, type CallOutcome } from '../core/desktop-api.ts';
import { toDesktopError } from '../core/desktop/errors.ts';

export { CSP } from '../core/desktop/browser-server.ts';

export const SCHEME = 'app';
export const ORIGIN = `${SCHEME}://wheelhouse`;

/** The app's own pages: `app://wheelhouse` and below — nothing else is ever loaded or navigated to. */
export const isAppUrl = (url: string): boolean => url === ORIGIN || url.startsWith(`${ORIGIN}/`);

/** Devtools and devtools:// requests: only running from source, or with WHEELHOUSE_DEV=1. */
export function isDevelopment(isPackaged: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return !isPackaged || env.WHEELHOUSE_DEV === '1';
}

/** The BrowserWindow's webPreferences. */
export function webPreferences(preload: string, dev: boolean): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    devTools: dev,
  };
}

/** `will-navigate` / `will-redirect`: the app never leaves its own origin. */
export function guardNavigation(event: { preventDefault(): void }, url: string): void {
  if (!isAppUrl(url)) event.preventDefault();
}

/** A page a local port answers (an open port-forward, a node port): the only links "Open" may hand to the system browser. */
export const isLocalPortUrl = (url: string): boolean => /^http:\/\/127\.0\.0\.1:\d{1,5}\/[^\s]*$/.test(url);

/**
 * `setWindowOpenHandler`: never a new window of ours. A local-port link goes to `openExternal`
 * (which checks it against what is actually open before calling shell.openExternal).
 */
export function windowOpenHandler(openExternal?: (url: string) => void): (details: { url: string }) => WindowOpenHandlerResponse {
  return ({ url }) => {
    if (openExternal && isLocalPortUrl(url)) openExternal(url);
    return { action: 'deny' };
  };
}

/** `webRequest.onBeforeRequest`: the app's origin, data: and blob: URLs (and devtools in development). */
export function isAllowedRequest(url: string, dev: boolean): boolean {
  return isAppUrl(url) || url.startsWith('data:') || url.startsWith('blob:') || (dev && url.startsWith('devtools://'));
}

/** Permission requests (camera, notifications, clipboard …): always refused. */
export function refusePermission(_wc: unknown, _permission: string, callback: (granted: boolean) => void): void {
  callback(false);
}

/**
 * The IPC sender check: the call must come from the top frame of the web contents it was sent
 * by, showing the app's own origin — a subframe or any other page gets Forbidden.
 */
export function checkIpcSender(event: Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>, isApp: (url: string) => boolean = isAppUrl): DesktopError | undefined {
  const frame = event.senderFrame;
  if (!frame || frame !== event.sender.mainFrame || !isApp(frame.url)) {
    return new DesktopError('Forbidden', "IPC calls are accepted from the app's own window only");
  }
  return undefined;
}

/** What the IPC handler needs of a window's DesktopSession. */
export interface CallTarget {
  call(name: string, args: unknown): Promise<unknown>;
}

/**
 * The one IPC handler every call of the contract is registered with: sender check, then the
 * window's session runs the call — validating the arguments against the call's schema first.
 * Results and errors cross as `{ result }` or the envelope `{ error: { reason, message, details } }`.
 */
export function ipcHandler(
  name: CallName,
  sessionFor: (sender: IpcMainInvokeEvent['sender']) => CallTarget,
  isApp: (url: string) => boolean = isAppUrl,
): (event: IpcMainInvokeEvent, args: unknown) => Promise<CallOutcome<unknown>> {
  return async (event, args) => {
    const refused = checkIpcSender(event, isApp);
    if (refused) return refused.toEnvelope();
    try {
      return { result: (await sessionFor(event.sender).call(name, args)) ?? null };
    } catch (e) {
      return toDesktopError(e).toEnvelope();
    }
  };
}

/**
 * The file an `app://wheelhouse/<path>` request serves from the built renderer: undefined for
 * another host or a path that escapes the folder (`..`, encoded or not), 'bad' for an undecodable one.
 */
export function rendererFile(rendererDir: string, requestUrl: string): string | 'bad' | undefined {
  const url = new URL(requestUrl);
  if (`${url.protocol}//${url.host}` !== ORIGIN) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return 'bad';
  }
  if (path === '/' || path === '') path = '/index.html';
  const root = normalize(rendererDir.endsWith(sep) ? rendererDir : rendererDir + sep);
  const file = normalize(join(root, path));
  return file.startsWith(root) ? file : undefined;
}
