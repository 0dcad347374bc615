/**
 * Config & Secrets: the list, the key/value editor of a ConfigMap or Secret (masked Secret values,
 * reveal, file entries, validation before anything is sent, the save call as the contract has it,
 * "used by", conflicts), through the route the app uses (#/config/Kind/ns/name).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { userEvent } from 'vitest/browser';
import { DesktopError, type ConfigData, type ConfigSaveArgs } from '../../core/desktop-api.ts';
import ConfirmDialog from '../../renderer/src/components/ConfirmDialog.svelte';
import Toasts from '../../renderer/src/components/Toasts.svelte';
import { startStores } from '../../renderer/src/lib/resources.svelte.ts';
import { setNamespace, toasts } from '../../renderer/src/lib/ui.svelte.ts';
import Config from '../../renderer/src/views/Config.svelte';
import {
  button,
  byLabel,
  choose,
  configData,
  configMap,
  entry,
  labelled,
  maskedEntry,
  namespace,
  navigate,
  secret,
  textOf,
  typeInto,
  visibleText,
  waitForHash,
} from './fixtures-config.ts';
import { allByTestId, byTestId, cleanup, FakeMain, render, until, useFake } from './harness.ts';

const fake = useFake(
  new FakeMain()
    .set('Namespace', [namespace('default'), namespace('team-a')])
    .set('ConfigMap', [
      configMap('default', 'app-config', { LOG_LEVEL: 'info', 'app.properties': 'a=1\nb=2' }, { resourceVersion: '10' }),
      configMap('team-a', 'other', { x: '1' }),
    ])
    .set('Secret', [secret('default', 'db-creds', ['password', 'username'], { resourceVersion: '20' }), secret('default', 'web-tls', ['tls.crt', 'tls.key'], { type: 'kubernetes.io/tls' })]),
);

/** What `config.get` answers, per `Kind/ns/name` (plain and revealed). */
let objects: Record<string, { plain: ConfigData; revealed?: ConfigData }> = {};
let saveResult: (a: ConfigSaveArgs) => ConfigData;

function reset() {
  objects = {
    'ConfigMap/default/app-config': {
      plain: configData('ConfigMap', 'default', 'app-config', [entry('app.properties', 'a=1\nb=2'), entry('LOG_LEVEL', 'info')], {
        resourceVersion: '10',
        usedBy: [
          { kind: 'Deployment', namespace: 'default', name: 'web' },
          { kind: 'Pod', namespace: 'default', name: 'debug' },
        ],
      }),
    },
    'Secret/default/db-creds': {
      plain: configData('Secret', 'default', 'db-creds', [maskedEntry('password', 14), maskedEntry('username', 5)], { resourceVersion: '20', usedBy: [{ kind: 'StatefulSet', namespace: 'default', name: 'db' }] }),
      revealed: configData('Secret', 'default', 'db-creds', [entry('password', 'first-password'), entry('username', 'admin')], { resourceVersion: '20', usedBy: [{ kind: 'StatefulSet', namespace: 'default', name: 'db' }] }),
    },
  };
  // By default a save answers what config.get would after it: masked for Secrets, next resourceVersion.
  saveResult = (a) =>
    configData(
      a.kind,
      a.namespace,
      a.name,
      a.entries.map((e) => (a.kind === 'Secret' ? maskedEntry(e.key, e.value.length) : entry(e.key, e.value, { encoding: e.encoding }))),
      { resourceVersion: String(Number(a.resourceVersion ?? '0') + 1), usedBy: objects[`${a.kind}/${a.namespace}/${a.name}`]?.plain.usedBy ?? [] },
    );
}

fake.handle('config.get', (a) => {
  const o = objects[`${a.kind}/${a.namespace}/${a.name}`];
  if (!o) throw new DesktopError('NotFound', `${a.kind.toLowerCase()}s "${a.name}" not found`);
  return a.reveal && o.revealed ? o.revealed : o.plain;
});
fake.handle('config.save', (a) => saveResult(a));
fake.handle('resources.delete', () => null);
startStores();

