/**
 * Electron's security checklist, item by item, against the desktop shell's own settings
 * (electron/security.ts — no Electron binary needed): isolation and sandbox, no Node in the page,
 * web security on, a strict CSP, nothing remote loaded, navigation and new windows refused,
 * permissions refused, IPC only from the app's own top frame with every call's arguments
 * validated, devtools only in development. The last block checks main.ts, ipc.ts and preload.ts
 * still wire exactly these values (they need Electron to run, so they are read, not imported).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DesktopError } from '../../../core/desktop-api.ts';
import {
  checkIpcSender, CSP, guardNavigation, ipcHandler, isAllowedRequest, isAppUrl, isDevelopment, ORIGIN, refusePermission, rendererFile, webPreferences,
  windowOpenHandler,
} from '../../../electron/security.ts';
import { harness, type Harness } from './helpers.ts';

const APP = `${ORIGIN}/index.html#/overview`;
const REMOTE = ['https://example.com/', 'http://example.com/x.js', 'file:///etc/passwd', 'app://evil/index.html', 'app://wheelhouse.evil.com/', 'ws://127.0.0.1:1/', 'http://127.0.0.1:8080/', 'javascript:alert(1)'];

/** A fake IpcMainInvokeEvent: the sender's top frame, or a subframe of it. */
function ipcEvent(url: string, opts: { subframe?: boolean; noFrame?: boolean } = {}): any {
  const mainFrame = { url };
  const sender = { id: 1, mainFrame };
  return { sender, senderFrame: opts.noFrame ? null : opts.subframe ? { url } : mainFrame };
}

describe('BrowserWindow webPreferences', () => {
  const prod = webPreferences('/app/preload.cjs', false);

  it('isolates the page: contextIsolation, sandbox, no Node integration anywhere', () => {
    expect(prod.contextIsolation).toBe(true);
    expect(prod.sandbox).toBe(true);
    expect(prod.nodeIntegration).toBe(false);
    expect(prod.nodeIntegrationInWorker).toBe(false);
    expect(prod.nodeIntegrationInSubFrames).toBe(false);
    expect(prod.preload).toBe('/app/preload.cjs');
  });

  it('keeps web security on and refuses insecure content, experimental features and webviews', () => {
    expect(prod.webSecurity).not.toBe(false);
    expect(prod.allowRunningInsecureContent).toBe(false);
    expect(prod.experimentalFeatures).toBe(false);
    expect(prod).not.toHaveProperty('enableBlinkFeatures');
    expect(prod.webviewTag).toBe(false);
    expect(prod.navigateOnDragDrop).toBe(false);
  });

  it('allows devtools only in development (from source, or WHEELHOUSE_DEV=1)', () => {
    expect(prod.devTools).toBe(false);
    expect(webPreferences('/p', true).devTools).toBe(true);
    expect(isDevelopment(true, {})).toBe(false);
    expect(isDevelopment(true, { WHEELHOUSE_DEV: '1' })).toBe(true);
    expect(isDevelopment(true, { WHEELHOUSE_DEV: 'yes' })).toBe(false);
    expect(isDevelopment(false, {})).toBe(true);
  });
});

describe('Content-Security-Policy', () => {
  const directives = new Map(CSP.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));

  it('allows scripts from the app only: no inline script, no eval, nothing remote', () => {
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(CSP).not.toMatch(/unsafe-eval|wasm-unsafe-eval|\*|https?:|wss?:/);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
  });

  it('shuts plugins, <base>, form posts and framing', () => {
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('form-action')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
  });
});

describe('no remote content, no navigation, no new windows', () => {
  it('loads only the app origin (plus data:/blob:, and devtools:// in development)', () => {
    expect(isAllowedRequest(APP, false)).toBe(true);
    expect(isAllowedRequest(`${ORIGIN}/assets/index-abc.js`, false)).toBe(true);
    expect(isAllowedRequest('data:image/png;base64,AA==', false)).toBe(true);
    for (const u of REMOTE) expect(isAllowedRequest(u, false), u).toBe(false);
    expect(isAllowedRequest('devtools://devtools/bundled/inspector.html', false)).toBe(false);
    expect(isAllowedRequest('devtools://devtools/bundled/inspector.html', true)).toBe(true);
  });

  it('serves app:// files from the renderer folder only', () => {
    const dir = '/opt/wheelhouse/renderer/dist/';
    expect(rendererFile(dir, `${ORIGIN}/`)).toBe(join(dir, 'index.html'));
    expect(rendererFile(dir, `${ORIGIN}/assets/app.js`)).toBe(join(dir, 'assets/app.js'));
    expect(rendererFile(dir, `${ORIGIN}/..%2f..%2f..%2fetc%2fpasswd`)).toBeUndefined();
    expect(rendererFile(dir, `${ORIGIN}/%2e%2e/%2e%2e/secret`)).toBe(join(dir, 'secret')); // the URL parser resolves the dots inside the origin
    expect(rendererFile(dir, 'app://other/index.html')).toBeUndefined();
    expect(rendererFile(dir, `${ORIGIN}/%E0%A4%A`)).toBe('bad');
  });

  it('blocks navigation (will-navigate / will-redirect) away from the app', () => {
    for (const u of REMOTE) {
      let prevented = false;
      guardNavigation({ preventDefault: () => (prevented = true) }, u);
      expect(prevented, u).toBe(true);
    }
    let prevented = false;
    guardNavigation({ preventDefault: () => (prevented = true) }, `${ORIGIN}/index.html#/pods`);
    expect(prevented).toBe(false);
    expect(isAppUrl(ORIGIN)).toBe(true);
  });

  it('denies every new window; only a local-port link is offered to the system browser', () => {
    const offered: string[] = [];
    const handler = windowOpenHandler((u) => offered.push(u));
    for (const u of [...REMOTE, APP, 'http://127.0.0.1.evil.com:80/', 'http://localhost:8080/', 'http://127.0.0.1:8080/ x']) {
      expect(handler({ url: u })).toEqual({ action: 'deny' });
    }
    expect(handler({ url: 'http://127.0.0.1:30080/' })).toEqual({ action: 'deny' });
    expect(offered).toEqual(['http://127.0.0.1:8080/', 'http://127.0.0.1:30080/']);
    expect(windowOpenHandler()({ url: 'http://127.0.0.1:8080/' })).toEqual({ action: 'deny' });
  });

  it('refuses permission requests', () => {
    let granted: boolean | undefined;
    refusePermission({}, 'media', (g) => (granted = g));
    expect(granted).toBe(false);
  });
});

