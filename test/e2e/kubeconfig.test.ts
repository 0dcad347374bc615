/**
 * "Use with kubectl" on the Overview: the app's kubeconfig path, and adding its context to the
 * user's kubeconfig ($KUBECONFIG here, a temp file holding another cluster) after a confirmation;
 * the other cluster stays, the card then says the context is there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, type E2E } from './helpers.ts';

let e: E2E;
const dir = mkdtempSync(join(tmpdir(), 'wh-e2e-kubeconfig-'));
const userConfig = join(dir, 'config');
const savedEnv = process.env.KUBECONFIG;

beforeAll(async () => {
  writeFileSync(userConfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: work',
    'clusters: [{name: work, cluster: {server: "https://work.example:6443"}}]',
    'users: [{name: work, user: {token: abc}}]',
    'contexts: [{name: work, context: {cluster: work, user: work}}]', '',
  ].join('\n'));
  process.env.KUBECONFIG = userConfig;
  e = await startE2E('kubeconfig', { runtime: false }, {
    host: { kubeconfig: { path: join(dir, 'app-kubeconfig'), server: 'https://127.0.0.1:6443', token: 't0k3n', caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', name: 'wheelhouse-e2e' } },
  });
});

afterAll(async () => {
  await e?.close();
  if (savedEnv === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = savedEnv;
  rmSync(dir, { recursive: true, force: true });
});

describe('Use with kubectl', () => {
  it('adds the context to the user kubeconfig after confirmation, keeping the other cluster', async () => {
    await e.page.goto(`${e.bm.url}#/overview`);
    const card = e.page.getByTestId('kubectl-card');
    await card.waitFor();
    expect(await e.page.getByTestId('kubeconfig-path').textContent()).toBe(join(dir, 'app-kubeconfig'));
    await e.page.getByTestId('kubeconfig-merge').click();
    await e.page.getByTestId('confirm-ok').click();
    await e.page.getByTestId('kubeconfig-merged').waitFor();
    await e.shot('kubeconfig-merged');
    const cfg = parse(readFileSync(userConfig, 'utf8'));
    expect(cfg['current-context']).toBe('work');
    expect(cfg.contexts.map((c: any) => c.name).sort()).toEqual(['wheelhouse-e2e', 'work']);
    expect(cfg.clusters.find((c: any) => c.name === 'wheelhouse-e2e').cluster.server).toBe('https://127.0.0.1:6443');
    expect(cfg.users.find((u: any) => u.name === 'wheelhouse-e2e').user.token).toBe('t0k3n');
    expect(e.errors, `errors in the page: ${e.errors.join(" | ")}`).toEqual([]);
  });
});
