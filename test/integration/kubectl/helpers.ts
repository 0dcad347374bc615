/**
 * Real kubectl against a Wheelhouse API server started in this process (memory store, random
 * port, TLS with a fresh CA, HOME in a temp folder so kubectl's discovery cache starts empty).
 * KUBECTL picks the binary (default `kubectl` on PATH). Without kubectl the tests skip — except
 * under CI=true, where they fail.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { startApiHttpServer, type ApiHttpServer, type ApiHttpServerOptions } from '../../../core/server/http/server.ts';

export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

export function kubectlAvailable(bin = KUBECTL): boolean {
  const r = spawnSync(bin, ['version', '--client'], { encoding: 'utf8' });
  return r.status === 0;
}

/** true when the kubectl tests should run; under CI a missing kubectl is an error. */
export function requireKubectl(): boolean {
  if (kubectlAvailable()) return true;
  if (process.env.CI === 'true') throw new Error(`kubectl (${KUBECTL}) is not installed: the kubectl compatibility tests cannot run`);
  return false;
}

export interface Harness {
  api: ApiServer;
  server: ApiHttpServer;
  dir: string;
  home: string;
  kubectl(args: string[], opts?: { input?: string; bin?: string; env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export async function startHarness(extra: Partial<ApiHttpServerOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'wh-kubectl-'));
  const home = join(dir, 'home');
  const store = await openStore('memory:');
  const api = new ApiServer({ store });
  await api.bootstrap();
  const server = await startApiHttpServer({ api, dataDir: join(dir, 'data'), ...extra });
  return {
    api,
    server,
    dir,
    home,
    kubectl(args, opts = {}) {
      return new Promise((resolve) => {
        const child = execFile(
          opts.bin ?? KUBECTL,
          args,
          { env: { PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: server.kubeconfigPath, ...opts.env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
          (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
        );
        if (opts.input !== undefined) child.stdin!.end(opts.input);
        else child.stdin?.end();
      });
    },
    async close() {
      await server.close();
      await store.close?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
