/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { DesktopBridge } from '../../core/desktop-api.ts';

declare global {
  interface Window {
    /** The Electron preload's bridge (absent in browser mode). */
    wheelhouse?: DesktopBridge;
  }
}
export {};
