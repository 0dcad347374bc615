/**
 * Hash routes: #/overview, #/nodes[/name], #/workloads[/Kind/ns/name], #/pods[/ns/name[/tab]],
 * #/services[/ns/name[/tab]], #/config[/Kind/ns/name], #/deploy, #/import, #/images. The hash keeps the token's query intact.
 */
export interface Route {
  view: string;
  parts: string[];
}

function parse(): Route {
  const h = location.hash.replace(/^#\/?/, '');
  const [view = 'overview', ...parts] = h.split('/').map((p) => decodeURIComponent(p));
  return { view: view || 'overview', parts };
}

export const route = $state<Route>(parse());

window.addEventListener('hashchange', () => {
  const r = parse();
  route.view = r.view;
  route.parts = r.parts;
});

export function go(...parts: string[]): void {
  location.hash = '#/' + parts.map((p) => encodeURIComponent(p)).join('/');
}

export function href(...parts: string[]): string {
  return '#/' + parts.map((p) => encodeURIComponent(p)).join('/');
}
