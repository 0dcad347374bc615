/** What one Job sync works with (syncJobCtx) and the controller services it uses. */
import type { KubeObject } from '../../api/types.ts';
import type { Client } from '../../client/client.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import type { ControllerExpectations } from '../controller-utils.ts';
import type { PodControl } from '../pod-control.ts';
import type { JobCondition } from './conditions.ts';
import type { BackoffRecord } from './failures.ts';

export interface JobEnv {
  client: Client;
  recorder: EventRecorder;
  podControl: PodControl;
  expectations: ControllerExpectations;
  /** Pod uids whose tracking finalizer this controller removed and the cache has not shown yet. */
  finalizerRemovals(key: string): Set<string>;
  now(): Date;
  requeueAfter(key: string, ms: number): void;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export interface JobSync {
  key: string;
  /** The working copy; its status is what gets written. */
  job: KubeObject;
  pods: KubeObject[];
  active: KubeObject[];
  ready: number;
  terminating: number;
  /** status.uncountedTerminatedPods as the sync started. */
  uncounted: { succeeded: Set<string>; failed: Set<string> };
  expectedRmFinalizers: Set<string>;
  succeeded: number;
  failed: number;
  /** Indexed: completed indexes from status, and with this sync's successes. */
  prevSucceededIndexes: Set<number>;
  succeededIndexes: Set<number>;
  finished?: JobCondition;
  backoff: BackoffRecord;
}
