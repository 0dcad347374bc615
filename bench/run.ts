/**
 * `npm run bench [filter]`: runs every bench/*.bench.ts (whose name contains `filter`, if given)
 * in its own child process, one after another, passing their output through. Each bench prints
 * JSON lines. Exits non-zero if any bench failed.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const filter = process.argv[2] ?? '';
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts') && f.includes(filter))
  .sort();

if (benches.length === 0) {
  console.error(`no bench matches "${filter}" in ${dir}`);
  process.exit(1);
}

let failed = 0;
for (const file of benches) {
  const started = Date.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(dir, file)], { stdio: 'inherit' });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  if (code !== 0) failed++;
  console.error(`bench ${file}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
process.exit(failed ? 1 : 0);
