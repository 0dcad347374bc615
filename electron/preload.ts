/**
 * The preload (sandboxed, context-isolated): exposes exactly the desktop contract as
 * `window.wheelhouse` — one function per call of CALL_NAMES and `on(event, listener)` for the
 * events of EVENT_NAMES. Never `ipcRenderer` itself, no Node, nothing else.
 * Bundled to one CommonJS file by scripts/build-ui.sh (sandboxed preloads cannot import).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  CALL_NAMES, EVENT_NAMES, IPC_CALL_PREFIX, IPC_EVENT_PREFIX, type CallName, type DesktopBridge, type EventName,
} from '../core/desktop-api.ts';

const events = new Set<string>(EVENT_NAMES);

const calls = Object.fromEntries(
  CALL_NAMES.map((name: CallName) => [name, (args: unknown) => ipcRenderer.invoke(IPC_CALL_PREFIX + name, args)]),
) as DesktopBridge['calls'];

const bridge: DesktopBridge = {
  calls,
  on(event: EventName, listener: (payload: never) => void) {
    if (!events.has(event)) throw new Error(`wheelhouse.on: unknown event ${String(event)}`);
    if (typeof listener !== 'function') throw new Error('wheelhouse.on: the listener must be a function');
    const wrapped = (_e: IpcRendererEvent, payload: unknown) => listener(payload as never);
    ipcRenderer.on(IPC_EVENT_PREFIX + event, wrapped);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT_PREFIX + event, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('wheelhouse', bridge);
