import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import ConfirmDialog from '../../renderer/src/components/ConfirmDialog.svelte';
import { startPulls } from '../../renderer/src/lib/pulls.svelte.ts';
import { startStores } from '../../renderer/src/lib/resources.svelte.ts';
import { ui } from '../../renderer/src/lib/ui.svelte.ts';
import Pods from '../../renderer/src/views/Pods.svelte';
import {
  ago, buttonIn, choose, completedPod, confirmDialog, crashLoopPod, DAY, deployment, event, hasButton, HOUR, imagePullPod, manyPods, MIN, navigate, pendingPod, press,
  replicaSet, rowText, runningPod, settle, sized, text, typeInto, UNSCHEDULABLE,
} from './fixtures-workloads.ts';
import { allByTestId, byTestId, cleanup, FakeMain, render, until, useFake } from './harness.ts';

// Never the namespace another test file (or an earlier run) left in localStorage.
ui.namespace = '';
sessionStorage.removeItem('pods.text');

const web = deployment('web', { uid: 'web-uid' });
const webRs = replicaSet('web-7d9f', web, { revision: 1, uid: 'web-rs-uid', replicas: 2 });
const PODS = [
  runningPod('web-1', {
    labels: { app: 'web', tier: 'frontend' },
    node: 'node-1',
    age: 5 * MIN + 30,
    owner: { kind: 'ReplicaSet', name: 'web-7d9f', uid: 'web-rs-uid' },
    podIP: '10.244.1.7',
    containers: [
      { name: 'app', image: 'registry.local/web:1.0', ready: true, state: { running: { startedAt: ago(5 * MIN) } }, ports: [{ containerPort: 8080, name: 'http' }] },
      { name: 'proxy', image: 'envoy:1.30', ready: false, restarts: 1, state: { running: { startedAt: ago(MIN) } } },
    ],
  }),
  runningPod('web-2', { labels: { app: 'web', tier: 'canary' }, node: 'node-2', restarts: 2, age: 2 * HOUR + 30, image: 'registry.local/web:1.0' }),
  crashLoopPod('api-crash', { namespace: 'team-a', labels: { app: 'api' }, age: 3 * DAY + 30 }),
  imagePullPod('img-broken', { namespace: 'team-a', labels: { app: 'img' }, age: 10 * MIN + 30 }),
  pendingPod('big-pending', { namespace: 'team-b', labels: { app: 'big' }, age: 45 }),
  completedPod('report-done', { namespace: 'team-b', labels: { app: 'report' }, age: HOUR + 30 }),
  runningPod('old-term', { labels: { app: 'old' }, node: 'node-3', terminating: true, age: 20 * MIN + 30 }),
];
const EVENTS = [
  event('api-crash.1', { involved: { kind: 'Pod', namespace: 'team-a', name: 'api-crash' }, type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container app in pod api-crash', count: 12, age: 20 }),
  event('api-crash.2', { involved: { kind: 'Pod', namespace: 'team-a', name: 'api-crash' }, reason: 'Pulled', message: 'Container image "busybox:1.36" already present on machine', age: 600 }),
  event('img-broken.1', { involved: { kind: 'Pod', namespace: 'team-a', name: 'img-broken' }, type: 'Warning', reason: 'Failed', message: 'Failed to pull image "registry.local/nope:9.9": not found' }),
  event('big-pending.1', { involved: { kind: 'Pod', namespace: 'team-b', name: 'big-pending' }, type: 'Warning', reason: 'FailedScheduling', message: UNSCHEDULABLE }),
];

const fake = useFake(new FakeMain().set('Pod', PODS).set('Event', EVENTS).set('Deployment', [web]).set('ReplicaSet', [webRs]));
fake.handle('portForward.list', () => []);
startStores();
startPulls();

beforeEach(async () => {
  await navigate('#/pods');
});
afterEach(() => {
  cleanup();
  ui.namespace = '';
  sessionStorage.removeItem('pods.text');
});

/** Mounts the Pods view at the app's content height and waits for the rows. */
async function mountList(rows = PODS.length) {
  const { target } = render(Pods);
  sized(target);
  await until(`${rows} pod rows`, () => allByTestId(target, 'pod-row').length === rows);
  return {
    target,
    filter: byTestId(target, 'pod-filter') as HTMLInputElement,
    labels: target.querySelector<HTMLInputElement>('input[aria-label="Label selector"]')!,
    status: byTestId(target, 'status-filter') as HTMLSelectElement,
    names: () => allByTestId(target, 'pod-row').map((r) => r.dataset.pod),
    row: (name: string) => target.querySelector<HTMLElement>(`[data-testid="pod-row"][data-pod="${name}"]`),
    count: () => text(byTestId(target, 'pod-count')),
  };
}

/** A row's cells: status, name, namespace, ready, restarts, node, age, reason. */
function cells(row: HTMLElement | null) {
  if (!row) throw new Error('no such row');
  const [status, name, namespace, ready, restarts, node, age, reason] = [...row.children].map((c) => c as HTMLElement);
  return { status: status!.querySelector<HTMLElement>('[data-status]')!.dataset.status, name: text(name), namespace: text(namespace), ready: text(ready), restarts: text(restarts), restartsEl: restarts!, node: text(node), age: text(age), reason: text(reason) };
}

describe('Pods list', () => {
  it('shows each pod with its status reason, readiness, restarts, node and age', async () => {
    const v = await mountList();
    expect(v.count()).toBe('7 of 7');

    const crash = cells(v.row('api-crash'));
    expect(crash).toMatchObject({ status: 'CrashLoopBackOff', namespace: 'team-a', ready: '0/1', restarts: '7', node: 'node-1', age: '3d' });
    expect(crash.reason).toBe('back-off 5m0s restarting failed container=app pod=api-crash');
    expect(crash.restartsEl.classList.contains('warnc')).toBe(true);

    const pull = cells(v.row('img-broken'));
    expect(pull).toMatchObject({ status: 'ImagePullBackOff', node: 'node-2', age: '10m' });
    expect(pull.reason).toBe('Back-off pulling image "registry.local/nope:9.9"');

    // Pending and not scheduled: no node, and the scheduler's reason from the PodScheduled condition.
    const pending = cells(v.row('big-pending'));
    expect(pending).toMatchObject({ status: 'Pending', node: '—', restarts: '0' });
    expect(pending.age).toMatch(/^4\ds$/);
    expect(pending.reason).toBe(UNSCHEDULABLE);

    // Restarts of every container summed; one container not ready.
    expect(cells(v.row('web-1'))).toMatchObject({ status: 'Running', ready: '1/2', restarts: '1', node: 'node-1', age: '5m', reason: '' });
    expect(cells(v.row('web-2'))).toMatchObject({ status: 'Running', ready: '1/1', restarts: '2', node: 'node-2', age: '2h' });
    expect(cells(v.row('web-2')).restartsEl.classList.contains('warnc')).toBe(true);
    expect(cells(v.row('report-done'))).toMatchObject({ status: 'Completed', ready: '0/1', age: '1h' });
    expect(cells(v.row('report-done')).restartsEl.classList.contains('warnc')).toBe(false);
    expect(cells(v.row('old-term')).status).toBe('Terminating');

    // The badges carry their tone (colour).
    const badge = (name: string) => v.row(name)!.querySelector('[data-status]')!;
    expect(badge('api-crash').classList.contains('error')).toBe(true);
    expect(badge('big-pending').classList.contains('pending')).toBe(true);
    expect(badge('web-2').classList.contains('ok')).toBe(true);
    expect(badge('big-pending').getAttribute('title')).toBe(UNSCHEDULABLE);

    // Each row links to its pod.
    expect(v.row('api-crash')!.getAttribute('href')).toBe('#/pods/team-a/api-crash');

    const head = text(v.target.querySelector('.page-head'));
    expect(head).toContain('2 running');
    expect(head).toContain('1 pending');
    expect(head).toContain('2 with problems');
  });

  it('filters by the namespace switcher', async () => {
    const v = await mountList();
    ui.namespace = 'team-a';
    await until('two team-a pods', () => v.names().length === 2);
    expect(v.names().sort()).toEqual(['api-crash', 'img-broken']);
    expect(v.count()).toBe('2 of 7');
    expect(text(v.target.querySelector('.page-head'))).toContain('0 running');
    ui.namespace = 'team-b';
    await until('team-b pods', () => v.names().join() === 'big-pending,report-done');
    ui.namespace = '';
    await until('every pod again', () => v.names().length === 7);
  });

  it('filters by a label selector, and marks one it cannot read', async () => {
    const v = await mountList();
    typeInto(v.labels, 'app=web');
    await until('the web pods', () => v.names().join() === 'web-1,web-2');
    typeInto(v.labels, 'app=web,tier!=canary');
    await until('web-1 only', () => v.names().join() === 'web-1');
    typeInto(v.labels, 'app in (api, img)');
    await until('api and img', () => v.names().join() === 'api-crash,img-broken');
    typeInto(v.labels, 'tier');
    await until('pods with a tier label', () => v.names().join() === 'web-1,web-2');
    typeInto(v.labels, '!tier,app notin (old,report,big)');
    await until('no tier, not old/report/big', () => v.names().join() === 'api-crash,img-broken');
    expect(v.labels.classList.contains('bad')).toBe(false);

    typeInto(v.labels, 'app=(web');
    await until('the selector marked bad', () => v.labels.classList.contains('bad'));
    expect(v.labels.title).toContain('cannot read');

    typeInto(v.labels, 'app=nothing-has-this');
    await until('the empty state', () => v.names().length === 0);
    expect(text(v.target.querySelector('.empty'))).toBe('No pod matches the filters.');
    typeInto(v.labels, '');
    await until('every pod again', () => v.names().length === 7);
  });

  it('filters by status', async () => {
    const v = await mountList();
    const by = async (value: string, want: string[]) => {
      choose(v.status, value);
      await until(`status ${value}: ${want.join()}`, () => v.names().join() === want.join());
    };
    await by('problem', ['api-crash', 'img-broken']);
    await by('CrashLoopBackOff', ['api-crash']);
    await by('ImagePullBackOff', ['img-broken']);
    await by('Pending', ['big-pending']);
    await by('Running', ['web-1', 'web-2']);
    await by('Completed', ['report-done']);
    await by('Terminating', ['old-term']);
    await by('Failed', []);
    expect(v.count()).toBe('0 of 7');
    await by('', ['api-crash', 'big-pending', 'img-broken', 'old-term', 'report-done', 'web-1', 'web-2']);

    // The "with problems" tag is a shortcut to the same filter.
    buttonIn(v.target, '2 with problems').click();
    await until('the problem pods', () => v.names().join() === 'api-crash,img-broken');
    expect(v.status.value).toBe('problem');
  });

  it('filters by text over name, namespace, node, status and image, and combines filters', async () => {
    const v = await mountList();
    const by = async (needle: string, want: string[]) => {
      typeInto(v.filter, needle);
      await until(`"${needle}": ${want.join()}`, () => v.names().join() === want.join());
    };
    await by('web-', ['web-1', 'web-2']);
    await by('node-2', ['img-broken', 'web-2']);
    await by('NOPE:9.9', ['img-broken']);
    await by('crashloop', ['api-crash']);
    await by('team-b/', ['big-pending', 'report-done']);
    await by('  envoy  ', ['web-1']);
    // Text and status together.
    await by('team-a', ['api-crash', 'img-broken']);
    choose(v.status, 'ImagePullBackOff');
    await until('both filters applied', () => v.names().join() === 'img-broken');
    // The text survives leaving the view and coming back (as in the app, per session).
    cleanup();
    const again = await mountList(2);
    expect(again.filter.value).toBe('team-a');
    expect(again.names()).toEqual(['api-crash', 'img-broken']);
  });

  it('sorts by a column, and the other way on a second click', async () => {
    const v = await mountList();
    // By name by default.
    expect(v.names()).toEqual(['api-crash', 'big-pending', 'img-broken', 'old-term', 'report-done', 'web-1', 'web-2']);
    const header = (label: string) => [...v.target.querySelectorAll<HTMLButtonElement>('button.th')].find((b) => text(b).startsWith(label))!;

    header('Restarts').click();
    await until('fewest restarts first', () => v.names()[6] === 'api-crash');
    expect(v.names().slice(4)).toEqual(['web-1', 'web-2', 'api-crash']);
    expect(text(header('Restarts'))).toBe('Restarts ▴');
    header('Restarts').click();
    await until('most restarts first', () => v.names()[0] === 'api-crash');
    expect(v.names().slice(0, 3)).toEqual(['api-crash', 'web-2', 'web-1']);
    expect(text(header('Restarts'))).toBe('Restarts ▾');

    header('Age').click();
    await until('newest first', () => v.names()[0] === 'big-pending');
    expect(v.names()).toEqual(['big-pending', 'web-1', 'img-broken', 'old-term', 'report-done', 'web-2', 'api-crash']);
    header('Age').click();
    await until('oldest first', () => v.names()[0] === 'api-crash');

    header('Namespace').click();
    await until('by namespace', () => v.names().join() === 'old-term,web-1,web-2,api-crash,img-broken,big-pending,report-done');

    header('Node').click();
    await until('by node, unscheduled first', () => v.names()[0] === 'big-pending');
    expect(v.names()).toEqual(['big-pending', 'api-crash', 'report-done', 'web-1', 'img-broken', 'web-2', 'old-term']);

    header('Status').click();
    await until('by status', () => v.names()[0] === 'report-done');
    expect(v.names()).toEqual(['report-done', 'api-crash', 'img-broken', 'big-pending', 'web-1', 'web-2', 'old-term']);
  });

  it('moves a selection with the arrow keys and opens the selected pod with Enter', async () => {
    const v = await mountList();
    const selected = () => v.target.querySelector<HTMLElement>('[data-testid="pod-row"].sel')?.dataset.pod;
    expect(selected()).toBe('api-crash');
    press(v.filter, 'ArrowDown');
    press(v.filter, 'ArrowDown');
    expect(selected()).toBe('img-broken');
    press(v.filter, 'ArrowUp');
    expect(selected()).toBe('big-pending');
    press(v.filter, 'ArrowUp');
    press(v.filter, 'ArrowUp');
    expect(selected()).toBe('api-crash');
    press(v.filter, 'ArrowDown');
    press(v.filter, 'Enter');
    await until('the pod details', () => text(byTestId(v.target, 'pod-title')) === 'big-pending');
    expect(location.hash).toBe('#/pods/team-b/big-pending');
  });

  it('keeps the selection on a row that is shown when a filter narrows the list', async () => {
    const v = await mountList();
    for (let i = 0; i < 5; i++) press(v.filter, 'ArrowDown');
    expect(v.target.querySelector<HTMLElement>('.sel')?.dataset.pod).toBe('web-1');
    typeInto(v.filter, 'team-a');
    await until('two rows', () => v.names().length === 2);
    // Enter opens a pod that is in the list (not nothing, not a hidden one).
    press(v.filter, 'Enter');
    await until('a team-a pod opened', () => /^#\/pods\/team-a\//.test(location.hash));
  });

  it('follows pushed changes: a pending pod gets scheduled and runs, a pod goes away', async () => {
    const v = await mountList();
    fake.push('Pod', [runningPod('big-pending', { namespace: 'team-b', labels: { app: 'big' }, node: 'node-3', age: 50 })]);
    await until('big-pending running', () => cells(v.row('big-pending')).status === 'Running');
    expect(cells(v.row('big-pending'))).toMatchObject({ node: 'node-3', reason: '' });
    fake.push('Pod', [], [{ namespace: 'team-b', name: 'report-done' }]);
    await until('six rows', () => v.names().length === 6);
    expect(v.count()).toBe('6 of 6');
    // Put the fixtures back for the next tests.
    fake.push('Pod', [PODS[4]!, PODS[5]!]);
    await until('seven rows', () => v.names().length === 7);
  });
});

describe('Pods list with 10,000 pods', () => {
  it('renders only the visible rows, shows later pods on scrolling, and filters them', async () => {
    const many = manyPods(10_000);
    const v = await mountList();
    fake.push('Pod', many);
    await until('10,007 pods counted', () => v.count() === '10,007 of 10,007', 10_000);
    const viewport = byTestId(v.target, 'pod-list')!;
    expect(viewport.clientHeight).toBeGreaterThan(300);
    const visibleRows = Math.ceil(viewport.clientHeight / 34);
    // The list learns its height from a resize observer (a frame later).
    await until('a screenful of rows', () => v.names().length >= visibleRows);
    expect(v.names().length).toBeLessThan(visibleRows + 20);
    expect(v.names()[0]).toBe('api-crash');
    expect(v.row('bulk-09999')).toBeNull();
    // The scrollable height is that of every row.
    expect(viewport.scrollHeight).toBe(10_007 * 34);

    viewport.scrollTop = 5_000 * 34;
    viewport.dispatchEvent(new Event('scroll'));
    await until('rows around the 5000th', () => v.row('bulk-04999') !== null);
    expect(v.names().length).toBeLessThan(visibleRows + 20);
    expect(v.row('api-crash')).toBeNull();
    const r = v.row('bulk-04999')!.getBoundingClientRect();
    const vp = viewport.getBoundingClientRect();
    expect(r.top).toBeGreaterThanOrEqual(vp.top - 34);
    expect(r.bottom).toBeLessThanOrEqual(vp.bottom + 34);

    viewport.scrollTop = viewport.scrollHeight;
    viewport.dispatchEvent(new Event('scroll'));
    await until('the last pods', () => v.row('web-2') !== null);
    expect(v.row('bulk-09999')).not.toBeNull();
    const last = v.row('web-2')!.getBoundingClientRect();
    expect(last.bottom).toBeLessThanOrEqual(viewport.getBoundingClientRect().bottom + 1);

    // Scrolled to the end, a filter that leaves a few pods shows them (not an empty, over-scrolled list).
    typeInto(v.filter, 'bulk-0000');
    await until('the ten matching pods in view', () => v.names().length === 10);
    expect(v.count()).toBe('10 of 10,007');
    expect(viewport.scrollTop).toBe(0);

    // Label and namespace filters over the many pods.
    typeInto(v.filter, '');
    typeInto(v.labels, 'shard=3');
    await until('a tenth of them', () => v.count() === '1,000 of 10,007');
    ui.namespace = 'bulk-1';
    await until('shard 3 in bulk-1', () => v.count() === '500 of 10,007');
    expect(v.names().every((n) => Number(n!.slice(5)) % 10 === 3 && Number(n!.slice(5)) % 4 === 1)).toBe(true);

    // Keyboard navigation scrolls the selected row into view.
    ui.namespace = '';
    typeInto(v.labels, '');
    await until('all again', () => v.count() === '10,007 of 10,007');
    viewport.scrollTop = 0;
    viewport.dispatchEvent(new Event('scroll'));
    for (let i = 0; i < 60; i++) press(v.filter, 'ArrowDown');
    viewport.dispatchEvent(new Event('scroll'));
    await until('the 61st row selected and shown', () => v.target.querySelector<HTMLElement>('.sel')?.dataset.pod === 'bulk-00058');

    fake.push('Pod', [], many.map((p) => ({ namespace: p.metadata.namespace!, name: p.metadata.name! })));
    await until('back to 7', () => v.count() === '7 of 7');
  });
});

describe('Pod details', () => {
  async function open(namespace: string, name: string, tab = '') {
    await navigate(`#/pods/${namespace}/${name}${tab ? `/${tab}` : ''}`);
    const { target } = render(Pods);
    render(ConfirmDialog);
    await until(`the ${name} page`, () => text(byTestId(target, 'pod-title')) === name);
    return target;
  }

  it('shows a crash-looping pod: its reason, containers with their state, conditions and events', async () => {
    const target = await open('team-a', 'api-crash');
    expect(target.querySelector('.page-head [data-status]')?.getAttribute('data-status')).toBe('CrashLoopBackOff');
    await until('the banner', () => byTestId(target, 'pod-message'));
    expect(text(byTestId(target, 'pod-message'))).toBe('CrashLoopBackOff: back-off 5m0s restarting failed container=app pod=api-crash');
    expect(byTestId(target, 'pod-message')!.classList.contains('error')).toBe(true);

    const rows = allByTestId(target, 'container-row');
    expect(rows).toHaveLength(1);
    const tds = [...rows[0]!.querySelectorAll('td')].map(text);
    expect(tds[0]).toBe('app');
    expect(tds[1]).toBe('busybox:1.36');
    expect(rows[0]!.querySelector('[data-status]')?.getAttribute('data-status')).toBe('CrashLoopBackOff');
    expect(tds[2]).toContain('back-off 5m0s restarting failed container=app');
    expect(tds[3]).toBe('7');

    const meta = text(target.querySelector('.meta'));
    expect(meta).toContain('Namespace team-a');
    expect(meta).toContain('Node node-1');
    expect(meta).toContain('Age 3d');

    const conditions = [...target.querySelectorAll('.card')].find((c) => text(c.querySelector('h2')) === 'Conditions')!;
    expect([...conditions.querySelectorAll('tr')].map((tr) => text(tr.querySelector('td')))).toEqual(['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']);
    expect(conditions.querySelectorAll('[data-status="False"]')).toHaveLength(2);

    // Its own events, newest first, repeated ones counted; no other pod's events.
    const events = await until('events', () => byTestId(target, 'events'));
    const evRows = [...events.querySelectorAll('tbody tr')].map(text);
    expect(evRows).toHaveLength(2);
    expect(evRows[0]).toContain('Warning');
    expect(evRows[0]).toContain('BackOff');
    expect(evRows[0]).toContain('Back-off restarting failed container app in pod api-crash');
    expect(evRows[0]).toContain('×12');
    expect(evRows[1]).toContain('Pulled');
    expect(text(events)).not.toContain('nope:9.9');
  });

  it('shows the scheduler\'s reason for a pending pod, and no terminal for it', async () => {
    const target = await open('team-b', 'big-pending');
    await until('the banner', () => byTestId(target, 'pod-message'));
    expect(text(byTestId(target, 'pod-message'))).toBe(`Pending: ${UNSCHEDULABLE}`);
    expect(byTestId(target, 'pod-message')!.classList.contains('warn')).toBe(true);
    expect(text(target.querySelector('.meta'))).toContain('Node —');
    const conditions = [...target.querySelectorAll('.card')].find((c) => text(c.querySelector('h2')) === 'Conditions')!;
    expect([...conditions.querySelectorAll('tr')].map(rowText)).toEqual([`PodScheduled | False | Unschedulable: ${UNSCHEDULABLE}`]);
    expect(text(byTestId(target, 'events'))).toContain('FailedScheduling');
    // The container has no status yet.
    expect(text(byTestId(target, 'container-row'))).toContain('Waiting');

    byTestId(target, 'tab-terminal')!.click();
    await until('the terminal tab', () => text(target).includes('The pod is not running (Pending)'));
    expect(byTestId(target, 'terminal')).toBeNull();
    expect(fake.callsOf('exec.open')).toHaveLength(0);
  });

  it('shows a running pod\'s containers, owner and port-forwards', async () => {
    let forwardIds = 0;
    fake.handle('portForward.open', (a) => ({ id: `pf${++forwardIds}`, namespace: a.namespace, pod: a.pod!, port: a.port, localPort: 54321, url: 'http://127.0.0.1:54321/', connections: 0 }));
    fake.handle('portForward.close', () => null);
    const target = await open('default', 'web-1');
    expect(byTestId(target, 'pod-message')).toBeNull();
    const meta = text(target.querySelector('.meta'));
    expect(meta).toContain('IP 10.244.1.7');
    expect(meta).toContain('QoS BestEffort');
    await until('the owner', () => text(target.querySelector('.meta')).includes('Controlled by Deployment web'));
    expect(target.querySelector('.meta a[href="#/workloads/Deployment/default/web"]')).not.toBeNull();
    expect(target.querySelector('.meta a[href="#/nodes/node-1"]')).not.toBeNull();

    const rows = allByTestId(target, 'container-row');
    expect(rows.map((r) => text(r.querySelector('td')))).toEqual(['app', 'proxy']);
    expect(rows[0]!.querySelector('[data-status]')!.className).toContain('ok');
    expect(text(rows[0])).not.toContain('not ready');
    expect(rows[1]!.querySelector('[data-status]')!.getAttribute('data-status')).toBe('Running');
    expect(rows[1]!.querySelector('[data-status]')!.className).toContain('warn');
    expect(text(rows[1])).toContain('not ready');
    expect(text(rows[1]!.querySelectorAll('td')[3])).toBe('1');
    expect(text(rows[1]!.querySelectorAll('td')[4])).toBe('—');
    expect(text(target)).toContain('app=web');
    expect(text(target)).toContain('tier=frontend');

    // Forward the container's port.
    expect(text(byTestId(target, 'forward-8080'))).toBe('⇄ 8080 (http)');
    byTestId(target, 'forward-8080')!.click();
    await until('the forward', () => byTestId(target, 'port-forward'));
    expect(fake.callsOf('portForward.open')).toEqual([{ namespace: 'default', pod: 'web-1', port: 8080 }]);
    expect(text(byTestId(target, 'port-forward'))).toContain('127.0.0.1:54321 → 8080');
    expect(byTestId(target, 'open-in-browser')!.getAttribute('href')).toBe('http://127.0.0.1:54321/');
    // Any other port, once it is a valid one.
    const port = target.querySelector<HTMLInputElement>('input[aria-label="Port"]')!;
    const forwardBtn = buttonIn(target, 'Forward');
    typeInto(port, '70000');
    expect(forwardBtn.disabled).toBe(true);
    typeInto(port, '9090');
    expect(forwardBtn.disabled).toBe(false);
    forwardBtn.click();
    await until('the second forward', () => fake.callsOf('portForward.open').length === 2);
    expect(fake.callsOf('portForward.open')[1]).toEqual({ namespace: 'default', pod: 'web-1', port: 9090 });
    await until('two forwards', () => allByTestId(target, 'port-forward').length === 2);
    // Stop one.
    buttonIn(byTestId(target, 'port-forward')!, 'Stop').click();
    await until('the close call', () => fake.callsOf('portForward.close').length === 1);
    expect(fake.callsOf('portForward.close')[0]).toEqual({ id: 'pf1' });
    await until('one forward left', () => allByTestId(target, 'port-forward').length === 1);
    expect(text(byTestId(target, 'port-forward'))).toContain('→ 9090');

    // Usage charts subscribe to this pod's metrics.
    expect(fake.callsOf('metrics.subscribe').some((c) => JSON.stringify(c.target) === JSON.stringify({ type: 'pod', namespace: 'default', name: 'web-1' }))).toBe(true);
  });

  it('shows a finished container\'s exit code', async () => {
    const target = await open('team-b', 'report-done');
    const row = byTestId(target, 'container-row')!;
    expect(row.querySelector('[data-status]')!.getAttribute('data-status')).toBe('Completed');
    expect(row.querySelector('[data-status]')!.className).toContain('done');
    expect(text(row)).toContain('exit code 0');
  });

  it('shows image pull progress pushed for the pod', async () => {
    const target = await open('team-a', 'img-broken');
    expect(byTestId(target, 'pull-progress')).toBeNull();
    fake.emit('pull.update', { pods: [{ namespace: 'team-a', pod: 'img-broken', images: [{ image: 'registry.local/nope:9.9', container: 'app', done: false, error: 'manifest unknown', currentBytes: 0, totalBytes: 0, layers: 0 }] }] });
    await until('the pull card', () => byTestId(target, 'pull-progress'));
    expect(text(byTestId(target, 'pull-progress'))).toContain('registry.local/nope:9.9');
    expect(text(byTestId(target, 'pull-progress'))).toContain('manifest unknown');
  });

  it('follows the pod as it changes and says when it is gone', async () => {
    const target = await open('team-a', 'api-crash');
    fake.push('Pod', [runningPod('api-crash', { namespace: 'team-a', labels: { app: 'api' }, restarts: 8, age: 3 * DAY + 30 })]);
    await until('running now', () => target.querySelector('.page-head [data-status]')?.getAttribute('data-status') === 'Running');
    expect(byTestId(target, 'pod-message')).toBeNull();
    expect(text(byTestId(target, 'container-row')!.querySelectorAll('td')[3])).toBe('8');
    fake.push('Pod', [], [{ namespace: 'team-a', name: 'api-crash' }]);
    await until('gone', () => text(target).includes('Pod team-a/api-crash does not exist (any more).'));
    fake.push('Pod', [PODS[2]!]);
    await until('back', () => byTestId(target, 'container-row'));
  });

  it('deletes the pod only after confirmation, then goes back to the list', async () => {
    fake.handle('resources.delete', () => null);
    const target = await open('default', 'web-1');
    buttonIn(target.querySelector('.page-head')!, 'Delete').click();
    let d = await confirmDialog();
    expect(text(d.dialog)).toContain('Delete pod default/web-1?');
    // It names the controller that will replace it.
    expect(text(d.dialog)).toContain('Its Deployment will create a replacement.');
    d.cancel.click();
    await settle();
    expect(fake.callsOf('resources.delete')).toHaveLength(0);
    expect(document.querySelector('[data-testid="confirm-dialog"]')).toBeNull();

    buttonIn(target.querySelector('.page-head')!, 'Delete').click();
    d = await confirmDialog();
    d.ok.click();
    await until('the delete call', () => fake.callsOf('resources.delete').length === 1);
    expect(fake.callsOf('resources.delete')[0]).toEqual({ kind: 'Pod', namespace: 'default', name: 'web-1' });
    await until('back on the list', () => location.hash === '#/pods');
    await until('the list', () => byTestId(target, 'pod-filter'));
  });

  it('switches tabs: YAML, and logs opened for this pod', async () => {
    fake.handle('logs.open', () => ({ streamId: 's1', sources: [{ pod: 'web-2', container: 'app' }], errors: [] }));
    const target = await open('default', 'web-2');
    byTestId(target, 'tab-yaml')!.click();
    await until('the YAML', () => byTestId(target, 'yaml'));
    expect(location.hash).toBe('#/pods/default/web-2/yaml');
    expect(byTestId(target, 'tab-yaml')!.getAttribute('aria-selected')).toBe('true');
    expect(text(byTestId(target, 'yaml'))).toContain('name: web-2');
    expect(text(byTestId(target, 'yaml'))).toContain('nodeName: node-2');

    byTestId(target, 'tab-logs')!.click();
    await until('the logs call', () => fake.callsOf('logs.open').length === 1);
    expect(fake.callsOf('logs.open')[0]).toMatchObject({ namespace: 'default', pod: 'web-2', follow: true });
    await settle(50);
    fake.emit('logs.batch', { streams: [{ streamId: 's1', lines: [{ pod: 'web-2', container: 'app', stream: 'stdout', line: 'listening on :8080', time: ago(1) }] }] });
    await until('the log line', () => text(byTestId(target, 'log-lines')).includes('listening on :8080'));

    byTestId(target, 'tab-overview')!.click();
    await until('the overview again', () => allByTestId(target, 'container-row').length === 1);
    await until('the stream closed', () => fake.callsOf('logs.close').some((c) => c.streamId === 's1'));
  });

  it('says so for a pod that does not exist', async () => {
    await navigate('#/pods/default/nope');
    const { target } = render(Pods);
    await until('the message', () => text(target).includes('Pod default/nope does not exist (any more).'));
    expect(hasButton(target, 'Delete')).toBe(false);
  });
});
