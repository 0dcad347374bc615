/**
 * The Overview (nodes, pods by phase, capacity used and requested vs allocatable, warnings,
 * problem pods, image pulls, recent events), the Services list and a Service's page (ready
 * endpoints, ports, host addresses, bind failures, port-forwards, DNS names), the toasts and the
 * pull progress bars.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { userEvent } from 'vitest/browser';
import ConfirmDialog from '../../renderer/src/components/ConfirmDialog.svelte';
import PullProgress from '../../renderer/src/components/PullProgress.svelte';
import Toasts from '../../renderer/src/components/Toasts.svelte';
import { pulls, startPulls } from '../../renderer/src/lib/pulls.svelte.ts';
import { startStores } from '../../renderer/src/lib/resources.svelte.ts';
import { attempt, setNamespace, toast, toasts } from '../../renderer/src/lib/ui.svelte.ts';
import Overview from '../../renderer/src/views/Overview.svelte';
import Services from '../../renderer/src/views/Services.svelte';
import { DesktopError, type PortForwardInfo, type UsagePoint } from '../../core/desktop-api.ts';
import { deployment, endpoints, event, namespace, navigate, node, pod, pull, service, textOf, typeInto, waitForHash } from './fixtures-config.ts';
import { allByTestId, byTestId, cleanup, FakeMain, render, until, useFake } from './harness.ts';

const GI = 1024 ** 3;
const MI = 1024 ** 2;
const now = Date.now();
const ago = (s: number) => new Date(now - s * 1000).toISOString();

const web2 = () => pod('default', 'web-2', { cpu: '250m', memory: '256Mi' });
const webEndpoints = () => endpoints('default', 'web', [{ ip: '10.244.0.5', pod: 'web-1' }, { ip: '10.244.0.6', pod: 'web-2', node: 'node-2' }], [{ ip: '10.244.0.7', pod: 'web-3' }]);

const fake = useFake(
  new FakeMain()
    .set('Namespace', [namespace('default'), namespace('team-a'), namespace('kube-system')])
    .set('Node', [node('node-1', { cpu: '4', memory: '8Gi' }), node('node-2', { ready: false, cpu: '2', memory: '4Gi' })])
    .set('Pod', [
      pod('default', 'web-1', { cpu: '500m', memory: '256Mi' }),
      web2(),
      pod('default', 'job-1', { phase: 'Succeeded', cpu: '1', memory: '1Gi' }),
      pod('team-a', 'pending-1', { phase: 'Pending', cpu: '2' }),
      pod('team-a', 'crash-1', { cpu: '100m', waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } }),
      pod('team-a', 'failed-1', { phase: 'Failed', cpu: '3' }),
    ])
    .set('Deployment', [deployment('default', 'web'), deployment('team-a', 'api')])
    .set('Event', [
      event('default', { reason: 'Scheduled', message: 'Successfully assigned default/web-1 to node-1', kind: 'Pod', name: 'web-1', at: ago(300) }),
      event('default', { type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: connection refused', kind: 'Pod', name: 'web-2', at: ago(120), count: 3 }),
      event('team-a', { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container app', kind: 'Pod', name: 'crash-1', at: ago(30) }),
      event('team-a', { type: 'Warning', reason: 'FailedScheduling', message: '0/2 nodes are available: 1 Insufficient cpu', kind: 'Pod', name: 'pending-1', at: ago(60) }),
      event('default', { type: 'Warning', reason: 'FailedToBindPort', message: 'node port 30090/TCP: bind: address already in use', kind: 'Service', name: 'web-np-2', at: ago(90) }),
      event('default', { type: 'Warning', reason: 'FailedToBindPort', message: 'node port 30091/TCP: already used by service default/gone', kind: 'Service', name: 'web-np-2', at: ago(80) }),
      event('default', { reason: 'Created', message: 'Created endpoints', kind: 'Endpoints', name: 'web', at: ago(10) }),
    ])
    .set('Service', [
      service('default', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'grpc', port: 9090, appProtocol: 'kubernetes.io/h2c' }] }),
      service('default', 'web-np', { type: 'NodePort', clusterIP: '10.96.0.21', ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] }),
      service('default', 'web-np-2', { type: 'NodePort', clusterIP: '10.96.0.25', ports: [{ port: 80, targetPort: 8080, nodePort: 30090 }, { port: 81, targetPort: 8081, nodePort: 30091 }] }),
      service('default', 'web-lb', { type: 'LoadBalancer', clusterIP: '10.96.0.22', ports: [{ port: 8081, targetPort: 8080, nodePort: 31001 }], ingress: [{ ip: '127.0.0.1', ports: [{ port: 8081, protocol: 'TCP' }] }] }),
      service('default', 'web-lb-2', {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.23',
        ports: [{ port: 8081, targetPort: 8080, nodePort: 31002 }],
        ingress: [{ ip: '127.0.0.1', ports: [{ port: 8081, protocol: 'TCP', error: 'port 8081/TCP is already used by service default/web-lb' }] }],
      }),
      service('default', 'db', { clusterIP: 'None', ports: [{ port: 5432 }] }),
      service('default', 'manual', { selector: null, ports: [{ port: 9000 }] }),
      service('default', 'ext', { type: 'ExternalName', externalName: 'example.com', ports: [] }),
      service('kube-system', 'kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }], selector: { 'k8s-app': 'kube-dns' } }),
    ])
    .set('Endpoints', [
      webEndpoints(),
      endpoints('default', 'web-np', [{ ip: '10.244.0.5', pod: 'web-1' }]),
      endpoints('default', 'web-lb', [{ ip: '10.244.0.5', pod: 'web-1' }]),
      endpoints('default', 'web-lb-2', []),
      endpoints('default', 'db', [{ ip: '10.244.1.2', pod: 'db-0', hostname: 'db-0' }, { ip: '10.244.1.3', pod: 'db-1', hostname: 'db-1' }], [], [5432]),
      endpoints('kube-system', 'kube-dns', [{ ip: '10.244.0.2', pod: 'coredns-1' }], [], [53]),
    ]),
);

// Cluster metrics: the latest usage of each node comes with the history, then in pushed samples.
const subscriptions: string[] = [];
const usage = (cpu: number, memory: number): UsagePoint => ({ t: now, cpu, memory });
fake.handle('metrics.subscribe', () => {
  const subscriptionId = `sub-${subscriptions.length + 1}`;
  subscriptions.push(subscriptionId);
  return { subscriptionId, series: { type: 'usage', points: [usage(2, 3 * GI)], windowMs: 900_000, intervalMs: 5_000, nodes: { 'node-1': usage(1.5, 2 * GI), 'node-2': usage(0.5, GI) } } };
});

let forwards: PortForwardInfo[] = [];
fake.handle('portForward.list', () => forwards);
fake.handle('portForward.open', (a) => {
  const f: PortForwardInfo = { id: `pf-${a.port}`, namespace: a.namespace, ...(a.service ? { service: a.service } : {}), port: a.port, localPort: 40000 + a.port, url: `http://127.0.0.1:${40000 + a.port}/`, connections: 0 };
  forwards = [...forwards, f];
  return f;
});
fake.handle('portForward.close', (a) => {
  forwards = forwards.filter((f) => f.id !== a.id);
  return null;
});
fake.handle('resources.delete', () => null);
startStores();
startPulls();

beforeEach(async () => {
  // Tests change some objects through pushes: each starts from the fixtures.
  fake.push('Endpoints', [webEndpoints()]);
  fake.push('Pod', [web2()]);
  fake.push('Event', [], [{ namespace: 'default', name: 'web-9.latest' }]);
  fake.calls.length = 0;
  forwards = [];
  toasts.splice(0);
  pulls.byPod = {};
  setNamespace('');
  sessionStorage.clear();
  await navigate('#/overview');
});
afterEach(cleanup);

const card = (root: ParentNode, title: string) => [...root.querySelectorAll<HTMLElement>('.card')].find((c) => textOf(c.querySelector('h2, h3')) === title);
const meter = (root: ParentNode, label: string) => root.querySelector<HTMLElement>(`[role=meter][aria-label="${label}"]`)!;
const meterText = (root: ParentNode, label: string) => textOf(meter(root, label).closest('.meter')!.querySelector('.nums'));

describe('Overview', () => {
  it('counts ready nodes, pods by phase, workloads, warnings and problem pods', async () => {
    const { target } = render(Overview);
    await until('the nodes', () => textOf(byTestId(target, 'overview-nodes')).includes('1/2'));
    const pods = byTestId(target, 'overview-pods')!;
    await until('six pods', () => textOf(pods.querySelector('.stat')) === '6');
    expect([...pods.querySelectorAll('.phase')].map(textOf)).toEqual(['3 Running', '1 Pending', '1 Succeeded', '1 Failed']);
    expect(textOf(card(target, 'Workloads')?.querySelector('.stat') ?? target.querySelector('a[href="#/workloads"] .stat'))).toBe('2');
    const warnings = [...target.querySelectorAll('.stat-card')].find((c) => textOf(c.querySelector('h3')) === 'Warnings')!;
    expect(textOf(warnings.querySelector('.stat'))).toBe('5');
    expect(textOf(warnings)).toContain('2 pods with problems');
    expect(warnings.classList.contains('alert')).toBe(true);

    const problems = card(target, 'Pods with problems')!;
    const rows = [...problems.querySelectorAll('tr')].map(textOf);
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.startsWith('team-a/crash-1'))).toContain('CrashLoopBackOff');
    expect(rows.find((r) => r.startsWith('team-a/crash-1'))).toContain('back-off 40s restarting failed container');
    expect(rows.find((r) => r.startsWith('team-a/failed-1'))).toContain('Error');
    expect(problems.querySelector('a')!.getAttribute('href')).toMatch(/^#\/pods\/team-a\//);
  });

  it('shows CPU and memory used and requested against what the nodes can allocate, following pushed samples', async () => {
    const subscribed = subscriptions.length;
    const { target } = render(Overview);
    // Used: the nodes' latest usage (1.5 + 0.5 cores, 2 + 1 GiB). Requested: pods bound to a node
    // and not finished (500m + 250m + 100m, 256 + 256 MiB). Allocatable: 4 + 2 cores, 8 + 4 GiB.
    await until('the CPU meter', () => meterText(target, 'CPU') === '2 used · 850m requested / 6');
    expect(subscriptions.length - subscribed, 'one metrics subscription serves the meters and the charts').toBe(1);
    expect(meterText(target, 'Memory')).toBe('3.0 GiB used · 512 MiB requested / 12.0 GiB');
    expect(meter(target, 'CPU').getAttribute('aria-valuenow')).toBe('2');
    expect(meter(target, 'CPU').getAttribute('aria-valuemax')).toBe('6');
    expect(meter(target, 'Memory').getAttribute('aria-valuemax')).toBe(String(12 * GI));
    expect(meter(target, 'CPU').querySelector<HTMLElement>('.used')!.style.width).toMatch(/^33\.3+\d*%$/);

    for (const subscriptionId of subscriptions) fake.emit('metrics.samples', { subscriptionId, usage: usage(5.7, 11.5 * GI), nodes: { 'node-1': usage(3.9, 8 * GI), 'node-2': usage(1.8, 3.5 * GI) } });
    await until('the new usage', () => meterText(target, 'CPU') === '5.7 used · 850m requested / 6');
    expect(meterText(target, 'Memory')).toBe('11.5 GiB used · 512 MiB requested / 12.0 GiB');
    // Over 90 %: the bars say so.
    expect(meter(target, 'CPU').classList.contains('high')).toBe(true);
    expect(meter(target, 'Memory').classList.contains('high')).toBe(true);

    // A pod that finishes no longer counts as requested.
    fake.push('Pod', [pod('default', 'web-2', { phase: 'Succeeded', cpu: '250m', memory: '256Mi' })]);
    await until('requests without web-2', () => meterText(target, 'CPU') === '5.7 used · 600m requested / 6');
  });

  it('lists recent events newest first', async () => {
    const { target } = render(Overview);
    const events = await until('the events', () => card(target, 'Recent events')?.querySelector('[data-testid=events]'));
    const rows = [...events.querySelectorAll('tbody tr')];
    expect(rows.map((r) => textOf(r.querySelector('td:nth-child(2)')))).toEqual(['Created', 'BackOff', 'FailedScheduling', 'FailedToBindPort', 'FailedToBindPort', 'Unhealthy', 'Scheduled']);
    expect(textOf(rows[1])).toContain('Pod crash-1');
    expect(rows[1]!.querySelector('.type')!.classList.contains('warning')).toBe(true);
    expect(textOf(rows[5])).toContain('×3');
    fake.push('Event', [{ ...event('default', { type: 'Warning', reason: 'Failed', message: 'Error: ErrImagePull', kind: 'Pod', name: 'web-9', at: new Date().toISOString() }), metadata: { namespace: 'default', name: 'web-9.latest' } }]);
    await until('the new event on top', () => textOf(card(target, 'Recent events')!.querySelector('tbody tr td:nth-child(2)')) === 'Failed');
  });

  it('narrows to the namespace chosen', async () => {
    const { target } = render(Overview);
    await until('six pods', () => textOf(byTestId(target, 'overview-pods')!.querySelector('.stat')) === '6');
    setNamespace('team-a');
    await until('three pods', () => textOf(byTestId(target, 'overview-pods')!.querySelector('.stat')) === '3');
    expect([...byTestId(target, 'overview-pods')!.querySelectorAll('.phase')].map(textOf)).toEqual(['1 Running', '1 Pending', '1 Failed']);
    expect(textOf(target.querySelector('.page-head'))).toContain('namespace team-a');
    const warnings = [...target.querySelectorAll('.stat-card')].find((c) => textOf(c.querySelector('h3')) === 'Warnings')!;
    expect(textOf(warnings.querySelector('.stat'))).toBe('2');
    expect([...card(target, 'Recent events')!.querySelectorAll('tbody tr td:nth-child(2)')].map(textOf)).toEqual(['BackOff', 'FailedScheduling']);
    // Nodes are not namespaced: still both.
    expect(textOf(byTestId(target, 'overview-nodes'))).toContain('1/2');
  });

  it('shows image pulls while they run, from pushed pull updates', async () => {
    const { target } = render(Overview);
    await until('the page', () => byTestId(target, 'overview-pods'));
    expect(card(target, 'Image pulls')).toBeUndefined();
    fake.emit('pull.update', { pods: [{ namespace: 'default', pod: 'web-3', images: [pull('nginx:1.27', { currentBytes: 12 * MI, totalBytes: 48 * MI, layers: 3 })] }] });
    const pullsCard = await until('the pulls card', () => card(target, 'Image pulls'));
    expect(textOf(pullsCard)).toContain('default/web-3');
    expect(textOf(pullsCard)).toContain('12.0 MiB / 48.0 MiB · 3 layers');
    expect(pullsCard.querySelector<HTMLElement>('.fill')!.style.width).toBe('25%');
    fake.emit('pull.update', { pods: [{ namespace: 'default', pod: 'web-3', images: [pull('nginx:1.27', { currentBytes: 36 * MI, totalBytes: 48 * MI, layers: 3 })] }] });
    await until('75 %', () => card(target, 'Image pulls')?.querySelector<HTMLElement>('.fill')?.style.width === '75%');
    fake.emit('pull.update', { pods: [{ namespace: 'default', pod: 'web-3', images: [pull('nginx:1.27', { done: true, currentBytes: 48 * MI, totalBytes: 48 * MI, layers: 3 })] }] });
    await until('the card gone once pulled', () => !card(target, 'Image pulls'));
  });
});

describe('PullProgress', () => {
  it('draws a bar per image: bytes and layers, starting, pulled, failed', () => {
    const { target } = render(PullProgress, {
      images: [
        pull('nginx:1.27', { currentBytes: 5 * MI, totalBytes: 20 * MI, layers: 4 }),
        pull('busybox:1.36', { container: 'init' }),
        pull('redis:7', { container: 'cache', done: true, currentBytes: 30 * MI, totalBytes: 30 * MI, layers: 5 }),
        pull('private.example/app:1', { container: 'side', error: 'pull access denied: unauthorized' }),
      ],
    });
    const pullEls = [...target.querySelectorAll<HTMLElement>('.pull')];
    expect(pullEls).toHaveLength(4);
    const [progress, starting, pulled, failed] = pullEls as [HTMLElement, HTMLElement, HTMLElement, HTMLElement];
    expect(textOf(progress.querySelector('.head'))).toBe('nginx:1.27 5.0 MiB / 20.0 MiB · 4 layers');
    expect(progress.querySelector<HTMLElement>('.fill')!.style.width).toBe('25%');
    expect(textOf(starting.querySelector('.head'))).toBe('busybox:1.36 starting…');
    expect(starting.querySelector('.bar')!.classList.contains('indeterminate')).toBe(true);
    expect(textOf(pulled.querySelector('.head'))).toBe('redis:7 pulled');
    expect(pulled.querySelector<HTMLElement>('.fill')!.style.width).toBe('100%');
    expect(textOf(failed.querySelector('.head'))).toBe('private.example/app:1 failed');
    expect(failed.querySelector('.bar')!.classList.contains('error')).toBe(true);
    expect(textOf(failed.querySelector('.bar + .field-error'))).toBe('pull access denied: unauthorized');
  });
});

describe('Toasts', () => {
  it('shows toasts by kind, at most five, and dismisses them', async () => {
    const { target } = render(Toasts);
    toast('success', 'Saved');
    toast('error', 'Delete failed', 'NotFound: pods "web-1" not found');
    await until('two toasts', () => allByTestId(target, 'toast').length === 2);
    const [ok, bad] = allByTestId(target, 'toast');
    expect(ok!.getAttribute('role')).toBe('status');
    expect(ok!.classList.contains('success')).toBe(true);
    expect(bad!.getAttribute('role')).toBe('alert');
    expect(textOf(bad!.querySelector('.title'))).toBe('Delete failed');
    expect(textOf(bad!.querySelector('.text'))).toBe('NotFound: pods "web-1" not found');

    await userEvent.click(bad!.querySelector('[aria-label=Dismiss]')!);
    await until('one toast', () => allByTestId(target, 'toast').length === 1);
    expect(textOf(allByTestId(target, 'toast')[0])).toContain('Saved');

    for (let i = 1; i <= 6; i++) toast('info', `note ${i}`);
    await until('five toasts', () => allByTestId(target, 'toast').length === 5);
    expect(allByTestId(target, 'toast').map((t) => textOf(t.querySelector('.title')))).toEqual(['note 2', 'note 3', 'note 4', 'note 5', 'note 6']);
  });

  it('turns a failed action into an error toast with its reason', async () => {
    const { target } = render(Toasts);
    const r = await attempt('Scaling web', () => Promise.reject(new DesktopError('Conflict', 'the object has been modified')));
    expect(r).toBeUndefined();
    const t = await until('the toast', () => allByTestId(target, 'toast')[0]);
    expect(textOf(t.querySelector('.title'))).toBe('Scaling web failed');
    expect(textOf(t.querySelector('.text'))).toBe('Conflict: the object has been modified');
  });

  it('goes away by itself', async () => {
    const { target } = render(Toasts);
    toast('info', 'Brief', undefined, 150);
    await until('shown', () => allByTestId(target, 'toast').length === 1);
    await until('gone', () => allByTestId(target, 'toast').length === 0);
  });
});

// ---------------------------------------------------------------------------------------------

const row = (root: ParentNode, name: string) => root.querySelector<HTMLElement>(`[data-testid=service-row][data-name="${name}"]`);
const cell = (r: HTMLElement, n: number) => r.querySelector<HTMLElement>(`td:nth-child(${n})`)!;

describe('Services list', () => {
  it('shows each Service with its type, cluster IP, ports, ready endpoints and host addresses', async () => {
    await navigate('#/services');
    const { target } = render(Services);
    await until('nine rows', () => allByTestId(target, 'service-row').length === 9);
    expect(allByTestId(target, 'service-row').map((r) => r.dataset.name)).toEqual(['db', 'ext', 'manual', 'web', 'web-lb', 'web-lb-2', 'web-np', 'web-np-2', 'kube-dns']);
    expect(textOf(byTestId(target, 'service-count'))).toBe('9 of 9');

    const web = row(target, 'web')!;
    expect(textOf(cell(web, 3))).toBe('ClusterIP');
    expect(textOf(cell(web, 4))).toBe('10.96.0.20');
    expect(textOf(cell(web, 5))).toBe('80/TCP → 8080, 9090/TCP');
    const ep = web.querySelector<HTMLElement>('[data-testid=endpoints]')!;
    expect(textOf(ep)).toBe('2/3');
    expect(ep.title).toBe('1 not ready');
    expect(textOf(cell(web, 7))).toBe('—');

    const np = row(target, 'web-np')!;
    expect(textOf(cell(np, 5))).toBe('80:30080/TCP → 8080');
    const npLink = np.querySelector<HTMLAnchorElement>('[data-testid=external-link]')!;
    expect(textOf(npLink)).toBe('127.0.0.1:30080');
    expect(npLink.href).toBe('http://127.0.0.1:30080/');

    // A LoadBalancer shows its load balancer address; a second one on the same port cannot bind it.
    const lb = row(target, 'web-lb')!;
    expect(textOf(lb.querySelector('[data-testid=external-link]'))).toBe('127.0.0.1:8081');
    expect(lb.querySelector('[data-testid=port-warning]')).toBeNull();
    const lb2 = row(target, 'web-lb-2')!;
    const warning = lb2.querySelector<HTMLElement>('[data-testid=port-warning]')!;
    expect(warning.title).toContain('already used by service default/web-lb');
    expect(lb2.querySelector('[data-testid=external-link]')).toBeNull();
    expect(textOf(cell(lb2, 7))).toBe('127.0.0.1:8081');
    expect(cell(lb2, 7).querySelector('.bad')).not.toBeNull();
    expect(textOf(lb2.querySelector('[data-testid=endpoints]'))).toBe('0/0');
    expect(lb2.querySelector('[data-testid=endpoints]')!.classList.contains('warnc')).toBe(true);

    // A node port's bind failure counts while it applies: a holder that is gone does not.
    const np2 = row(target, 'web-np-2')!;
    expect(np2.querySelector<HTMLElement>('[data-testid=port-warning]')!.title).toBe('node port 30090/TCP: bind: address already in use');

    expect(textOf(cell(row(target, 'db')!, 4))).toBe('None');
    expect(textOf(cell(row(target, 'db')!, 3))).toBe('ClusterIP headless');
    expect(textOf(row(target, 'ext')!.querySelector('[data-testid=endpoints]'))).toBe('—');
    expect(textOf(cell(row(target, 'ext')!, 7))).toBe('example.com');
    // Without a selector, no endpoints is not a warning (they are managed by hand).
    expect(row(target, 'manual')!.querySelector('[data-testid=endpoints]')!.classList.contains('warnc')).toBe(false);
    expect(textOf(cell(row(target, 'kube-dns')!, 5))).toBe('53/UDP, 53/TCP');
  });

  it('filters by type and text, and follows endpoint changes', async () => {
    const { target } = render(Services);
    await until('rows', () => allByTestId(target, 'service-row').length === 9);
    expect(textOf(byTestId(target, 'type-NodePort'))).toBe('NodePort 2');
    expect(textOf(byTestId(target, 'type-Headless'))).toBe('Headless 1');
    expect(textOf(byTestId(target, 'type-ExternalName'))).toBe('ExternalName 1');
    await userEvent.click(byTestId(target, 'type-LoadBalancer')!);
    await until('two load balancers', () => allByTestId(target, 'service-row').length === 2);
    expect(byTestId(target, 'type-LoadBalancer')!.getAttribute('aria-selected')).toBe('true');
    await userEvent.click(byTestId(target, 'type-all')!);

    await typeInto(byTestId(target, 'service-filter')!, '30080');
    await until('only web-np', () => allByTestId(target, 'service-row').map((r) => r.dataset.name).join() === 'web-np');
    expect(textOf(byTestId(target, 'service-count'))).toBe('1 of 9');
    await typeInto(byTestId(target, 'service-filter')!, 'no-such-thing');
    await until('the empty row', () => textOf(target.querySelector('td.empty')) === 'No Service matches the filter.');
    await typeInto(byTestId(target, 'service-filter')!, '');

    setNamespace('kube-system');
    await until('kube-dns only', () => allByTestId(target, 'service-row').map((r) => r.dataset.name).join() === 'kube-dns');
    setNamespace('');

    fake.push('Endpoints', [endpoints('default', 'web', [{ ip: '10.244.0.5', pod: 'web-1' }, { ip: '10.244.0.6', pod: 'web-2' }, { ip: '10.244.0.7', pod: 'web-3' }])]);
    await until('3/3', () => textOf(row(target, 'web')?.querySelector('[data-testid=endpoints]')) === '3/3');
  });

  it('picks a row with the arrow keys and Enter, or a click', async () => {
    await navigate('#/services');
    const { target } = render(Services);
    await until('rows', () => allByTestId(target, 'service-row').length === 9);
    await typeInto(byTestId(target, 'service-filter')!, 'web');
    await until('the web rows', () => allByTestId(target, 'service-row').length === 5);
    await userEvent.keyboard('{ArrowDown}{ArrowDown}');
    await until('the second row selected', () => row(target, 'web-lb')!.classList.contains('sel'));
    await userEvent.keyboard('{Enter}');
    await waitForHash('#/services/default/web-lb');
    await until('its page', () => textOf(byTestId(target, 'service-title')) === 'web-lb');

    await navigate('#/services');
    await userEvent.click(await until('the web-np row', () => row(target, 'web-np') && cell(row(target, 'web-np')!, 2)));
    await waitForHash('#/services/default/web-np');
  });
});

describe('a Service\'s page', () => {
  it('shows ready endpoints n/m, the ports, the selector and its DNS name', async () => {
    await navigate('#/services/default/web');
    const { target } = render(Services);
    await until('the title', () => textOf(byTestId(target, 'service-title')) === 'web');
    await until('the badge', () => target.querySelector('.page-head [data-status]'));
    expect(target.querySelector('.page-head [data-status]')!.getAttribute('data-status')).toBe('2/3 ready');
    expect(textOf(target.querySelector('.meta'))).toContain('Cluster IP 10.96.0.20');

    const eps = allByTestId(target, 'endpoint');
    expect(eps.map((e) => [textOf(e.querySelector('td')), e.dataset.ready])).toEqual([
      ['web-1', 'true'],
      ['web-2', 'true'],
      ['web-3', 'false'],
    ]);
    expect(eps[0]!.querySelector('a')!.getAttribute('href')).toBe('#/pods/default/web-1');
    expect(textOf(eps[1]!.querySelector('td:nth-child(4)'))).toBe('node-2');
    expect(textOf(target.querySelector('[data-testid=service-endpoints]')!.closest('.card')!.querySelector('h2'))).toBe('Endpoints 2 ready, 1 not ready');

    const port = target.querySelector<HTMLElement>('[data-testid=service-port][data-port="80"]')!;
    expect([...port.querySelectorAll('td')].slice(0, 5).map(textOf)).toEqual(['http', '80/TCP', '8080', '—', 'cluster only']);
    const grpc = target.querySelector<HTMLElement>('[data-testid=service-port][data-port="9090"]')!;
    expect([...grpc.querySelectorAll('td')].slice(0, 3).map(textOf)).toEqual(['grpc kubernetes.io/h2c', '9090/TCP', '9090']);
    expect(textOf(byTestId(target, 'service-dns'))).toContain('web.default.svc.cluster.local');
    expect(textOf(byTestId(target, 'service-dns'))).toContain('From pods in default: web, web.default, web.default.svc');
    expect([...card(target, 'Selector')!.querySelectorAll('.tag')].map(textOf)).toContain('app=web');

    fake.push('Endpoints', [endpoints('default', 'web', [], [{ ip: '10.244.0.7', pod: 'web-3' }])]);
    await until('0/1', () => target.querySelector('.page-head [data-status]')?.getAttribute('data-status') === '0/1 ready');
    expect(target.querySelector('.page-head [data-status]')!.classList.contains('warn')).toBe(true);
  });

  it('forwards a local port to a service port, and stops it', async () => {
    await navigate('#/services/default/web');
    const { target } = render(Services);
    const forward = await until('the forward button', () => byTestId(target, 'forward-80'));
    await until('the list of forwards asked', () => fake.callsOf('portForward.list').length >= 1);
    await userEvent.click(forward);
    await until('the open call', () => fake.callsOf('portForward.open').length === 1);
    expect(fake.callsOf('portForward.open')[0]).toEqual({ namespace: 'default', service: 'web', port: 80 });
    const fw = await until('the forward', () => byTestId(target, 'port-forward'));
    expect(textOf(fw)).toContain('127.0.0.1:40080 → web:80');
    expect(byTestId(target, 'open-in-browser')!.getAttribute('href')).toBe('http://127.0.0.1:40080/');
    await userEvent.click(byTestId(target, 'stop-forward')!);
    await until('the close call', () => fake.callsOf('portForward.close').length === 1);
    expect(fake.callsOf('portForward.close')[0]).toEqual({ id: 'pf-80' });
    await until('the forward gone', () => !byTestId(target, 'port-forward'));
  });

  it('lists forwards opened earlier and drops one the main process closed', async () => {
    forwards = [{ id: 'pf-old', namespace: 'default', service: 'web', port: 80, localPort: 41234, url: 'http://127.0.0.1:41234/', connections: 2 }, { id: 'pf-other', namespace: 'default', service: 'web-np', port: 80, localPort: 41235, url: 'http://127.0.0.1:41235/', connections: 0 }];
    await navigate('#/services/default/web');
    const { target } = render(Services);
    const fw = await until('the earlier forward', () => byTestId(target, 'port-forward'));
    expect(allByTestId(target, 'port-forward')).toHaveLength(1);
    expect(textOf(fw)).toContain('127.0.0.1:41234 → web:80');
    forwards = forwards.filter((f) => f.id !== 'pf-old');
    fake.emit('portForward.closed', { id: 'pf-old', reason: 'the Service was deleted' });
    await until('the forward gone', () => !byTestId(target, 'port-forward'));
  });

  it('shows where this machine reaches a NodePort or LoadBalancer Service, and ports that could not be bound', async () => {
    await navigate('#/services/default/web-np');
    const { target } = render(Services);
    const open = await until('the Open link', () => byTestId(target, 'open-30080') as HTMLAnchorElement | null);
    expect(open.href).toBe('http://127.0.0.1:30080/');
    expect(textOf(target.querySelector('[data-testid=service-port][data-port="80"] td:nth-child(4)'))).toBe('30080');
    expect(byTestId(target, 'port-error')).toBeNull();

    await navigate('#/services/default/web-lb-2');
    const err = await until('the bind error', () => byTestId(target, 'port-error'));
    expect(textOf(err)).toBe('Port 8081/TCP is not bound (load balancer): port 8081/TCP is already used by service default/web-lb');
    const here = textOf(target.querySelector('[data-testid=service-port][data-port="8081"] td:nth-child(5)'));
    expect(here).toContain('load balancer 127.0.0.1:8081');
    expect(here).toContain('node port 127.0.0.1:31002');
    // The bound node port can be opened; the load balancer address that is not bound cannot.
    expect(byTestId(target, 'open-31002')).not.toBeNull();
    expect(byTestId(target, 'open-8081')).toBeNull();

    await navigate('#/services/default/web-np-2');
    await until('one bind error', () => allByTestId(target, 'port-error').length === 1);
    expect(textOf(byTestId(target, 'port-error'))).toContain('Port 30090/TCP is not bound (node port)');
  });

  it('names each pod of a headless Service in DNS', async () => {
    await navigate('#/services/default/db');
    const { target } = render(Services);
    const dns = await until('the DNS card', () => byTestId(target, 'service-dns'));
    expect(textOf(dns)).toContain('db-0.db.default.svc.cluster.local → 10.244.1.2 (db-0)');
    expect(textOf(dns)).toContain('db-1.db.default.svc.cluster.local → 10.244.1.3 (db-1)');
  });

  it('shows the YAML tab and an ExternalName alias', async () => {
    await navigate('#/services/default/web');
    const { target } = render(Services);
    await userEvent.click(await until('the YAML tab', () => byTestId(target, 'tab-yaml')));
    await waitForHash('#/services/default/web/yaml');
    const yaml = await until('the YAML', () => byTestId(target, 'yaml'));
    expect(yaml.textContent).toContain('clusterIP: 10.96.0.20');
    expect(yaml.textContent).toContain('targetPort: 8080');

    await navigate('#/services/default/ext');
    await until('the alias', () => textOf(target.querySelector('.meta')).includes('Alias of example.com'));
    expect(target.querySelector('[data-testid=service-endpoints]')).toBeNull();
    expect(textOf(byTestId(target, 'service-dns'))).toContain('(a CNAME to example.com)');
  });

  it('asks before deleting, then goes back to the list', async () => {
    await navigate('#/services/default/web');
    const { target } = render(Services);
    render(ConfirmDialog);
    render(Toasts);
    await userEvent.click(await until('Delete', () => byTestId(target, 'delete-service')));
    const dialog = await until('the confirmation', () => byTestId(document.body, 'confirm-dialog'));
    expect(textOf(dialog)).toContain('Delete Service default/web?');
    expect(textOf(dialog)).toContain('the pods it selects keep running');
    await userEvent.click(byTestId(document.body, 'confirm-ok')!);
    await until('the delete', () => fake.callsOf('resources.delete').length === 1);
    expect(fake.callsOf('resources.delete')[0]).toEqual({ kind: 'Service', namespace: 'default', name: 'web' });
    await waitForHash('#/services');
    await until('the toast', () => allByTestId(document.body, 'toast').some((t) => textOf(t).includes('Service web deleted')));
  });

  it('says when the Service does not exist', async () => {
    await navigate('#/services/default/nope');
    const { target } = render(Services);
    await until('the message', () => textOf(target).includes('Service default/nope does not exist (any more).'));
    expect(byTestId(target, 'delete-service')).toBeNull();
  });
});
