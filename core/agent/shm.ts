/** Whether a host folder under /dev/shm can hold tmpfs-backed volumes (secrets, shared memory emptyDirs). */
import { accessSync, constants, statfsSync } from 'node:fs';

const TMPFS_MAGIC = 0x01021994;

export function shmUsable(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    accessSync('/dev/shm', constants.W_OK);
    return statfsSync('/dev/shm').type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}
