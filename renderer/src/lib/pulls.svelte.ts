/** Image pull progress of pods, pushed (batched) by the main process. */
import type { ImagePullState } from '../../../core/desktop-api.ts';
import { api } from './api.ts';

export const pulls = $state<{ byPod: Record<string, ImagePullState[]> }>({ byPod: {} });

let wired = false;
export function startPulls(): void {
  if (wired) return;
  wired = true;
  api.on('pull.update', ({ pods }) => {
    const next = { ...pulls.byPod };
    for (const p of pods) next[`${p.namespace}/${p.pod}`] = p.images;
    pulls.byPod = next;
  });
}

/** Pulls still running, across pods (for the top bar). */
export function activePulls(): Array<{ pod: string; image: ImagePullState }> {
  const out: Array<{ pod: string; image: ImagePullState }> = [];
  for (const [pod, images] of Object.entries(pulls.byPod)) for (const i of images) if (!i.done && !i.error) out.push({ pod, image: i });
  return out;
}
