/**
 * Where the project's files are, the same from a source checkout (core/…ts run by tsx) and from
 * a bundle (out/cli/wheelhouse.mjs, out/electron/main.mjs): the nearest folder above this module
 * that holds a package.json.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) return (root = dirname(dirname(fileURLToPath(import.meta.url))));
    dir = up;
  }
}
