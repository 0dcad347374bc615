/**
 * App-wide UI state: the namespace switcher, the theme, toasts, dialogs' confirmations.
 */
import { DesktopError } from '../../../core/desktop-api.ts';

export type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const saved = localStorage.getItem('wheelhouse.theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export const ui = $state({
  /** '' = all namespaces */
  namespace: localStorage.getItem('wheelhouse.namespace') ?? '',
  theme: initialTheme(),
  connected: true,
  showShortcuts: false,
});

export function setNamespace(ns: string): void {
  ui.namespace = ns;
  localStorage.setItem('wheelhouse.namespace', ns);
}

export function toggleTheme(): void {
  ui.theme = ui.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('wheelhouse.theme', ui.theme);
  // At once, before any effect runs: charts read the theme's colors when they redraw.
  document.documentElement.dataset.theme = ui.theme;
}

document.documentElement.dataset.theme = ui.theme;

/** A clock for relative times ("3m ago"): display only, never a reason to ask the backend. */
export const clock = $state({ now: Date.now() });
setInterval(() => (clock.now = Date.now()), 5_000);

export function inNamespace(o: { metadata: { namespace?: string } }): boolean {
  return !ui.namespace || o.metadata.namespace === ui.namespace;
}

export interface Toast {
  id: number;
  kind: 'error' | 'info' | 'success' | 'warning';
  title: string;
  text?: string;
}

export const toasts = $state<Toast[]>([]);
let nextToast = 1;

export function toast(kind: Toast['kind'], title: string, text?: string, ms = kind === 'error' ? 9000 : kind === 'success' ? 3000 : 5000): void {
  const id = nextToast++;
  toasts.push({ id, kind, title, ...(text ? { text } : {}) });
  if (toasts.length > 5) toasts.splice(0, toasts.length - 5);
  setTimeout(() => dismiss(id), ms);
}

export function dismiss(id: number): void {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
}

/** Runs an action; a failure becomes an error toast (its reason and message). */
export async function attempt<T>(what: string, fn: () => Promise<T>, success?: string): Promise<T | undefined> {
  try {
    const r = await fn();
    if (success) toast('success', success);
    return r;
  } catch (e) {
    toast('error', `${what} failed`, e instanceof DesktopError ? `${e.reason}: ${e.message}` : e instanceof Error ? e.message : String(e));
    return undefined;
  }
}

/** A confirmation dialog as a promise: `if (await confirm({ … })) …`. */
export interface ConfirmRequest {
  title: string;
  text: string;
  confirmLabel?: string;
  danger?: boolean;
  resolve: (ok: boolean) => void;
}

export const dialogs = $state<{ confirm: ConfirmRequest | null }>({ confirm: null });

export function confirm(req: Omit<ConfirmRequest, 'resolve'>): Promise<boolean> {
  return new Promise((resolve) => {
    dialogs.confirm = { ...req, resolve: (ok) => {
      dialogs.confirm = null;
      resolve(ok);
    } };
  });
}