beforeEach(async () => {
  reset();
  fake.calls.length = 0;
  toasts.splice(0);
  setNamespace('');
  await navigate('#/config/ConfigMap');
});
afterEach(cleanup);

const saves = () => fake.callsOf('config.save');
const entryEl = (root: ParentNode, key: string) => root.querySelector<HTMLElement>(`[data-testid=entry][data-key="${key}"]`);
const valueOf = (root: ParentNode, key: string) => entryEl(root, key)?.querySelector<HTMLTextAreaElement>('[data-testid=entry-value]') ?? null;

async function openEditor(hash: string): Promise<HTMLElement> {
  await navigate(hash);
  const { target } = render(Config);
  render(ConfirmDialog);
  render(Toasts);
  await until('the editor with its entries', () => byTestId(target, 'config-editor') && allByTestId(target, 'entry').length > 0);
  return target;
}

describe('the list', () => {
  it('lists ConfigMaps with their keys, Secrets with their type, and filters them', async () => {
    const { target } = render(Config);
    const rows = await until('two ConfigMap rows', () => (allByTestId(target, 'config-row').length === 2 ? allByTestId(target, 'config-row') : undefined));
    expect(rows.map((r) => r.dataset.name)).toEqual(['app-config', 'other']);
    expect(textOf(rows[0])).toContain('default');
    expect([...rows[0]!.querySelectorAll('.tag')].map(textOf).sort()).toEqual(['LOG_LEVEL', 'app.properties']);

    // The filter box narrows by namespace/name.
    await typeInto(target.querySelector<HTMLInputElement>('input[type=search]')!, 'team-a/');
    await until('one row', () => allByTestId(target, 'config-row').length === 1);
    expect(allByTestId(target, 'config-row')[0]!.dataset.name).toBe('other');
    await typeInto(target.querySelector<HTMLInputElement>('input[type=search]')!, '');

    // The namespace switcher narrows too, and an empty list says so.
    setNamespace('team-a');
    await until('only team-a', () => allByTestId(target, 'config-row').length === 1);
    await typeInto(target.querySelector<HTMLInputElement>('input[type=search]')!, 'nothing-like-this');
    await until('the empty row', () => textOf(target.querySelector('td.empty')) === 'No ConfigMaps in team-a.');
    await typeInto(target.querySelector<HTMLInputElement>('input[type=search]')!, '');
    setNamespace('');

    await userEvent.click(byTestId(target, 'tab-secrets')!);
    await waitForHash('#/config/Secret');
    const secrets = await until('two Secret rows', () => (allByTestId(target, 'config-row').length === 2 ? allByTestId(target, 'config-row') : undefined));
    expect(textOf(secrets[0])).toContain('Opaque');
    expect(textOf(secrets[1])).toContain('kubernetes.io/tls');
    expect(textOf(secrets[1])).toContain('tls.crt');
    expect(textOf(byTestId(target, 'tab-secrets'))).toBe('Secrets 2');
  });

  it('opens an object from its row', async () => {
    const { target } = render(Config);
    const row = await until('the app-config row', () => target.querySelector<HTMLElement>('[data-testid=config-row][data-name=app-config]'));
    await userEvent.click(row.querySelector('td.muted')!);
    await waitForHash('#/config/ConfigMap/default/app-config');
    await until('the editor', () => byTestId(target, 'config-editor'));
    expect(fake.callsOf('config.get')[0]).toEqual({ kind: 'ConfigMap', namespace: 'default', name: 'app-config' });
    expect(textOf(target.querySelector('h1'))).toBe('app-config');
  });
});

