/**
 * Keyboard shortcuts: `g` then a letter goes to a view; `/` focuses the search box; `i` imports
 * YAML; `t` switches the theme; `?` shows the list. Ignored while typing in a field.
 */
export interface Shortcut {
  keys: string;
  what: string;
}

export const SHORTCUTS: Shortcut[] = [
  { keys: 'g o', what: 'Overview' },
  { keys: 'g n', what: 'Nodes' },
  { keys: 'g w', what: 'Workloads' },
  { keys: 'g p', what: 'Pods' },
  { keys: 'g s', what: 'Services' },
  { keys: 'g c', what: 'ConfigMaps & Secrets' },
  { keys: 'g d', what: 'Deploy (form)' },
  { keys: 'g i', what: 'Images' },
  { keys: 'i', what: 'Import YAML files' },
  { keys: '/', what: 'Focus the search / filter box' },
  { keys: 'n', what: 'Next namespace' },
  { keys: 't', what: 'Light / dark theme' },
  { keys: '?', what: 'This list' },
  { keys: 'Esc', what: 'Close a dialog' },
];

export function isTyping(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  if (!t) return false;
  return t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName) || !!t.closest('.xterm');
}