describe('IPC', () => {
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.close();
  });

  it('accepts calls from the app’s own top frame only', () => {
    expect(checkIpcSender(ipcEvent(APP))).toBeUndefined();
    for (const e of [ipcEvent('https://example.com/'), ipcEvent(APP, { subframe: true }), ipcEvent(APP, { noFrame: true }), ipcEvent('app://evil/')]) {
      const refused = checkIpcSender(e);
      expect(refused).toBeInstanceOf(DesktopError);
      expect(refused!.reason).toBe('Forbidden');
    }
  });

  it('runs every call through the sender check, then the session', async () => {
    const calls: Array<[string, unknown]> = [];
    const session = { call: async (name: string, args: unknown) => (calls.push([name, args]), { ok: true }) };
    const handle = ipcHandler('nodes.cordon', () => session);
    expect(await handle(ipcEvent('https://example.com/'), { name: 'node-1' })).toEqual({
      error: { reason: 'Forbidden', message: "IPC calls are accepted from the app's own window only" },
    });
    expect(calls).toEqual([]);
    expect(await handle(ipcEvent(APP), { name: 'node-1' })).toEqual({ result: { ok: true } });
    expect(calls).toEqual([['nodes.cordon', { name: 'node-1' }]]);
  });

  it('validates the arguments of every call against the contract before a handler runs', async () => {
    h = await harness();
    const session = h.host.openSession(() => {});
    const handle = ipcHandler('nodes.cordon', () => session);
    const bad = await handle(ipcEvent(APP), { name: 3 });
    expect(bad).toMatchObject({ error: { reason: 'BadRequest', message: expect.stringMatching(/args\.name: must be a string/) } });
    const extra = await handle(ipcEvent(APP), { name: 'node-1', __proto__: { polluted: true }, extra: 1 });
    expect(extra).toMatchObject({ error: { reason: 'BadRequest' } });
    session.close();
  });
});

describe('the shell wires these settings', () => {
  const read = (f: string) => readFileSync(new URL(`../../../electron/${f}`, import.meta.url), 'utf8');

  it('main.ts: the window, the guards, the CSP header and the app origin', () => {
    const main = read('main.ts');
    expect(main).toMatch(/webPreferences: webPreferences\(PRELOAD, DEV\)/);
    expect(main).toMatch(/const DEV = isDevelopment\(app\.isPackaged\)/);
    expect(main).toMatch(/'will-navigate', \(e, url\) => guardNavigation\(e, url\)/);
    expect(main).toMatch(/'will-redirect', \(e, url\) => guardNavigation\(e, url\)/);
    expect(main).toMatch(/'will-attach-webview', \(e\) => e\.preventDefault\(\)/);
    expect(main).toMatch(/wc\.setWindowOpenHandler\(windowOpenHandler\(\)\)/);
    expect(main).toMatch(/setPermissionRequestHandler\(refusePermission\)/);
    expect(main).toMatch(/onBeforeRequest\(\(details, callback\) => callback\(\{ cancel: !isAllowedRequest\(details\.url, DEV\) \}\)\)/);
    expect(main).toMatch(/'Content-Security-Policy': CSP/);
    expect(main).toMatch(/loadURL\(`\$\{ORIGIN\}\//);
    expect(main).not.toMatch(/loadFile\(|loadURL\(['"`]https?:/);
  });

  it('ipc.ts registers every call with the guarded handler; preload exposes only the contract', () => {
    expect(read('ipc.ts')).toMatch(/ipcMain\.handle\(IPC_CALL_PREFIX \+ name, ipcHandler\(name, sessionFor, opts\.isAppUrl\)\)/);
    const preload = read('preload.ts');
    expect(preload).toMatch(/contextBridge\.exposeInMainWorld\('wheelhouse', bridge\)/);
    expect(preload).not.toMatch(/exposeInMainWorld\([^)]*ipcRenderer/);
  });
});