describe('the ConfigMap editor', () => {
  it('shows the entries and the workloads that use the ConfigMap, with links', async () => {
    const target = await openEditor('#/config/ConfigMap/default/app-config');
    expect(allByTestId(target, 'entry').map((e) => e.dataset.key)).toEqual(['app.properties', 'LOG_LEVEL']);
    expect(valueOf(target, 'app.properties')!.value).toBe('a=1\nb=2');
    expect(valueOf(target, 'LOG_LEVEL')!.value).toBe('info');
    const usedBy = [...target.querySelectorAll('.card')].find((c) => textOf(c.querySelector('h2')) === 'Used by')!;
    const links = [...usedBy.querySelectorAll('a')];
    expect(links.map(textOf)).toEqual(['Deployment web', 'Pod debug']);
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['#/workloads/Deployment/default/web', '#/pods/default/debug']);
  });

  it('says when nothing uses it', async () => {
    objects['ConfigMap/default/app-config']!.plain.usedBy = [];
    const target = await openEditor('#/config/ConfigMap/default/app-config');
    expect(textOf(target)).toContain('No workload refers to this ConfigMap.');
  });

  it('saves edited, added and removed entries as the contract has them', async () => {
    const target = await openEditor('#/config/ConfigMap/default/app-config');
    await typeInto(valueOf(target, 'LOG_LEVEL')!, 'debug');
    await userEvent.click(byLabel(target, 'Remove app.properties')[0]!);
    await until('one entry left', () => allByTestId(target, 'entry').length === 1);
    await userEvent.click(byTestId(target, 'add-entry')!);
    const keys = byLabel(target, 'Key');
    await typeInto(keys.at(-1)!, 'FEATURE_X');
    await until('the new entry keyed', () => entryEl(target, 'FEATURE_X'));
    await typeInto(valueOf(target, 'FEATURE_X')!, 'on\nand more');
    await userEvent.click(byTestId(target, 'save-config')!);
    await until('the save', () => saves().length === 1);
    expect(saves()[0]).toEqual({
      kind: 'ConfigMap',
      namespace: 'default',
      name: 'app-config',
      entries: [
        { key: 'LOG_LEVEL', value: 'debug', encoding: 'text' },
        { key: 'FEATURE_X', value: 'on\nand more', encoding: 'text' },
      ],
      resourceVersion: '10',
    });
    const toast = await until('a success toast', () => allByTestId(document.body, 'toast').find((t) => textOf(t).includes('ConfigMap app-config saved')));
    expect(toast.classList.contains('success')).toBe(true);
    // The editor now holds the saved object (its new resourceVersion): a second save sends it.
    await userEvent.click(byTestId(target, 'save-config')!);
    await until('the second save', () => saves().length === 2);
    expect(saves()[1]!.resourceVersion).toBe('11');
  });

  it('rejects bad keys with a message and sends nothing', async () => {
    const target = await openEditor('#/config/ConfigMap/default/app-config');
    const fieldError = (key: string) => textOf(entryEl(target, key)?.querySelector('.field-error'));

    await typeInto(byLabel(target, 'Key')[1]!, 'bad key!');
    await userEvent.click(byTestId(target, 'save-config')!);
    await until('the key message', () => fieldError('bad key!') === "keys may contain letters, digits, '-', '_' and '.' only");

    await typeInto(byLabel(target, 'Key')[1]!, 'app.properties');
    await userEvent.click(byTestId(target, 'save-config')!);
    await until('the duplicate message', () => [...target.querySelectorAll('.field-error')].some((e) => textOf(e) === 'duplicate key "app.properties"'));

    await typeInto(byLabel(target, 'Key')[1]!, '');
    await userEvent.click(byTestId(target, 'save-config')!);
    await until('the missing key message', () => [...target.querySelectorAll('.field-error')].some((e) => textOf(e) === 'a key is required'));

    // A value marked as base64 must be base64.
    await typeInto(byLabel(target, 'Key')[1]!, 'blob');
    await choose(byLabel<HTMLSelectElement>(target, 'Encoding')[1]!, 'base64');
    await typeInto(valueOf(target, 'blob')!, 'not base64!');
    await userEvent.click(byTestId(target, 'save-config')!);
    await until('the base64 message', () => fieldError('blob') === 'not valid base64');

    // Validate (the dry run) is refused the same way: nothing reached the main process.
    await userEvent.click(button(target, 'Validate')!);
    await new Promise((r) => setTimeout(r, 100));
    expect(saves()).toEqual([]);

    await typeInto(valueOf(target, 'blob')!, 'aGVsbG8=');
    await userEvent.click(byTestId(target, 'save-config')!);
    await until('the save', () => saves().length === 1);
    expect(target.querySelector('.field-error')).toBeNull();
    expect(saves()[0]!.entries).toEqual([
      { key: 'app.properties', value: 'a=1\nb=2', encoding: 'text' },
      { key: 'blob', value: 'aGVsbG8=', encoding: 'base64' },
    ]);
  });

  it('validates with a dry run, and shows the API\'s field errors when a save is refused', async () => {
    const target = await openEditor('#/config/ConfigMap/default/app-config');
    await userEvent.click(button(target, 'Validate')!);
    await until('the dry run', () => saves().length === 1);
    expect(saves()[0]!.dryRun).toBe(true);
    await until('the verdict', () => textOf(target).includes('Valid: the API accepts it (nothing was saved).'));

    saveResult = () => {
      throw new DesktopError('Invalid', 'ConfigMap "app-config" is invalid', { causes: [{ field: 'data', reason: 'FieldValueTooLong', message: 'must have at most 1048576 bytes' }] });
    };
    await userEvent.click(byTestId(target, 'save-config')!);
    const errors = await until('the error banner', () => byTestId(target, 'config-errors'));
    expect([...errors.children].map(textOf)).toEqual(['ConfigMap "app-config" is invalid', 'data: must have at most 1048576 bytes']);
    expect(saves()[1]!.dryRun).toBeUndefined();
    expect(textOf(byTestId(target, 'save-config'))).toBe('Save');
    expect(byTestId(target, 'save-config')!.hasAttribute('disabled')).toBe(false);
  });

  it('warns when the object changed elsewhere, and reloads it on request', async () => {
    const target = await openEditor('#/config/ConfigMap/default/app-config');
    expect(target.querySelector('.banner.warn')).toBeNull();
    fake.push('ConfigMap', [configMap('default', 'app-config', { LOG_LEVEL: 'warn' }, { resourceVersion: '12' })]);
    const banner = await until('the banner', () => target.querySelector('.banner.warn'));
    expect(textOf(banner)).toContain('This ConfigMap changed since you opened it.');
    objects['ConfigMap/default/app-config']!.plain = configData('ConfigMap', 'default', 'app-config', [entry('LOG_LEVEL', 'warn')], { resourceVersion: '12' });
    await userEvent.click(button(banner, 'Reload')!);
    await until('the reloaded entries', () => allByTestId(target, 'entry').length === 1 && valueOf(target, 'LOG_LEVEL')?.value === 'warn');
    expect(target.querySelector('.banner.warn')).toBeNull();
  });

  it('asks before deleting, naming the workloads that use it', async () => {
    const target = await openEditor('#/config/ConfigMap/default/app-config');
    await userEvent.click(button(target, 'Delete')!);
    const dialog = await until('the confirmation', () => byTestId(document.body, 'confirm-dialog'));
    expect(textOf(dialog)).toContain('Delete ConfigMap default/app-config?');
    expect(textOf(dialog)).toContain('Used by: Deployment web, Pod debug');
    await userEvent.click(button(dialog, 'Cancel')!);
    await until('the dialog closed', () => !byTestId(document.body, 'confirm-dialog'));
    expect(fake.callsOf('resources.delete')).toEqual([]);

    await userEvent.click(button(target, 'Delete')!);
    await userEvent.click(await until('OK', () => byTestId(document.body, 'confirm-ok')));
    await until('the delete', () => fake.callsOf('resources.delete').length === 1);
    expect(fake.callsOf('resources.delete')[0]).toEqual({ kind: 'ConfigMap', namespace: 'default', name: 'app-config' });
    await waitForHash('#/config/ConfigMap');
  });
});

