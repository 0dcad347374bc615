/**
 * Child process for the lowdb crash test: opens the store at argv[2] (folding often), runs
 * argv[3] concurrent writers forever (keys under /crash/<argv[4]>/) and prints "<key> <modRevision>" for every acknowledged write.
 * With argv[5] = 'fold-loop' it also folds back to back.
 * The parent kills it with SIGKILL mid-stream and checks that every printed write survived.
 */
import { openLowdbStore } from '../../../core/store/drivers/lowdb-driver.ts';

const path = process.argv[2]!;
const writers = Number(process.argv[3] ?? 20);
const round = process.argv[4] ?? '0';
const store = await openLowdbStore(path, { foldMinBytes: 32 * 1024 });
const pad = 'p'.repeat(800);

async function writer(w: number): Promise<void> {
  for (let n = 0; ; n++) {
    const key = `/crash/${round}/${w}/${n}`;
    let kv = await store.create(key, { w, n, pad });
    process.stdout.write(`${key} ${kv.modRevision}\n`);
    for (let u = 1; u <= 2; u++) {
      kv = await store.update(key, { w, n, u, pad }, kv.modRevision);
      process.stdout.write(`${key} ${kv.modRevision}\n`);
    }
    if (n % 3 === 2) {
      const d = await store.delete(`/crash/${round}/${w}/${n - 2}`);
      process.stdout.write(`-${d.key} ${d.modRevision}\n`);
    }
  }
}

if (process.argv[5] === 'fold-loop') {
  // Fold back to back, so the kill is likely to land in the middle of one.
  void (async () => {
    for (;;) await store.fold();
  })();
}
await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
