/**
 * The deploy form (what the user fills in → the YAML it shows → exactly what yaml.preview /
 * yaml.apply receive) and the YAML import (files dropped on the window, picked or pasted → the
 * per-object preview with diffs and per-document problems → apply only when all is valid).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { userEvent } from 'vitest/browser';
import { parseAllDocuments } from 'yaml';
import App from '../../renderer/src/App.svelte';
import Toasts from '../../renderer/src/components/Toasts.svelte';
import { importState } from '../../renderer/src/lib/import.svelte.ts';
import { startStores } from '../../renderer/src/lib/resources.svelte.ts';
import { setNamespace, toasts } from '../../renderer/src/lib/ui.svelte.ts';
import Deploy from '../../renderer/src/views/Deploy.svelte';
import Import from '../../renderer/src/views/Import.svelte';
import { DesktopError, type ImportArgs, type ImportPreview } from '../../core/desktop-api.ts';
import { button, byLabel, choose, configMap, importObject, importPreview, labelled, namespace, navigate, secret, settle, textOf, typeInto, typeKeys, waitForHash } from './fixtures-config.ts';
import { allByTestId, byTestId, cleanup, FakeMain, render, until, useFake } from './harness.ts';

const fake = useFake(
  new FakeMain()
    .set('Namespace', [namespace('default'), namespace('team-a')])
    .set('ConfigMap', [configMap('team-a', 'app-config', { a: '1' }), configMap('team-a', 'feature-flags', { b: '2' }), configMap('default', 'other-config', { c: '3' })])
    .set('Secret', [secret('team-a', 'db-creds', ['password']), secret('team-a', 'api-keys', ['token']), secret('default', 'default-secret', ['x'])]),
);
fake.handle('cluster.info', () => ({ name: 'wheelhouse', version: '0.1.0', runtime: null, localNodes: [], portForward: 'unsupported', platform: 'linux', mode: 'browser' }));

let preview: (a: ImportArgs) => ImportPreview;
let applyResult: (a: ImportArgs) => ImportPreview;
fake.handle('yaml.preview', (a) => preview(a));
fake.handle('yaml.apply', (a) => applyResult(a));
startStores();

beforeEach(async () => {
  fake.calls.length = 0;
  toasts.splice(0);
  setNamespace('');
  importState.files = [];
  importState.preview = null;
  importState.error = '';
  importState.namespace = '';
  preview = () => importPreview([]);
  applyResult = (a) => ({ ...preview(a), applied: true });
  await navigate('#/overview');
});
afterEach(cleanup);

const card = (root: ParentNode, title: string) => [...root.querySelectorAll<HTMLElement>('.card')].find((c) => textOf(c.querySelector('h2')) === title)!;
const shownYaml = (root: ParentNode) => root.querySelector<HTMLElement>('[data-testid=yaml]')!.textContent ?? '';
const objectsOf = (text: string) => parseAllDocuments(text).map((d) => d.toJS());

describe('the deploy form', () => {
  it('needs a name and an image, and its YAML follows the fields as they change', async () => {
    const { target } = render(Deploy);
    const submit = byTestId(target, 'deploy-submit') as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    expect(button(target, 'Check')!.disabled).toBe(true);
    expect(textOf(target)).toContain('Still needed: a name, an image.');

    await typeKeys(byTestId(target, 'deploy-name')!, 'web');
    await until('the name in the YAML', () => objectsOf(shownYaml(target))[0]?.metadata?.name === 'web');
    expect(textOf(target)).toContain('Still needed: an image.');
    expect(submit.disabled).toBe(true);

    await typeInto(byTestId(target, 'deploy-image')!, 'nginx:1.27');
    await until('the image in the YAML', () => objectsOf(shownYaml(target))[0]?.spec?.template?.spec?.containers?.[0]?.image === 'nginx:1.27');
    expect(textOf(target)).not.toContain('Still needed');
    expect(submit.disabled).toBe(false);

    await typeInto(labelled(target, 'Replicas')!, '3');
    await until('3 replicas in the YAML', () => objectsOf(shownYaml(target))[0]?.spec?.replicas === 3);
    expect(objectsOf(shownYaml(target))).toHaveLength(1);

    await userEvent.click(labelled(target, 'Create a Service')!);
    await until('a Service in the YAML', () => objectsOf(shownYaml(target))[1]?.kind === 'Service');
    await userEvent.click(labelled(target, 'Create a Service')!);
    await until('the Service gone again', () => objectsOf(shownYaml(target)).length === 1);
  });

  it('sends exactly the YAML it shows: ports, env, config and secret refs, resources, probes and a Service', async () => {
    await navigate('#/deploy');
    const { target } = render(Deploy);
    render(Toasts);
    await until('the namespaces', () => labelled<HTMLSelectElement>(target, 'Namespace')!.options.length === 2);
    await choose(labelled<HTMLSelectElement>(target, 'Namespace')!, 'team-a');
    await typeInto(byTestId(target, 'deploy-name')!, 'web');
    await typeInto(byTestId(target, 'deploy-image')!, 'nginx:1.27');
    await typeInto(labelled(target, 'Replicas')!, '3');
    await typeInto(labelled(target, 'Command (optional)')!, 'sh -c "echo hi && sleep 1000"');

    await userEvent.click(button(target, '+ Port')!);
    await typeInto(byLabel(target, 'Port name')[0]!, 'http');

    await userEvent.click(button(target, '+ Variable')!);
    await typeInto(byLabel(target, 'Variable name')[0]!, 'LOG_LEVEL');
    await typeInto(byLabel(target, 'Value')[0]!, 'debug');
    await userEvent.click(button(target, '+ Variable')!);
    await typeInto(byLabel(target, 'Variable name')[1]!, 'DB_PASSWORD');
    await choose(byLabel<HTMLSelectElement>(target, 'Source')[1]!, 'secretKey');
    const objectSelect = await until('the Secret picker', () => byLabel<HTMLSelectElement>(target, 'Object')[0]);
    // Only the Secrets of the chosen namespace are offered.
    expect([...objectSelect.options].map((o) => o.value)).toEqual(['db-creds', 'api-keys']);
    await choose(objectSelect, 'db-creds');
    await typeInto(byLabel(target, 'Key')[0]!, 'password');

    await userEvent.click(button(target, '+ All keys of a ConfigMap/Secret')!);
    const env = card(target, 'Environment');
    const fromRow = await until('the envFrom row', () => [...env.querySelectorAll('.row')].find((r) => textOf(r).startsWith('all keys of')));
    expect([...fromRow.querySelectorAll('select')[1]!.options].map((o) => o.value)).toEqual(['app-config', 'feature-flags']);
    await choose(fromRow.querySelectorAll('select')[1]!, 'feature-flags');

    await typeInto(labelled(target, 'CPU request')!, '100m');
    await typeInto(labelled(target, 'Memory limit')!, '256Mi');

    const checks = card(target, 'Health checks');
    const [readiness, liveness] = [...checks.querySelectorAll<HTMLElement>('.row')];
    await choose(readiness!.querySelector('select')!, 'http');
    await typeInto(await until('the path field', () => readiness!.querySelector<HTMLInputElement>('input[placeholder="/healthz"]')), '/healthz');
    await typeInto(labelled(readiness!, 'delay')!, '5');
    await choose(liveness!.querySelector('select')!, 'tcp');
    await until('the liveness port', () => byLabel(liveness!, 'Port')[0]);

    await userEvent.click(labelled(target, 'Create a Service')!);
    const expose = card(target, 'Expose');
    await choose(await until('the Service type', () => labelled<HTMLSelectElement>(expose, 'Type')), 'NodePort');

    const container = {
      name: 'web',
      image: 'nginx:1.27',
      command: ['sh', '-c', 'echo hi && sleep 1000'],
      ports: [{ name: 'http', containerPort: 8080 }],
      env: [
        { name: 'LOG_LEVEL', value: 'debug' },
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } },
      ],
      envFrom: [{ configMapRef: { name: 'feature-flags' } }],
      resources: { requests: { cpu: '100m' }, limits: { memory: '256Mi' } },
      readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, initialDelaySeconds: 5, periodSeconds: 10 },
      livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 10 },
    };
    const expected = [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'team-a', labels: { app: 'web' } },
        spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container] } } },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'team-a', labels: { app: 'web' } },
        spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
      },
    ];
    await until('the YAML shown to be the whole form', () => JSON.stringify(objectsOf(shownYaml(target))) === JSON.stringify(expected));

    applyResult = () => importPreview([importObject({ kind: 'Deployment', name: 'web', namespace: 'team-a' }), importObject({ kind: 'Service', name: 'web', namespace: 'team-a' })], [], true);
    await userEvent.click(byTestId(target, 'deploy-submit')!);
    await until('the apply', () => fake.callsOf('yaml.apply').length === 1);
    const sent = fake.callsOf('yaml.apply')[0]!;
    expect(sent.files).toHaveLength(1);
    expect(sent.files[0]!.name).toBe('deploy-form.yaml');
    expect(sent.files[0]!.text).toBe(shownYaml(target));
    expect(objectsOf(sent.files[0]!.text)).toEqual(expected);
    // Then the new Deployment's page, with what happened in a toast.
    await waitForHash('#/workloads/Deployment/team-a/web');
    const toast = await until('the toast', () => allByTestId(document.body, 'toast').find((t) => textOf(t).includes('Deployed web')));
    expect(textOf(toast)).toContain('Deployment team-a/web: created');
    expect(textOf(toast)).toContain('Service team-a/web: created');
  });

  it('keeps the "all keys of" and key pickers showing what the YAML refers to as kind and namespace change', async () => {
    const { target } = render(Deploy);
    await until('the namespaces', () => labelled<HTMLSelectElement>(target, 'Namespace')!.options.length === 2);
    await choose(labelled<HTMLSelectElement>(target, 'Namespace')!, 'team-a');
    await typeInto(byTestId(target, 'deploy-name')!, 'web');
    const container = () => objectsOf(shownYaml(target))[0].spec.template.spec.containers[0];

    await userEvent.click(button(target, '+ All keys of a ConfigMap/Secret')!);
    const kind = await until('the kind picker', () => byLabel<HTMLSelectElement>(target, 'Kind')[0]);
    // The envFrom row's object picker is the last "Object" select.
    const name = () => byLabel<HTMLSelectElement>(target, 'Object').at(-1)!;
    await until('the first ConfigMap', () => name().value === 'app-config');
    expect(container().envFrom).toEqual([{ configMapRef: { name: 'app-config' } }]);

    await choose(kind, 'Secret');
    // What the picker shows is what the YAML says: a Secret of this namespace, not the ConfigMap's name.
    await until('Secrets offered', () => [...name().options].map((o) => o.value).join() === 'db-creds,api-keys');
    await until('the YAML to follow', () => JSON.stringify(container().envFrom) === JSON.stringify([{ secretRef: { name: 'db-creds' } }]));
    expect(name().value).toBe('db-creds');

    // A single key from a ConfigMap, then from a Secret.
    await userEvent.click(button(target, '+ Variable')!);
    await typeInto(byLabel(target, 'Variable name')[0]!, 'FLAG');
    await choose(byLabel<HTMLSelectElement>(target, 'Source')[0]!, 'configMapKey');
    const ref = await until('the ConfigMap picker', () => (byLabel<HTMLSelectElement>(target, 'Object').length === 2 ? byLabel<HTMLSelectElement>(target, 'Object')[0] : undefined));
    await typeInto(byLabel(target, 'Key')[0]!, 'a');
    await until('the ref in the YAML', () => container().env?.[0]?.valueFrom?.configMapKeyRef?.name === ref.value);
    expect(ref.value).toBe('app-config');
    await choose(byLabel<HTMLSelectElement>(target, 'Source')[0]!, 'secretKey');
    await until('a Secret ref', () => container().env?.[0]?.valueFrom?.secretKeyRef?.name === 'db-creds');
    expect(byLabel<HTMLSelectElement>(target, 'Object')[0]!.value).toBe('db-creds');

    // Another namespace: its own objects, not those of the one left.
    await choose(labelled<HTMLSelectElement>(target, 'Namespace')!, 'default');
    await until('refs of the default namespace', () => container().env?.[0]?.valueFrom?.secretKeyRef?.name === 'default-secret' && container().envFrom?.[0]?.secretRef?.name === 'default-secret');
    expect(name().value).toBe('default-secret');
  });

  it('checks with a dry run, shows what will happen and the problems, and blocks the deploy until the form changes', async () => {
    const { target } = render(Deploy);
    await typeInto(byTestId(target, 'deploy-name')!, 'web');
    await typeInto(byTestId(target, 'deploy-image')!, 'nginx:1.27');
    preview = () =>
      importPreview(
        [importObject({ kind: 'Deployment', name: 'web', file: 'deploy-form.yaml' })],
        [{ file: 'deploy-form.yaml', document: 1, line: 9, column: 3, object: 'Deployment default/web', field: 'spec.replicas', message: 'must be greater than or equal to 0' }],
      );
    await userEvent.click(button(target, 'Check')!);
    await until('the preview call', () => fake.callsOf('yaml.preview').length === 1);
    expect(fake.callsOf('yaml.preview')[0]).toEqual({ files: [{ name: 'deploy-form.yaml', text: shownYaml(target) }] });
    await until('the verdict', () => textOf(target).includes('Deployment default/web: will be created'));
    expect(textOf(target.querySelector('.field-error'))).toBe('line 9: spec.replicas: must be greater than or equal to 0');
    expect((byTestId(target, 'deploy-submit') as HTMLButtonElement).disabled).toBe(true);

    // Any change makes the old verdict stale: it goes, and Deploy is possible again.
    await typeInto(labelled(target, 'Replicas')!, '2');
    await until('the verdict gone', () => !textOf(target).includes('will be created'));
    expect(target.querySelector('.field-error')).toBeNull();
    expect((byTestId(target, 'deploy-submit') as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows why a deploy failed and stays on the form', async () => {
    await navigate('#/deploy');
    const { target } = render(Deploy);
    await typeInto(byTestId(target, 'deploy-name')!, 'web');
    await typeInto(byTestId(target, 'deploy-image')!, 'nginx:1.27');
    applyResult = () => {
      throw new DesktopError('ImportFailed', 'deploy-form.yaml: document 1 (Deployment default/web), line 9:3: spec.replicas: must be greater than or equal to 0');
    };
    await userEvent.click(byTestId(target, 'deploy-submit')!);
    const err = await until('the error', () => byTestId(target, 'deploy-error'));
    expect(textOf(err)).toContain('spec.replicas: must be greater than or equal to 0');
    await settle();
    expect(location.hash).toBe('#/deploy');
  });
});

// ---------------------------------------------------------------------------------------------

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
`;
const CM = `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: hello
`;

const SVC = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } };

/** A preview of web.yaml: a ConfigMap to create, a Deployment to change, a Service unchanged. */
function threeObjects(applied = false): ImportPreview {
  return importPreview(
    [
      importObject({ kind: 'ConfigMap', name: 'web-config', file: 'web.yaml', document: 1, line: 1, action: 'created', diff: { after: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config', namespace: 'default' }, data: { greeting: 'hello' } } } }),
      importObject({
        kind: 'Deployment',
        name: 'web',
        file: 'web.yaml',
        document: 2,
        line: 8,
        action: 'configured',
        diff: {
          before: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 1 } },
          after: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 2 } },
        },
      }),
      importObject({ kind: 'Service', name: 'web', file: 'web.yaml', document: 3, line: 16, action: 'unchanged', diff: { before: SVC, after: SVC } }),
    ],
    [],
    applied,
  );
}

