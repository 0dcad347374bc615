/**
 * The TTL-after-finished controller (pkg/controller/ttlafterfinished): a Job with
 * `ttlSecondsAfterFinished` is deleted that long after its Complete/Failed condition's
 * transition. The decision is re-checked against a fresh read (the TTL may have been changed),
 * and the delete is preconditioned on the uid. Kubernetes deletes with Foreground propagation;
 * Wheelhouse uses Background (the Job goes at once, the garbage collector removes its pods).
 */
import { isApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { PropagationPolicy } from '../../client/client.ts';
import { log } from '../../log.ts';
import type { Controller, ControllerContext } from '../controller.ts';
import { timeMs } from '../controller-utils.ts';
import { keyOf, splitKey, type Informer } from '../informer.ts';
import { WorkQueue } from '../workqueue.ts';
import { finishedCondition } from './conditions.ts';

const JOB = { apiVersion: 'batch/v1', kind: 'Job' } as const;
const NAME = 'ttl-after-finished-controller';

export interface TTLAfterFinishedOptions {
  /** Default Background (see above). */
  propagationPolicy?: PropagationPolicy;
}

/** When the Job expires, or undefined when it has no TTL or is not finished. */
export function expiresAt(job: KubeObject): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || job.metadata.deletionTimestamp) return undefined;
  const cond = finishedCondition(job);
  if (!cond) return undefined;
  const finished = timeMs(cond.lastTransitionTime) ?? timeMs(job.status?.completionTime);
  return finished === undefined ? undefined : finished + Number(ttl) * 1000;
}

export class TTLAfterFinishedController implements Controller {
  readonly name = NAME;
  readonly queue = new WorkQueue({ name: NAME });
  private readonly jobs: Informer;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: TTLAfterFinishedOptions = {},
  ) {
    this.jobs = ctx.informers.for(JOB);
    this.jobs.addHandlers({
      onAdd: (j) => this.observe(j),
      onUpdate: (_o, j) => this.observe(j),
    });
  }

  private observe(job: KubeObject): void {
    if (expiresAt(job) !== undefined) this.queue.add(keyOf(job));
  }

  run(workers: number): void {
    void this.queue.run(workers, (k) => this.reconcile(k));
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.jobs.get(key);
    if (!cached) return;
    const at = expiresAt(cached);
    if (at === undefined) return;
    const left = at - this.ctx.now().getTime();
    if (left > 0) {
      this.queue.addAfter(key, left);
      return;
    }
    // The cache may be stale (the TTL changed, the Job replaced): decide again on a fresh read.
    const { namespace, name } = splitKey(key);
    let fresh: KubeObject;
    try {
      fresh = await this.ctx.client.get({ ...JOB, namespace, name });
    } catch (e) {
      if (isApiError(e, 'NotFound')) return;
      throw e;
    }
    const freshAt = expiresAt(fresh);
    if (freshAt === undefined) return;
    if (freshAt > this.ctx.now().getTime()) {
      this.queue.addAfter(key, freshAt - this.ctx.now().getTime());
      return;
    }
    log.info('deleting finished job whose TTL expired', { job: key, ttlSecondsAfterFinished: fresh.spec.ttlSecondsAfterFinished });
    try {
      await this.ctx.client.delete(
        { ...JOB, namespace, name },
        { propagationPolicy: this.opts.propagationPolicy ?? 'Background', preconditions: { uid: fresh.metadata.uid }, fieldManager: NAME },
      );
    } catch (e) {
      if (!isApiError(e, 'NotFound') && !isApiError(e, 'Conflict')) throw e;
    }
  }
}
