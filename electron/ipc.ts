/**
 * The desktop contract over Electron IPC: one generic `handle()` registers every call of
 * CALL_NAMES on `wheelhouse:call:<name>`, and each window gets its own DesktopSession whose
 * pushed events go to `wheelhouse:event:<name>`. Every call checks that it comes from the app's
 * own top frame (the sender frame's URL must be the app's origin) — a frame with other content
 * gets Forbidden — and the session validates the arguments before a handler runs. Results and
 * errors cross as `{ result }` or the envelope `{ error: { reason, message, details } }`.
 * The handler itself (sender check, then the session) is security.ts's `ipcHandler`.
 */
import { ipcMain, type WebContents } from 'electron';
import { CALL_NAMES, IPC_CALL_PREFIX, IPC_EVENT_PREFIX, type CallName } from '../core/desktop-api.ts';
import type { DesktopHost, DesktopSession } from '../core/desktop/host.ts';
import { ipcHandler } from './security.ts';

export interface IpcOptions {
  /** Whether a frame URL is the app's own page (e.g. starts with `app://wheelhouse/`). */
  isAppUrl(url: string): boolean;
}

export function registerIpc(host: DesktopHost, opts: IpcOptions): () => void {
  const sessions = new Map<number, DesktopSession>();
  const wired = new Set<number>();

  const sessionFor = (wc: WebContents): DesktopSession => {
    let s = sessions.get(wc.id);
    if (s && !s.isClosed) return s;
    s = host.openSession((event, payload) => {
      if (!wc.isDestroyed()) wc.send(IPC_EVENT_PREFIX + event, payload);
    });
    sessions.set(wc.id, s);
    if (!wired.has(wc.id)) {
      wired.add(wc.id);
      const id = wc.id;
      const end = () => {
        sessions.get(id)?.close();
        sessions.delete(id);
      };
      // A reload ends what the old page opened (watches, streams, shells); so does a closed window.
      wc.on('did-start-loading', end);
      wc.once('destroyed', () => {
        end();
        wired.delete(id);
      });
    }
    return s;
  };

  /** The one generic registration: every call goes through the same checks. */
  function handle<K extends CallName>(name: K): void {
    ipcMain.handle(IPC_CALL_PREFIX + name, ipcHandler(name, sessionFor, opts.isAppUrl));
  }

  for (const name of CALL_NAMES) handle(name);

  return () => {
    for (const name of CALL_NAMES) ipcMain.removeHandler(IPC_CALL_PREFIX + name);
    for (const s of sessions.values()) s.close();
    sessions.clear();
  };
}