function drop(target: Element, files: File[]): void {
  const dt = new DataTransfer();
  for (const f of files) dt.items.add(f);
  target.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
  target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
}

describe('import, started from anywhere in the app', () => {
  it('previews files dropped on the window', async () => {
    preview = () => threeObjects();
    const { target } = render(App);
    const shell = await until('the app', () => target.querySelector('.shell'));
    const dt = new DataTransfer();
    dt.items.add(new File([WEB], 'web.yaml', { type: 'application/yaml' }));
    shell.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
    await until('the drop zone', () => byTestId(target, 'dropzone'));
    drop(shell, [new File([WEB], 'web.yaml', { type: 'application/yaml' }), new File(['x'], 'photo.png', { type: 'image/png' })]);
    await waitForHash('#/import');
    await until('the preview call', () => fake.callsOf('yaml.preview').length === 1);
    // Only the YAML file goes; the picture is left out.
    expect(fake.callsOf('yaml.preview')[0]).toEqual({ files: [{ name: 'web.yaml', text: WEB }] });
    await until('the summary', () => byTestId(target, 'import-summary'));
    expect(byTestId(target, 'dropzone')).toBeNull();
    expect(allByTestId(target, 'import-object')).toHaveLength(3);
  });

  it('says so when nothing dropped can be imported', async () => {
    const { target } = render(App);
    const shell = await until('the app', () => target.querySelector('.shell'));
    drop(shell, [new File(['x'], 'photo.png', { type: 'image/png' })]);
    await until('the warning', () => allByTestId(document.body, 'toast').some((t) => textOf(t).includes('Nothing to import')));
    expect(fake.callsOf('yaml.preview')).toEqual([]);
    expect(location.hash).toBe('#/overview');
  });

  it('previews files picked with the Import YAML button\'s file picker', async () => {
    preview = () => threeObjects();
    const { target } = render(App);
    const picker = await until('the picker', () => byTestId(target, 'file-picker') as HTMLInputElement | null);
    await userEvent.upload(picker, [new File([WEB], 'web.yaml', { type: 'application/yaml' }), new File([CM], 'config.yml', { type: '' })]);
    await waitForHash('#/import');
    await until('the preview call', () => fake.callsOf('yaml.preview').length === 1);
    expect(fake.callsOf('yaml.preview')[0]!.files).toEqual([
      { name: 'web.yaml', text: WEB },
      { name: 'config.yml', text: CM },
    ]);
    await until('the object rows', () => allByTestId(target, 'import-object').length === 3);
  });
});

