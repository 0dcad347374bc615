#!/usr/bin/env node
// The `wheelhouse` command. Runs the bundle (out/cli/wheelhouse.mjs, made by scripts/build-cli.sh
// or `npm run build`) when it is newer than every source file under core/; otherwise the
// TypeScript itself through tsx (a dependency), so a source checkout works without a build.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'out', 'cli', 'wheelhouse.mjs');

function newestSource(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return t;
}

const fresh = existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource(join(root, 'core'));
const [cmd, args] = fresh
  ? [process.execPath, [bundle, ...process.argv.slice(2)]]
  : [join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'core', 'cli.ts'), ...process.argv.slice(2)]];
const r = spawnSync(cmd, args, { stdio: 'inherit' });
process.exit(r.status ?? (r.signal ? 128 : 1));