describe('the Secret editor', () => {
  it('keeps values masked until revealed, and keeps unrevealed values on save', async () => {
    const target = await openEditor('#/config/Secret/default/db-creds');
    expect(allByTestId(target, 'masked')).toHaveLength(2);
    expect(allByTestId(target, 'entry-value')).toHaveLength(0);
    expect(textOf(entryEl(target, 'password'))).toContain('14 B');
    expect(visibleText(document.body)).not.toContain('first-password');
    expect(fake.callsOf('config.get')).toEqual([{ kind: 'Secret', namespace: 'default', name: 'db-creds' }]);
    expect(textOf(target.querySelector('.page-head'))).toContain('Opaque');

    await userEvent.click(byTestId(target, 'save-config')!);
    await until('the save', () => saves().length === 1);
    expect(saves()[0]).toEqual({
      kind: 'Secret',
      namespace: 'default',
      name: 'db-creds',
      entries: [
        { key: 'password', value: '', encoding: 'text', keep: true },
        { key: 'username', value: '', encoding: 'text', keep: true },
      ],
      resourceVersion: '20',
    });
  });

  it('reveals the values, sends edits as plain text for the main process to encode, and masks them again after the save', async () => {
    const target = await openEditor('#/config/Secret/default/db-creds');
    await userEvent.click(byTestId(target, 'reveal')!);
    await until('the revealed value', () => valueOf(target, 'password')?.value === 'first-password');
    expect(fake.callsOf('config.get').at(-1)).toEqual({ kind: 'Secret', namespace: 'default', name: 'db-creds', reveal: true });
    expect(valueOf(target, 'username')!.value).toBe('admin');
    expect(allByTestId(target, 'masked')).toHaveLength(0);
    expect(button(target, 'Hide values')).toBeDefined();

    await typeInto(valueOf(target, 'password')!, 'sécret pässword');
    await userEvent.click(byTestId(target, 'save-config')!);
    await until('the save', () => saves().length === 1);
    // The user typed text: it goes as text (the main process base64-encodes Secret data), never pre-encoded.
    expect(saves()[0]!.entries).toEqual([
      { key: 'password', value: 'sécret pässword', encoding: 'text' },
      { key: 'username', value: 'admin', encoding: 'text' },
    ]);
    await until('masked again', () => allByTestId(target, 'masked').length === 2);
    expect(visibleText(document.body)).not.toContain('pässword');
    expect(byTestId(target, 'reveal')).not.toBeNull();
  });

  it('hides revealed values again on request', async () => {
    const target = await openEditor('#/config/Secret/default/db-creds');
    await userEvent.click(byTestId(target, 'reveal')!);
    await until('revealed', () => valueOf(target, 'password')?.value === 'first-password');
    await userEvent.click(button(target, 'Hide values')!);
    await until('masked again', () => allByTestId(target, 'masked').length === 2);
    expect(visibleText(document.body)).not.toContain('first-password');
  });

  it('replaces one hidden value without revealing the others', async () => {
    const target = await openEditor('#/config/Secret/default/db-creds');
    await userEvent.click(button(entryEl(target, 'password')!, 'Replace')!);
    const value = await until('an empty value field', () => valueOf(target, 'password'));
    expect(value.value).toBe('');
    await typeInto(value, 'new-password');
    await userEvent.click(byTestId(target, 'save-config')!);
    await until('the save', () => saves().length === 1);
    expect(saves()[0]!.entries).toEqual([
      { key: 'password', value: 'new-password', encoding: 'text' },
      { key: 'username', value: '', encoding: 'text', keep: true },
    ]);
    expect(fake.callsOf('config.get').some((g) => g.reveal)).toBe(false);
  });

  it('does not send a hidden value under a new key it was never saved with', async () => {
    const target = await openEditor('#/config/Secret/default/db-creds');
    await typeInto(byLabel(target, 'Key')[1]!, 'user');
    await userEvent.click(byTestId(target, 'save-config')!);
    // Keeping a value under a key that has none cannot work: the user is told before anything is sent.
    await until('a message on the renamed entry', () => textOf(entryEl(target, 'user')?.querySelector('.field-error')).length > 0);
    expect(textOf(entryEl(target, 'user')!.querySelector('.field-error'))).toMatch(/reveal/i);
    expect(saves()).toEqual([]);
    // Revealing fills the renamed entry in (it is matched by the key it was loaded with).
    await userEvent.click(byTestId(target, 'reveal')!);
    await until('the revealed value', () => valueOf(target, 'user')?.value === 'admin');
    await userEvent.click(byTestId(target, 'save-config')!);
    await until('the save', () => saves().length === 1);
    expect(saves()[0]!.entries).toEqual([
      { key: 'password', value: 'first-password', encoding: 'text' },
      { key: 'user', value: 'admin', encoding: 'text' },
    ]);
  });

  it('creates a Secret from typed values and files, binary files as base64', async () => {
    const target = await openEditor('#/config/Secret/+new');
    expect(textOf(target.querySelector('h1'))).toBe('New Secret');
    expect(target.querySelector('[data-testid=reveal]')).toBeNull();

    // A bad name is refused before anything is sent.
    await typeInto(byTestId(target, 'config-name') as HTMLInputElement, 'Bad_Name');
    await typeInto(byLabel(target, 'Key')[0]!, 'api-token');
    await typeInto(valueOf(target, 'api-token')!, 'tok-123');
    await userEvent.click(byTestId(target, 'save-config')!);
    const errors = await until('the name message', () => byTestId(target, 'config-errors'));
    expect(textOf(errors)).toBe('the name must be lower case letters, digits, "-" and "."');
    expect(saves()).toEqual([]);

    await typeInto(byTestId(target, 'config-name') as HTMLInputElement, 'api-keys');
    await choose(labelled<HTMLSelectElement>(target, 'Namespace')!, 'team-a');
    await choose(labelled<HTMLSelectElement>(target, 'Type')!, 'kubernetes.io/basic-auth');

    const bin = new Uint8Array([0, 1, 2, 250, 255, 10]);
    const files = [new File(['line one\nline two\n'], 'notes.txt', { type: 'text/plain' }), new File([bin], 'key.bin', { type: 'application/octet-stream' })];
    await userEvent.upload(target.querySelector<HTMLInputElement>('input[type=file]')!, files);
    await until('two file entries', () => entryEl(target, 'notes.txt') && entryEl(target, 'key.bin'));
    expect(textOf(entryEl(target, 'key.bin'))).toContain('from key.bin');
    expect(byLabel<HTMLSelectElement>(entryEl(target, 'key.bin')!, 'Encoding')[0]!.value).toBe('base64');
    expect(byLabel<HTMLSelectElement>(entryEl(target, 'notes.txt')!, 'Encoding')[0]!.value).toBe('text');

    await userEvent.click(byTestId(target, 'save-config')!);
    await until('the save', () => saves().length === 1);
    expect(saves()[0]).toEqual({
      kind: 'Secret',
      namespace: 'team-a',
      name: 'api-keys',
      type: 'kubernetes.io/basic-auth',
      entries: [
        { key: 'api-token', value: 'tok-123', encoding: 'text' },
        { key: 'notes.txt', value: 'line one\nline two\n', encoding: 'text' },
        { key: 'key.bin', value: btoa(String.fromCharCode(...bin)), encoding: 'base64' },
      ],
    });
    expect(saves()[0]!.resourceVersion).toBeUndefined();
    // Created: the editor moves to the new object.
    await waitForHash('#/config/Secret/team-a/api-keys');
    await until('the toast', () => allByTestId(document.body, 'toast').some((t) => textOf(t).includes('Secret api-keys saved')));
  });

  it('turns file names into valid keys', async () => {
    const target = await openEditor('#/config/ConfigMap/+new');
    await userEvent.upload(target.querySelector<HTMLInputElement>('input[type=file]')!, [new File(['x=1'], 'my settings (1).conf', { type: 'text/plain' })]);
    await until('the file entry', () => entryEl(target, 'my_settings__1_.conf'));
    expect(valueOf(target, 'my_settings__1_.conf')!.value).toBe('x=1');
  });
});
