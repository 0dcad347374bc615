/**
 * One process at a time per lowdb store: `<path>.lock` holds the owner's pid. Two writers
 * (say the desktop app and `wheelhouse serve`) appending to one journal would interleave
 * revisions and corrupt it. A lock left by a process that no longer runs (a crash) is taken over.
 */
import { promises as fsp } from 'node:fs';
import { StoreError } from '../store.ts';

export interface StoreLock {
  release(): Promise<void>;
}

export async function acquireStoreLock(path: string): Promise<StoreLock> {
  const lockPath = `${path}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fsp.writeFile(lockPath, `${process.pid}\n`, { flag: 'wx' });
      return { release: () => fsp.rm(lockPath, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreError('IO', `cannot create lock file ${lockPath}: ${(err as Error).message}`);
      }
    }
    const owner = Number.parseInt(await fsp.readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
      throw new StoreError(
        'IO',
        `store ${path} is in use by process ${owner} (lock file ${lockPath}). ` +
          `Stop that process first; if it is not a Wheelhouse process, delete ${lockPath}.`,
      );
    }
    await fsp.rm(lockPath, { force: true }); // stale: its owner is gone
  }
  throw new StoreError('IO', `cannot take the lock ${lockPath}: another process keeps taking it`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
