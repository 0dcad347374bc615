/**
 * The Electron shell end to end (Playwright's `_electron`): the app starts its cluster on the
 * real Docker engine, the window shows the UI from its own origin, the preload exposes exactly the
 * contract (no Node, no ipcRenderer), IPC calls work, and navigation away is blocked.
 *
 * Runs wherever the Electron binary exists (node_modules/electron/dist). Skipped — saying why —
 * when it does not (its download is not possible here), and under CI=true, where the binary
 * cannot be downloaded either; WHEELHOUSE_E2E_ELECTRON=1 forces it to run.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CALL_NAMES, EVENT_NAMES } from '../../core/desktop-api.ts';
import { cleanupDocker, eventually, requirePrerequisites, ROOT, SHOTS } from './helpers.ts';

function electronBinary(): string | undefined {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown;
    return typeof p === 'string' && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

const binary = electronBinary();
const forced = process.env.WHEELHOUSE_E2E_ELECTRON === '1';
const skipReason = forced
  ? undefined
  : process.env.CI === 'true'
    ? 'CI=true: the Electron binary cannot be downloaded in CI'
    : !binary
      ? 'the Electron binary is not installed (node_modules/electron/dist is missing; its download is not possible here)'
      : undefined;

if (skipReason) console.warn(`[e2e] Electron test skipped: ${skipReason}`);

describe('Electron app', () => {
  it.skipIf(!!skipReason)(`opens the UI over IPC, locked down${skipReason ? ` (skipped: ${skipReason})` : ''}`, async () => {
    await requirePrerequisites();
    execFileSync('bash', ['scripts/build-ui.sh'], { cwd: ROOT, stdio: 'inherit' });
    const name = `e2e-electron-${randomBytes(3).toString('hex')}`;
    const dataDir = await mkdtemp(join(tmpdir(), `wh-${name}-`));
    const app = await electron.launch({
      executablePath: binary!,
      args: ['--no-sandbox', join(ROOT, 'out/electron/main.mjs')],
      env: { ...process.env, WHEELHOUSE_DATA_DIR: dataDir, WHEELHOUSE_CLUSTER_NAME: name } as Record<string, string>,
    });
    try {
      const page = await app.firstWindow();
      await page.getByTestId('overview-nodes').waitFor({ timeout: 60_000 });
      expect(page.url()).toMatch(/^app:\/\/wheelhouse\//);
      // Exactly the contract crosses the bridge; no Node in the page.
      const surface = await page.evaluate(() => {
        const g = globalThis as unknown as { wheelhouse?: { calls: Record<string, unknown>; on: unknown }; require?: unknown; process?: unknown };
        return { calls: Object.keys(g.wheelhouse?.calls ?? {}).sort(), on: typeof g.wheelhouse?.on, require: typeof g.require, process: typeof g.process };
      });
      expect(surface).toEqual({ calls: [...CALL_NAMES].sort(), on: 'function', require: 'undefined', process: 'undefined' });
      expect(EVENT_NAMES.length).toBeGreaterThan(0);
      await eventually('the node Ready over IPC', async () => (await page.getByTestId('overview-nodes').textContent())?.includes('1/1'), 60_000);
      // Navigation away from the app is refused.
      await page.evaluate(() => {
        (globalThis as unknown as { location: { href: string } }).location.href = 'https://example.com/';
      });
      await page.waitForTimeout(500);
      expect(page.url()).toMatch(/^app:\/\/wheelhouse\//);
      await page.screenshot({ path: join(SHOTS, 'electron-overview.png') });
    } finally {
      await app.close().catch(() => {});
      await cleanupDocker(name);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