describe('the import view', () => {
  it('previews pasted YAML', async () => {
    preview = () => threeObjects();
    const { target } = render(Import);
    const paste = card(target, 'Or paste YAML').querySelector('textarea')!;
    expect(button(target, 'Preview')!.disabled).toBe(true);
    await typeInto(paste, CM);
    await userEvent.click(button(target, 'Preview')!);
    await until('the preview call', () => fake.callsOf('yaml.preview').length === 1);
    expect(fake.callsOf('yaml.preview')[0]).toEqual({ files: [{ name: 'pasted.yaml', text: CM }] });
    await until('the summary', () => byTestId(target, 'import-summary'));
    expect(importState.source).toBe('paste');
  });

  it('lists each object as created, changed or unchanged, with a diff or its YAML', async () => {
    preview = () => threeObjects();
    const { target } = render(Import);
    await userEvent.upload(target.querySelector<HTMLInputElement>('input[type=file]')!, [new File([WEB], 'web.yaml', { type: 'application/yaml' })]);
    const summary = await until('the summary', () => byTestId(target, 'import-summary'));
    expect(textOf(summary)).toContain('Everything is valid.');
    expect([...summary.querySelectorAll('.tag')].map(textOf)).toEqual(['1 to create', '1 to change', '1 unchanged']);
    const rows = allByTestId(target, 'import-object');
    expect(rows.map((r) => r.dataset.action)).toEqual(['created', 'configured', 'unchanged']);
    expect(rows.map((r) => textOf(r.querySelector('.action')))).toEqual(['create', 'change', 'unchanged']);
    expect(textOf(rows[1]!.querySelector('td:nth-child(2)'))).toBe('web.yaml:8');
    expect(button(rows[2]!, /Show/)).toBeUndefined();

    await userEvent.click(button(rows[1]!, 'Show diff')!);
    const diff = await until('the diff', () => byTestId(target, 'diff'));
    expect(textOf(diff.querySelector('.stats'))).toBe('+1 −1');
    expect(textOf(diff.querySelector('.line.del'))).toContain('replicas: 1');
    expect(textOf(diff.querySelector('.line.add'))).toContain('replicas: 2');
    await userEvent.click(button(rows[1]!, 'Hide diff')!);
    await until('the diff closed', () => !byTestId(target, 'diff'));

    await userEvent.click(button(rows[0]!, 'Show YAML')!);
    const created = await until('the new object', () => byTestId(target, 'diff'));
    expect(created.querySelectorAll('.line.del')).toHaveLength(0);
    expect([...created.querySelectorAll('.line.add')].map(textOf).join('\n')).toContain('greeting: hello');
  });

  it('shows every problem with its file, document and line, and keeps Apply disabled', async () => {
    preview = () => ({
      ...threeObjects(),
      ok: false,
      problems: [
        { file: 'web.yaml', document: 2, line: 14, column: 9, object: 'Deployment default/web', field: 'spec.replicas', message: 'Invalid value: -2: must be greater than or equal to 0' },
        { file: 'web.yaml', document: 3, line: 22, column: 1, message: 'a YAML document must be a mapping' },
        { file: 'broken.json', document: 0, line: 0, column: 0, message: 'not valid UTF-8' },
      ],
    });
    const { target } = render(Import);
    await userEvent.upload(target.querySelector<HTMLInputElement>('input[type=file]')!, [new File([WEB], 'web.yaml', { type: 'application/yaml' }), new File(['{}'], 'broken.json', { type: 'application/json' })]);
    const problems = await until('the problems', () => byTestId(target, 'import-problems'));
    expect(textOf(byTestId(target, 'import-summary'))).toContain('3 problems — fix them before applying.');
    const lines = [...problems.querySelectorAll('.problem')].map(textOf);
    expect(lines).toEqual([
      'doc 2, line 14:9 Deployment default/web · spec.replicas: Invalid value: -2: must be greater than or equal to 0',
      'doc 3, line 22:1 a YAML document must be a mapping',
      'file not valid UTF-8',
    ]);
    expect([...problems.querySelectorAll('strong')].map(textOf)).toContain('broken.json');
    const apply = byTestId(target, 'import-apply') as HTMLButtonElement;
    expect(apply.disabled).toBe(true);
    await userEvent.click(apply, { force: true });
    await settle();
    expect(fake.callsOf('yaml.apply')).toEqual([]);
  });

  it('applies when everything is valid, then links to what it made', async () => {
    preview = () => threeObjects();
    applyResult = () => threeObjects(true);
    const { target } = render(Import);
    render(Toasts);
    await userEvent.upload(target.querySelector<HTMLInputElement>('input[type=file]')!, [new File([WEB], 'web.yaml', { type: 'application/yaml' })]);
    const apply = await until('Apply enabled', () => {
      const b = byTestId(target, 'import-apply') as HTMLButtonElement | null;
      return b && !b.disabled ? b : undefined;
    });
    expect(textOf(apply)).toBe('Apply 3 objects');
    await userEvent.click(apply);
    await until('the apply', () => fake.callsOf('yaml.apply').length === 1);
    expect(fake.callsOf('yaml.apply')[0]).toEqual({ files: [{ name: 'web.yaml', text: WEB }] });
    await until('applied', () => textOf(byTestId(target, 'import-summary')).includes('Applied.'));
    expect(byTestId(target, 'import-apply')).toBeNull();
    expect([...byTestId(target, 'import-summary')!.querySelectorAll('.tag')].map(textOf)).toEqual(['1 created', '1 changed', '1 unchanged']);
    const links = [...byTestId(target, 'import-objects')!.querySelectorAll('a')].map((a) => a.getAttribute('href'));
    expect(links).toEqual(['#/config/ConfigMap/default/web-config', '#/workloads/Deployment/default/web']);
    await until('the toast', () => allByTestId(document.body, 'toast').some((t) => textOf(t).includes('Applied 3 objects')));
  });

  it('re-previews in the default namespace chosen, and applies there', async () => {
    preview = () => threeObjects();
    const { target } = render(Import);
    await userEvent.upload(target.querySelector<HTMLInputElement>('input[type=file]')!, [new File([WEB], 'web.yaml', { type: 'application/yaml' })]);
    await until('the first preview', () => fake.callsOf('yaml.preview').length === 1 && byTestId(target, 'import-summary'));
    expect(fake.callsOf('yaml.preview')[0]!.namespace).toBeUndefined();
    await choose(labelled<HTMLSelectElement>(target, 'Default namespace')!, 'team-a');
    await until('a second preview', () => fake.callsOf('yaml.preview').length === 2);
    expect(fake.callsOf('yaml.preview')[1]).toEqual({ files: [{ name: 'web.yaml', text: WEB }], namespace: 'team-a' });
    await until('Apply enabled', () => !(byTestId(target, 'import-apply') as HTMLButtonElement | null)?.disabled);
    await userEvent.click(byTestId(target, 'import-apply')!);
    await until('the apply', () => fake.callsOf('yaml.apply').length === 1);
    expect(fake.callsOf('yaml.apply')[0]!.namespace).toBe('team-a');
  });

  it('shows a refused apply and previews again', async () => {
    preview = () => threeObjects();
    applyResult = () => {
      throw new DesktopError('ImportFailed', 'web.yaml: document 2 (Deployment default/web): the object changed meanwhile');
    };
    const { target } = render(Import);
    await userEvent.upload(target.querySelector<HTMLInputElement>('input[type=file]')!, [new File([WEB], 'web.yaml', { type: 'application/yaml' })]);
    await until('Apply enabled', () => !(byTestId(target, 'import-apply') as HTMLButtonElement | null)?.disabled);
    await userEvent.click(byTestId(target, 'import-apply')!);
    await until('a second preview', () => fake.callsOf('yaml.preview').length === 2);
    // previewImport clears the error before it asks again: the refusal must still be readable.
    await settle();
    expect(textOf(target.querySelector('.banner.error'))).toContain('the object changed meanwhile');
    expect(textOf(byTestId(target, 'import-summary'))).not.toContain('Applied');
  });

  it('clears the import', async () => {
    preview = () => threeObjects();
    const { target } = render(Import);
    await userEvent.upload(target.querySelector<HTMLInputElement>('input[type=file]')!, [new File([WEB], 'web.yaml', { type: 'application/yaml' })]);
    await until('the summary', () => byTestId(target, 'import-summary'));
    expect([...target.querySelectorAll('.files .tag')].map(textOf)).toEqual(['web.yaml']);
    await userEvent.click(button(target, 'Clear')!);
    await until('the drop zone again', () => textOf(target).includes('Drop YAML or JSON files anywhere on this window'));
    expect(byTestId(target, 'import-summary')).toBeNull();
  });
});
