import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DesktopError, type RolloutHistory } from '../../core/desktop-api.ts';
import ConfirmDialog from '../../renderer/src/components/ConfirmDialog.svelte';
import Toasts from '../../renderer/src/components/Toasts.svelte';
import { dateTime } from '../../renderer/src/lib/format.ts';
import { startStores } from '../../renderer/src/lib/resources.svelte.ts';
import { toasts, ui } from '../../renderer/src/lib/ui.svelte.ts';
import Workloads from '../../renderer/src/views/Workloads.svelte';
import {
  ago, buttonIn, confirmDialog, crashLoopPod, cronJob, daemonSet, deployment, event, hasButton, HOUR, job, MIN, navigate, press, replicaSet, revision, rowText,
  runningPod, settle, statefulSet, text, typeInto,
} from './fixtures-workloads.ts';
import { allByTestId, byTestId, cleanup, FakeMain, render, until, useFake } from './harness.ts';

ui.namespace = '';

const web = deployment('web', { uid: 'web-uid', replicas: 3, image: 'registry.local/web:2.0' });
const api = deployment('api', { namespace: 'team-a', uid: 'api-uid', replicas: 4, ready: 2, updated: 2, total: 5, generation: 2, image: 'registry.local/api:7' });
const broken = deployment('broken', {
  uid: 'broken-uid',
  replicas: 2,
  ready: 1,
  updated: 1,
  image: 'registry.local/broken:bad',
  progressing: { status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "broken-5c6" has timed out progressing.' },
  annotations: { 'wheelhouse.io/last-auto-rollback': JSON.stringify({ from: 4, to: 3, reason: 'pods crash-looping (CrashLoopBackOff)', time: '2025-01-02T03:04:05Z' }) },
});
const paused = deployment('frozen', { uid: 'frozen-uid', replicas: 1, paused: true });
const webRs1 = replicaSet('web-rs1', web, { revision: 1, uid: 'web-rs1-uid', image: 'registry.local/web:1.0' });
const webRs2 = replicaSet('web-rs2', web, { revision: 2, uid: 'web-rs2-uid', image: 'registry.local/web:2.0', replicas: 3 });
const db = statefulSet('db', { uid: 'db-uid', replicas: 2, image: 'postgres:16' });
const cache = statefulSet('cache', { namespace: 'team-a', replicas: 3, ready: 1, image: 'redis:7' });
const agent = daemonSet('agent', { desired: 3, image: 'registry.local/agent:2.1' });
const shipper = daemonSet('shipper', { namespace: 'team-a', desired: 2, ready: 1, image: 'fluent-bit:3' });
const migrate = job('migrate', { completions: 1, succeeded: 1, complete: true });
const batch = job('batch', { completions: 3, succeeded: 1, active: 2 });
const failing = job('failing', { namespace: 'team-a', completions: 1, failed: 'Job has reached the specified backoff limit' });
const report = cronJob('report', { uid: 'report-uid', schedule: '0 * * * *', lastSchedule: ago(20 * MIN) });
const nightly = cronJob('nightly', { schedule: '30 2 * * *', suspend: true });
const reportJob = job('report-29000', { owner: { kind: 'CronJob', name: 'report', uid: 'report-uid' }, uid: 'report-job-uid', complete: true, succeeded: 1 });

const PODS = [
  runningPod('web-rs2-aaaa', { labels: { app: 'web' }, node: 'node-1', owner: { kind: 'ReplicaSet', name: 'web-rs2', uid: 'web-rs2-uid' }, age: 10 * MIN }),
  crashLoopPod('web-rs2-bbbb', { labels: { app: 'web' }, node: 'node-2', restarts: 3, owner: { kind: 'ReplicaSet', name: 'web-rs2', uid: 'web-rs2-uid' } }),
  runningPod('db-0', { labels: { app: 'db' }, node: 'node-1', owner: { kind: 'StatefulSet', name: 'db', uid: 'db-uid' } }),
  runningPod('report-29000-x1', { labels: { app: 'report' }, node: 'node-3', owner: { kind: 'Job', name: 'report-29000', uid: 'report-job-uid' } }),
  // Same name prefix, another owner: not web's.
  runningPod('web-other', { labels: { app: 'web' }, node: 'node-1' }),
];
const EVENTS = [
  event('web.1', { involved: { kind: 'Deployment', namespace: 'default', name: 'web' }, reason: 'ScalingReplicaSet', message: 'Scaled up replica set web-rs2 to 3', age: 120 }),
  event('web-rs2.1', { involved: { kind: 'ReplicaSet', namespace: 'default', name: 'web-rs2' }, reason: 'SuccessfulCreate', message: 'Created pod: web-rs2-bbbb', age: 60 }),
  event('db.1', { involved: { kind: 'StatefulSet', namespace: 'default', name: 'db' }, reason: 'SuccessfulCreate', message: 'create Pod db-0 in StatefulSet db successful' }),
];

let history: RolloutHistory = {
  namespace: 'default',
  name: 'web',
  revisions: [
    revision(1, { image: 'registry.local/web:1.0', cause: 'initial release', age: 5 * HOUR }),
    revision(2, { image: 'registry.local/web:1.1', cause: 'kubectl set image deployment/web app=registry.local/web:1.1', age: 3 * HOUR }),
    revision(3, { image: 'registry.local/web:2.0', cause: 'v2', current: true, age: HOUR }),
  ],
  rollbacks: [],
};
let historyError: DesktopError | undefined;

const fake = useFake(
  new FakeMain()
    .set('Deployment', [web, api, broken, paused])
    .set('ReplicaSet', [webRs1, webRs2])
    .set('StatefulSet', [db, cache])
    .set('DaemonSet', [agent, shipper])
    .set('Job', [migrate, batch, failing, reportJob])
    .set('CronJob', [report, nightly])
    .set('Pod', PODS)
    .set('Event', EVENTS),
);
fake
  .handle('workloads.scale', () => null)
  .handle('workloads.restart', () => null)
  .handle('workloads.suspend', () => null)
  .handle('workloads.trigger', (a) => ({ job: `${a.name}-manual-1` }))
  .handle('resources.delete', () => null)
  .handle('rollout.pause', () => null)
  .handle('rollout.undo', (a) => ({ revision: 4, replicaSet: `web-rs${a.revision}`, skipped: false, message: '' }))
  .handle('rollout.history', (a) => {
    if (historyError) throw historyError;
    return { ...history, namespace: a.namespace, name: a.name };
  });
startStores();

beforeEach(() => {
  fake.calls.length = 0;
});
afterEach(() => {
  cleanup();
  ui.namespace = '';
  toasts.splice(0);
});

async function mountList(hash = '#/workloads') {
  await navigate(hash);
  const { target } = render(Workloads);
  render(ConfirmDialog);
  render(Toasts);
  await until('workload rows', () => allByTestId(target, 'workload-row').length > 0);
  return {
    target,
    names: () => allByTestId(target, 'workload-row').map((r) => r.dataset.name),
    row: (name: string) => {
      const r = target.querySelector<HTMLElement>(`[data-testid="workload-row"][data-name="${name}"]`);
      if (!r) throw new Error(`no row ${name}`);
      return r;
    },
    headers: () => [...target.querySelectorAll('thead th')].map(text),
  };
}

/** Each toast as `title` or `title: text` (without its dismiss button). */
const toastTexts = () => allByTestId(document.body, 'toast').map((t) => [t.querySelector('.title'), t.querySelector('.text')].filter(Boolean).map(text).join(': '));
const badge = (root: Element) => root.querySelector<HTMLElement>('[data-status]')!;
const scaleInput = (root: Element) => root.querySelector<HTMLInputElement>('input[aria-label="Replicas"]')!;

describe('Workloads list', () => {
  it('lists Deployments with ready/desired, status, up-to-date, available, images and age', async () => {
    const v = await mountList();
    expect(v.names()).toEqual(['broken', 'frozen', 'web', 'api']);
    expect(v.headers()).toEqual(['Name', 'Namespace', 'Status', 'Ready', 'Up to date', 'Available', 'Images', 'Age', 'Actions']);
    const cellsOf = (name: string) => [...v.row(name).querySelectorAll('td')].map(text);
    expect(cellsOf('web').slice(0, 8)).toEqual(['web', 'default', 'Healthy', '3/3', '3', '3', 'registry.local/web:2.0', '2h']);
    expect(cellsOf('api').slice(0, 7)).toEqual(['api', 'team-a', 'Progressing', '2/4', '2', '2', 'registry.local/api:7']);
    expect(text(byTestId(v.row('broken'), 'ready'))).toBe('1/2');
    expect(badge(v.row('broken')).dataset.status).toBe('Degraded');
    expect(badge(v.row('broken')).classList.contains('error')).toBe(true);
    // Why it is degraded, on hover.
    expect(badge(v.row('broken')).title).toBe('ReplicaSet "broken-5c6" has timed out progressing.');
    expect(badge(v.row('frozen')).title).toBe('paused');
    // Each row's replica count in its scale control; Restart and Delete.
    expect(scaleInput(v.row('api')).value).toBe('4');
    expect(hasButton(v.row('api'), 'Restart')).toBe(true);
    expect(hasButton(v.row('api'), 'Delete api')).toBe(true);
    expect(v.row('web').querySelector('a')!.getAttribute('href')).toBe('#/workloads/Deployment/default/web');
    // Counts per kind on the tabs.
    expect(allByTestId(v.target, 'kind-Deployment').map(text)).toEqual(['Deployments 4']);
    expect(text(byTestId(v.target, 'kind-Job'))).toBe('Jobs 4');
    expect(byTestId(v.target, 'kind-ReplicaSet')).toBeNull();
  });

  it('shows StatefulSets, DaemonSets, Jobs and CronJobs on their tabs with their own columns and actions', async () => {
    const v = await mountList();
    byTestId(v.target, 'kind-StatefulSet')!.click();
    await until('StatefulSets', () => v.names().join() === 'db,cache');
    expect(location.hash).toBe('#/workloads/StatefulSet');
    expect(byTestId(v.target, 'kind-StatefulSet')!.classList.contains('active')).toBe(true);
    expect(text(byTestId(v.row('db'), 'ready'))).toBe('2/2');
    expect(text(byTestId(v.row('cache'), 'ready'))).toBe('1/3');
    expect(badge(v.row('cache')).dataset.status).toBe('Progressing');
    expect(scaleInput(v.row('db')).value).toBe('2');
    expect(hasButton(v.row('db'), 'Restart')).toBe(true);

    byTestId(v.target, 'kind-DaemonSet')!.click();
    await until('DaemonSets', () => v.names().join() === 'agent,shipper');
    expect(text(byTestId(v.row('agent'), 'ready'))).toBe('3/3');
    expect(text(byTestId(v.row('shipper'), 'ready'))).toBe('1/2');
    expect(badge(v.row('agent')).dataset.status).toBe('Healthy');
    expect(badge(v.row('shipper')).dataset.status).toBe('Progressing');
    // A DaemonSet runs one pod per node: nothing to scale, but it can be restarted.
    expect(scaleInput(v.row('agent'))).toBeNull();
    expect(hasButton(v.row('agent'), 'Restart')).toBe(true);

    byTestId(v.target, 'kind-Job')!.click();
    await until('Jobs', () => v.names().join() === 'batch,migrate,report-29000,failing');
    expect(v.headers()).toEqual(['Name', 'Namespace', 'Status', 'Completions', 'Images', 'Age', 'Actions']);
    expect(text(byTestId(v.row('migrate'), 'ready'))).toBe('1/1');
    expect(badge(v.row('migrate')).dataset.status).toBe('Complete');
    expect(text(byTestId(v.row('batch'), 'ready'))).toBe('1/3');
    expect(badge(v.row('batch')).dataset.status).toBe('Progressing');
    expect(badge(v.row('batch')).title).toBe('2 active');
    expect(badge(v.row('failing')).dataset.status).toBe('Failed');
    expect(badge(v.row('failing')).title).toBe('Job has reached the specified backoff limit');
    expect(scaleInput(v.row('batch'))).toBeNull();
    expect(hasButton(v.row('batch'), 'Restart')).toBe(false);
    expect(hasButton(v.row('batch'), 'Delete batch')).toBe(true);

    byTestId(v.target, 'kind-CronJob')!.click();
    await until('CronJobs', () => v.names().join() === 'nightly,report');
    expect(v.headers()).toContain('Schedule');
    expect(text(byTestId(v.row('report'), 'ready'))).toBe('0 * * * *');
    expect(badge(v.row('nightly')).dataset.status).toBe('Suspended');
    expect(hasButton(v.row('report'), 'Suspend')).toBe(true);
    expect(hasButton(v.row('nightly'), 'Resume')).toBe(true);
    expect(text(v.row('report'))).toContain('registry.local/report:3');
  });

  it('filters by the namespace switcher and by text', async () => {
    const v = await mountList();
    ui.namespace = 'team-a';
    await until('team-a only', () => v.names().join() === 'api');
    expect(text(byTestId(v.target, 'kind-StatefulSet'))).toBe('StatefulSets 1');
    ui.namespace = 'nowhere';
    await until('the empty state', () => v.names().length === 0);
    expect(text(v.target.querySelector('tbody'))).toContain('No Deployments in nowhere.');
    ui.namespace = '';
    const filter = v.target.querySelector<HTMLInputElement>('input[aria-label="Filter workloads"]')!;
    typeInto(filter, 'web');
    await until('web', () => v.names().join() === 'web');
    typeInto(filter, 'broken:bad');
    await until('by image', () => v.names().join() === 'broken');
    typeInto(filter, 'team-a/');
    await until('by namespace/name', () => v.names().join() === 'api');
    // As in the pod list: case and surrounding spaces do not matter.
    typeInto(filter, ' Web ');
    await until('web, typed loosely', () => v.names().join() === 'web');
    typeInto(filter, 'REGISTRY.LOCAL/API');
    await until('api by image, upper case', () => v.names().join() === 'api');
    typeInto(filter, '');
    await until('all', () => v.names().length === 4);
  });

  it('scales with the buttons and by typing a count, sending workloads.scale', async () => {
    const v = await mountList();
    const row = v.row('web');
    buttonIn(row, 'Scale up').click();
    await until('a scale call', () => fake.callsOf('workloads.scale').length === 1);
    expect(fake.callsOf('workloads.scale')[0]).toEqual({ kind: 'Deployment', namespace: 'default', name: 'web', replicas: 4 });
    await until('the success toast', () => toastTexts().includes('Deployment web scaled to 4'));
    // The count asked for shows until the pushed object has it.
    expect(scaleInput(row).value).toBe('4');
    fake.push('Deployment', [deployment('web', { uid: 'web-uid', replicas: 4, ready: 3, updated: 4, image: 'registry.local/web:2.0' })]);
    await until('3/4 ready', () => text(byTestId(v.row('web'), 'ready')) === '3/4');
    expect(scaleInput(v.row('web')).value).toBe('4');

    buttonIn(v.row('web'), 'Scale down').click();
    await until('a second call', () => fake.callsOf('workloads.scale').length === 2);
    expect(fake.callsOf('workloads.scale')[1]).toMatchObject({ name: 'web', replicas: 3 });

    // Typing a count and Enter.
    const input = scaleInput(v.row('api'));
    typeInto(input, '7');
    press(input, 'Enter');
    await until('the typed count sent', () => fake.callsOf('workloads.scale').length === 3);
    expect(fake.callsOf('workloads.scale')[2]).toEqual({ kind: 'Deployment', namespace: 'team-a', name: 'api', replicas: 7 });
    // Leaving the field after Enter sends nothing more.
    input.dispatchEvent(new FocusEvent('blur'));
    await settle();
    expect(fake.callsOf('workloads.scale')).toHaveLength(3);

    // Typing a count and leaving the field.
    const dbInput = scaleInput(v.row('frozen'));
    typeInto(dbInput, '2');
    dbInput.dispatchEvent(new FocusEvent('blur'));
    await until('the count sent on blur', () => fake.callsOf('workloads.scale').length === 4);
    expect(fake.callsOf('workloads.scale')[3]).toEqual({ kind: 'Deployment', namespace: 'default', name: 'frozen', replicas: 2 });
    fake.push('Deployment', [web]);
  });

  it('scales a StatefulSet with its own kind', async () => {
    const v = await mountList('#/workloads/StatefulSet');
    buttonIn(v.row('cache'), 'Scale down').click();
    await until('a scale call', () => fake.callsOf('workloads.scale').length === 1);
    expect(fake.callsOf('workloads.scale')[0]).toEqual({ kind: 'StatefulSet', namespace: 'team-a', name: 'cache', replicas: 2 });
  });

  it('does not scale to 0 when the count is cleared, nor to a count that is not one', async () => {
    const v = await mountList();
    const input = scaleInput(v.row('broken'));
    // Cleared (to type another number) and left: nothing is sent, the count shows again.
    typeInto(input, '');
    input.dispatchEvent(new FocusEvent('blur'));
    await settle();
    typeInto(input, '');
    press(input, 'Enter');
    await settle();
    expect(fake.callsOf('workloads.scale')).toEqual([]);
    await until('the count back', () => scaleInput(v.row('broken')).value === '2');
    for (const bad of ['2.5', '-1', '5000']) {
      typeInto(input, bad);
      press(input, 'Enter');
      await settle(30);
    }
    expect(fake.callsOf('workloads.scale')).toEqual([]);
    expect(scaleInput(v.row('broken')).value).toBe('2');
  });

  it('steps from a typed count when a button is clicked after typing', async () => {
    const v = await mountList();
    const row = v.row('frozen');
    const input = scaleInput(row);
    typeInto(input, '6');
    // Clicking the button takes the focus from the field first.
    input.dispatchEvent(new FocusEvent('blur'));
    buttonIn(row, 'Scale up').click();
    await until('two calls', () => fake.callsOf('workloads.scale').length === 2);
    expect(fake.callsOf('workloads.scale').map((c) => c.replicas)).toEqual([6, 7]);
    // The replica count the cluster ends with is the last one asked for.
    await until('7 shown', () => scaleInput(v.row('frozen')).value === '7');
  });

  it('shows why a scale failed', async () => {
    fake.handle('workloads.scale', () => {
      throw new DesktopError('Forbidden', 'deployments.apps "web" is forbidden: exceeded quota');
    });
    try {
      const v = await mountList();
      buttonIn(v.row('web'), 'Scale up').click();
      await until('the error toast', () => toastTexts().some((t) => t.includes('Scale failed')));
      expect(toastTexts().find((t) => t.includes('Scale failed'))).toContain('Forbidden: deployments.apps "web" is forbidden: exceeded quota');
      // The count shown is the real one again.
      await until('the count back', () => scaleInput(v.row('web')).value === String(fake.callsOf('workloads.scale')[0]!.replicas - 1));
    } finally {
      fake.handle('workloads.scale', () => null);
    }
  });

  it('restarts only after confirmation; Cancel and Escape send nothing', async () => {
    const v = await mountList();
    buttonIn(v.row('web'), 'Restart').click();
    let d = await confirmDialog();
    expect(text(d.dialog)).toContain('Restart web');
    expect(text(d.dialog)).toContain('Replace every pod of Deployment default/web, following its update strategy?');
    d.cancel.click();
    await settle();
    expect(document.querySelector('[data-testid="confirm-dialog"]')).toBeNull();

    buttonIn(v.row('web'), 'Restart').click();
    d = await confirmDialog();
    press(d.dialog, 'Escape');
    await until('the dialog closed', () => !document.querySelector('[data-testid="confirm-dialog"]'));
    await settle();
    expect(fake.callsOf('workloads.restart')).toEqual([]);

    buttonIn(v.row('web'), 'Restart').click();
    d = await confirmDialog();
    expect(text(d.ok)).toBe('Restart');
    d.ok.click();
    await until('the restart call', () => fake.callsOf('workloads.restart').length === 1);
    expect(fake.callsOf('workloads.restart')[0]).toEqual({ kind: 'Deployment', namespace: 'default', name: 'web' });
    await until('the toast', () => toastTexts().includes('Deployment web is restarting'));
    // The dialog did not navigate away.
    expect(location.hash).toBe('#/workloads');

    byTestId(v.target, 'kind-DaemonSet')!.click();
    await until('DaemonSets', () => v.names().join() === 'agent,shipper');
    buttonIn(v.row('shipper'), 'Restart').click();
    (await confirmDialog()).ok.click();
    await until('the DaemonSet restart', () => fake.callsOf('workloads.restart').length === 2);
    expect(fake.callsOf('workloads.restart')[1]).toEqual({ kind: 'DaemonSet', namespace: 'team-a', name: 'shipper' });
  });

  it('deletes only after confirmation; Cancel sends nothing', async () => {
    const v = await mountList();
    buttonIn(v.row('broken'), 'Delete broken').click();
    let d = await confirmDialog();
    expect(text(d.dialog)).toContain('Delete Deployment default/broken and its pods?');
    expect(d.ok.className).toContain('danger');
    d.cancel.click();
    await settle();
    expect(fake.callsOf('resources.delete')).toEqual([]);

    buttonIn(v.row('broken'), 'Delete broken').click();
    d = await confirmDialog();
    d.ok.click();
    await until('the delete call', () => fake.callsOf('resources.delete').length === 1);
    expect(fake.callsOf('resources.delete')[0]).toEqual({ kind: 'Deployment', namespace: 'default', name: 'broken' });
    await until('the toast', () => toastTexts().includes('Deployment broken deleted'));

    byTestId(v.target, 'kind-Job')!.click();
    await until('Jobs', () => v.names().includes('failing'));
    buttonIn(v.row('failing'), 'Delete failing').click();
    (await confirmDialog()).ok.click();
    await until('the Job delete', () => fake.callsOf('resources.delete').length === 2);
    expect(fake.callsOf('resources.delete')[1]).toEqual({ kind: 'Job', namespace: 'team-a', name: 'failing' });
  });

  it('runs a CronJob now, and suspends and resumes CronJobs', async () => {
    const v = await mountList('#/workloads/CronJob');
    buttonIn(v.row('report'), 'Run now').click();
    await until('the trigger call', () => fake.callsOf('workloads.trigger').length === 1);
    expect(fake.callsOf('workloads.trigger')[0]).toEqual({ namespace: 'default', name: 'report' });
    await until('the new Job named', () => toastTexts().includes('Job report-manual-1 created'));

    buttonIn(v.row('report'), 'Suspend').click();
    buttonIn(v.row('nightly'), 'Resume').click();
    await until('two suspend calls', () => fake.callsOf('workloads.suspend').length === 2);
    expect(fake.callsOf('workloads.suspend')).toEqual([
      { kind: 'CronJob', namespace: 'default', name: 'report', suspend: true },
      { kind: 'CronJob', namespace: 'default', name: 'nightly', suspend: false },
    ]);
  });

  it('opens a workload by clicking its row, but not when a control in the row is clicked', async () => {
    const v = await mountList();
    buttonIn(v.row('web'), 'Scale up').click();
    await settle();
    expect(location.hash).toBe('#/workloads');
    (v.row('web').querySelectorAll('td')[1] as HTMLElement).click();
    await until('the details', () => text(byTestId(v.target, 'workload-title')) === 'web');
    expect(location.hash).toBe('#/workloads/Deployment/default/web');
  });
});

describe('Workload details', () => {
  async function open(kind: string, namespace: string, name: string, tab = '') {
    await navigate(`#/workloads/${kind}/${namespace}/${name}${tab ? `/${tab}` : ''}`);
    const { target } = render(Workloads);
    render(ConfirmDialog);
    render(Toasts);
    await until(`the ${name} page`, () => text(byTestId(target, 'workload-title')) === name);
    return target;
  }

  it('shows a Deployment: rollout progress, its pods through its ReplicaSets, and events', async () => {
    fake.push('Deployment', [web]);
    const target = await open('Deployment', 'default', 'web');
    expect(badge(target.querySelector('.page-head')!).dataset.status).toBe('Healthy');
    expect(text(byTestId(target, 'rollout-state'))).toBe('complete');
    expect([...byTestId(target, 'rollout-progress')!.querySelectorAll('.bar-row')].map(text)).toEqual(['Updated 3/3', 'Ready 3/3', 'Available 3/3']);
    expect(scaleInput(target.querySelector('.page-head')!).value).toBe('3');

    const pods = allByTestId(target, 'workload-pod');
    expect(pods.map((p) => text(p.querySelector('a')))).toEqual(['web-rs2-aaaa', 'web-rs2-bbbb']);
    expect(badge(pods[1]!).dataset.status).toBe('CrashLoopBackOff');
    expect(rowText(pods[1]!)).toContain('3 restarts');
    expect(rowText(pods[1]!)).toContain('0/1 ready');
    expect(pods[0]!.querySelector('a')!.getAttribute('href')).toBe('#/pods/default/web-rs2-aaaa');

    // The Deployment's events and its ReplicaSets', newest first.
    const events = [...byTestId(target, 'events')!.querySelectorAll('tbody tr')].map(rowText);
    expect(events).toHaveLength(2);
    expect(events[0]).toContain('SuccessfulCreate');
    expect(events[1]).toContain('Scaled up replica set web-rs2 to 3');

    expect(allByTestId(target, 'tab-history')).toHaveLength(1);
    expect(fake.callsOf('metrics.subscribe').some((c) => JSON.stringify(c.target) === JSON.stringify({ type: 'workload', kind: 'Deployment', namespace: 'default', name: 'web' }))).toBe(true);
  });

  it('shows a rollout in progress, pauses and resumes it', async () => {
    let target = await open('Deployment', 'team-a', 'api');
    expect(text(byTestId(target, 'rollout-state'))).toBe('in progress');
    expect([...byTestId(target, 'rollout-progress')!.querySelectorAll('.bar-row')].map(text)).toEqual(['Updated 2/4', 'Ready 2/4', 'Available 2/4']);
    expect(text(byTestId(target, 'rollout-progress'))).toContain('1 old pod(s) still terminating or being replaced');
    buttonIn(byTestId(target, 'rollout-progress')!, 'Pause').click();
    await until('the pause call', () => fake.callsOf('rollout.pause').length === 1);
    expect(fake.callsOf('rollout.pause')[0]).toEqual({ namespace: 'team-a', name: 'api', paused: true });
    cleanup();

    target = await open('Deployment', 'default', 'frozen');
    expect(text(byTestId(target, 'rollout-state'))).toBe('paused');
    buttonIn(byTestId(target, 'rollout-progress')!, 'Resume').click();
    await until('the resume call', () => fake.callsOf('rollout.pause').length === 2);
    expect(fake.callsOf('rollout.pause')[1]).toEqual({ namespace: 'default', name: 'frozen', paused: false });
  });

  it('shows a failed rollout and an automatic rollback with its reason', async () => {
    fake.push('Deployment', [broken]);
    const target = await open('Deployment', 'default', 'broken');
    expect(text(byTestId(target, 'rollout-state'))).toBe('failed');
    expect(text(byTestId(target, 'rollout-progress'))).toContain('ProgressDeadlineExceeded: ReplicaSet "broken-5c6" has timed out progressing.');
    const banner = byTestId(target, 'auto-rollback')!;
    expect(text(banner)).toContain('Automatic rollback from revision 4 to 3');
    expect(text(banner)).toContain('pods crash-looping (CrashLoopBackOff)');
    expect(badge(target.querySelector('.page-head')!).dataset.status).toBe('Degraded');
  });

  it('scales, restarts and deletes from the details page', async () => {
    const target = await open('StatefulSet', 'default', 'db');
    const head = target.querySelector('.page-head')!;
    buttonIn(head, 'Scale up').click();
    await until('the scale call', () => fake.callsOf('workloads.scale').length === 1);
    expect(fake.callsOf('workloads.scale')[0]).toEqual({ kind: 'StatefulSet', namespace: 'default', name: 'db', replicas: 3 });
    expect(allByTestId(target, 'workload-pod').map((p) => text(p.querySelector('a')))).toEqual(['db-0']);
    expect(text(byTestId(target, 'events'))).toContain('create Pod db-0 in StatefulSet db successful');
    // Only Deployments have a rollout history.
    expect(byTestId(target, 'tab-history')).toBeNull();

    buttonIn(head, 'Restart').click();
    (await confirmDialog()).cancel.click();
    await settle();
    expect(fake.callsOf('workloads.restart')).toEqual([]);

    buttonIn(head, 'Delete').click();
    let d = await confirmDialog();
    d.cancel.click();
    await settle();
    expect(fake.callsOf('resources.delete')).toEqual([]);
    expect(location.hash).toBe('#/workloads/StatefulSet/default/db');
    buttonIn(head, 'Delete').click();
    d = await confirmDialog();
    expect(text(d.dialog)).toContain('Delete StatefulSet default/db and its pods?');
    d.ok.click();
    await until('the delete call', () => fake.callsOf('resources.delete').length === 1);
    expect(fake.callsOf('resources.delete')[0]).toEqual({ kind: 'StatefulSet', namespace: 'default', name: 'db' });
    // Back to the StatefulSets.
    await until('the list', () => location.hash === '#/workloads/StatefulSet');
    await until('the list rows', () => allByTestId(target, 'workload-row').length === 2);
  });

  it('suspends a Job and shows a CronJob\'s pods through its Jobs', async () => {
    let target = await open('Job', 'default', 'batch');
    expect(byTestId(target, 'rollout-progress')).toBeNull();
    buttonIn(target.querySelector('.page-head')!, 'Suspend').click();
    await until('the suspend call', () => fake.callsOf('workloads.suspend').length === 1);
    expect(fake.callsOf('workloads.suspend')[0]).toEqual({ kind: 'Job', namespace: 'default', name: 'batch', suspend: true });
    cleanup();
    target = await open('CronJob', 'default', 'report');
    expect(allByTestId(target, 'workload-pod').map((p) => text(p.querySelector('a')))).toEqual(['report-29000-x1']);
    buttonIn(target.querySelector('.page-head')!, 'Run now').click();
    await until('the trigger call', () => fake.callsOf('workloads.trigger').length === 1);
  });

  it('says so for a workload that does not exist', async () => {
    await navigate('#/workloads/Deployment/default/nope');
    const { target } = render(Workloads);
    await until('the message', () => text(target).includes('Deployment default/nope does not exist (any more).'));
    expect(hasButton(target, 'Delete')).toBe(false);
  });
});

describe('Rollout history', () => {
  async function openHistory() {
    fake.push('Deployment', [web]);
    await navigate('#/workloads/Deployment/default/web');
    const { target } = render(Workloads);
    render(ConfirmDialog);
    render(Toasts);
    await until('the page', () => byTestId(target, 'tab-history'));
    byTestId(target, 'tab-history')!.click();
    await until('three revisions', () => allByTestId(target, 'revision-row').length === 3);
    return target;
  }
  const revRow = (target: HTMLElement, n: number) => target.querySelector<HTMLElement>(`[data-testid="revision-row"][data-revision="${n}"]`)!;

  it('lists revisions newest first with image, change cause, time and pods; the current one marked', async () => {
    const target = await openHistory();
    expect(location.hash).toBe('#/workloads/Deployment/default/web/history');
    expect(fake.callsOf('rollout.history')[0]).toEqual({ namespace: 'default', name: 'web' });
    expect(allByTestId(target, 'revision-row').map((r) => r.dataset.revision)).toEqual(['3', '2', '1']);
    const cells = (n: number) => [...revRow(target, n).querySelectorAll('td')].map(text);
    expect(cells(3).slice(2, 7)).toEqual(['#3current', 'registry.local/web:2.0', 'v2', dateTime(history.revisions[2]!.created), '3/3']);
    expect(cells(2).slice(2, 7)).toEqual(['#2', 'registry.local/web:1.1', 'kubectl set image deployment/web app=registry.local/web:1.1', dateTime(history.revisions[1]!.created), '0/0']);
    expect(cells(1)[4]).toBe('initial release');
    expect(revRow(target, 3).classList.contains('current')).toBe(true);
    // No rolling back to where it is.
    expect(byTestId(target, 'undo-3')).toBeNull();
    expect(byTestId(target, 'undo-2')).not.toBeNull();
    expect(byTestId(target, 'undo-1')).not.toBeNull();
    expect(byTestId(target, 'auto-rollback')).toBeNull();
  });

  it('diffs the previous revision against the current one, and any two chosen', async () => {
    const target = await openHistory();
    const diff = await until('the diff', () => byTestId(target, 'diff'));
    expect(text(diff.closest('.card')!.querySelector('h2'))).toBe('Revision 2 → 3');
    const lines = (type: string) => [...byTestId(target, 'diff')!.querySelectorAll(`.line.${type}`)].map(text);
    expect(lines('del').join('\n')).toContain('registry.local/web:1.1');
    expect(lines('add').join('\n')).toContain('registry.local/web:2.0');
    expect(lines('add').join('\n')).toContain('v3');

    target.querySelector<HTMLInputElement>('input[aria-label="Compare from revision 1"]')!.click();
    await until('1 → 3', () => text(byTestId(target, 'diff')?.closest('.card')?.querySelector('h2')) === 'Revision 1 → 3');
    expect(lines('del').join('\n')).toContain('registry.local/web:1.0');
    expect(lines('del').join('\n')).toContain('v1');

    target.querySelector<HTMLInputElement>('input[aria-label="Compare to revision 2"]')!.click();
    await until('1 → 2', () => text(byTestId(target, 'diff')?.closest('.card')?.querySelector('h2')) === 'Revision 1 → 2');
    expect(lines('add').join('\n')).toContain('registry.local/web:1.1');
    expect(lines('add').join('\n')).not.toContain('2.0');

    // The same revision on both sides: nothing to compare.
    target.querySelector<HTMLInputElement>('input[aria-label="Compare from revision 2"]')!.click();
    await until('no diff', () => byTestId(target, 'diff') === null);
  });

  it('rolls back to a chosen revision only after confirmation', async () => {
    const target = await openHistory();
    byTestId(target, 'undo-1')!.click();
    let d = await confirmDialog();
    expect(text(d.dialog)).toContain('Roll back web');
    expect(text(d.dialog)).toContain('Roll Deployment default/web back to revision 1?');
    expect(text(d.dialog)).toContain('Images: registry.local/web:1.0');
    expect(text(d.dialog)).toContain('Change cause: initial release');
    expect(text(d.dialog)).toContain('(now at revision 3: registry.local/web:2.0)');
    expect(text(d.ok)).toBe('Roll back to 1');
    d.cancel.click();
    await settle();
    expect(fake.callsOf('rollout.undo')).toEqual([]);

    byTestId(target, 'undo-2')!.click();
    d = await confirmDialog();
    expect(text(d.ok)).toBe('Roll back to 2');
    d.ok.click();
    await until('the undo call', () => fake.callsOf('rollout.undo').length === 1);
    expect(fake.callsOf('rollout.undo')[0]).toEqual({ namespace: 'default', name: 'web', revision: 2 });
    await until('the toast', () => toastTexts().includes('Rolling back to revision 4'));
  });

  it('refreshes when the Deployment\'s ReplicaSets change (a rollback made revision 4)', async () => {
    const saved = history;
    try {
      const target = await openHistory();
      const before = fake.callsOf('rollout.history').length;
      history = {
        ...history,
        revisions: [
          history.revisions[0]!,
          history.revisions[2]!,
          { ...revision(4, { image: 'registry.local/web:1.1', cause: 'kubectl set image deployment/web app=registry.local/web:1.1', current: true, age: 10 }), replicaSet: 'web-rs2' },
        ].map((r) => (r.revision === 3 ? { ...r, current: false, replicas: 0, readyReplicas: 0 } : r)),
      };
      fake.push('ReplicaSet', [replicaSet('web-rs4', web, { revision: 4, uid: 'web-rs4-uid', replicas: 3 })]);
      await until('the history asked again', () => fake.callsOf('rollout.history').length > before);
      await until('revision 4 current', () => revRow(target, 4)?.classList.contains('current'));
      expect(allByTestId(target, 'revision-row').map((r) => r.dataset.revision)).toEqual(['4', '3', '1']);
      expect(byTestId(target, 'undo-3')).not.toBeNull();
      expect(byTestId(target, 'undo-4')).toBeNull();
      // The diff follows: from the previous revision to the new current one.
      await until('3 → 4', () => text(byTestId(target, 'diff')?.closest('.card')?.querySelector('h2')) === 'Revision 3 → 4');
    } finally {
      history = saved;
      fake.push('ReplicaSet', [], [{ namespace: 'default', name: 'web-rs4' }]);
    }
  });

  it('shows an automatic rollback with its reason, and the rollback events', async () => {
    const saved = history;
    history = {
      ...history,
      lastAutoRollback: { from: 3, to: 2, reason: 'ProgressDeadlineExceeded: ReplicaSet "web-rs3" has timed out progressing', time: '2025-03-04T05:06:07Z' },
      rollbacks: [
        { type: 'Warning', reason: 'AutoRollback', message: 'Rolled back from revision 3 to 2: progress deadline exceeded', time: '2025-03-04T05:06:07Z' },
        { type: 'Normal', reason: 'DeploymentRollback', message: 'Rolled back deployment "web" to revision 1', time: '2025-03-01T00:00:00Z' },
      ],
    };
    try {
      const target = await openHistory();
      const banner = await until('the banner', () => byTestId(target, 'auto-rollback'));
      expect(text(banner)).toBe(`Automatically rolled back from revision 3 to 2 (${dateTime('2025-03-04T05:06:07Z')}): ProgressDeadlineExceeded: ReplicaSet "web-rs3" has timed out progressing`);
      const card = [...target.querySelectorAll('.card')].find((c) => text(c.querySelector('h2')) === 'Rollbacks')!;
      const rows = [...card.querySelectorAll('tr')].map(rowText);
      expect(rows).toEqual([
        `AutoRollback | Rolled back from revision 3 to 2: progress deadline exceeded | ${dateTime('2025-03-04T05:06:07Z')}`,
        `DeploymentRollback | Rolled back deployment "web" to revision 1 | ${dateTime('2025-03-01T00:00:00Z')}`,
      ]);
      expect(card.querySelector('td')!.classList.contains('warn')).toBe(true);
    } finally {
      history = saved;
    }
  });

  it('shows why the history could not be read', async () => {
    historyError = new DesktopError('NotFound', 'deployments.apps "web" not found');
    try {
      fake.push('Deployment', [web]);
      await navigate('#/workloads/Deployment/default/web/history');
      const { target } = render(Workloads);
      await until('the error', () => text(byTestId(target, 'rollout-history')).includes('deployments.apps "web" not found'));
      expect(allByTestId(target, 'revision-row')).toHaveLength(0);
    } finally {
      historyError = undefined;
    }
  });
});
