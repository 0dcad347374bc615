/**
 * Every kubectl minor version installed beside the default one (Google Cloud SDK's dispatcher
 * ships kubectl.1.27 … kubectl.1.33) against the same server: discovery, apply, typed create
 * (protobuf bodies from 1.32 on), tables, can-i, explain. Skipped when there are none.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBECTL, requireKubectl, startHarness, type Harness } from './helpers.ts';

function versionedBinaries(): string[] {
  if (!requireKubectl()) return [];
  try {
    const path = execFileSync('sh', ['-c', `command -v ${KUBECTL}`], { encoding: 'utf8' }).trim();
    const dir = dirname(realpathSync(path));
    return readdirSync(dir)
      .filter((f) => /^kubectl\.1\.\d+$/.test(f))
      .map((f) => join(dir, f))
      .filter((f) => existsSync(f));
  } catch {
    return [];
  }
}

const bins = versionedBinaries();

describe.runIf(bins.length > 0)('kubectl minor versions', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each(bins.map((b) => [b.split('.').slice(-2).join('.'), b]))('kubectl %s', async (v, bin) => {
    const k = async (args: string[], input?: string) => {
      const r = await h.kubectl(args, { bin, input, env: { HOME: `${h.home}-${v}` } });
      if (r.code !== 0) throw new Error(`kubectl ${v} ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const ns = `v${v.replace('.', '-')}`;
    await k(['create', 'namespace', ns]);
    await k(['create', 'configmap', 'c', '-n', ns, '--from-literal=a=b']);
    await k(['apply', '-n', ns, '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: {x: "1"}\n');
    expect(await k(['get', 'cm', '-n', ns])).toMatch(/^applied\s+1\s+\d+s$/m);
    expect(await k(['auth', 'can-i', 'delete', 'pods', '-n', ns])).toBe('yes\n');
    await k(['create', 'deployment', 'd', '-n', ns, '--image=busybox']);
    expect(await k(['get', 'deploy', 'd', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toBe('busybox');
    expect(await k(['explain', 'pod.spec.containers.image'])).toMatch(/image\s+<string>/);
  });
});
