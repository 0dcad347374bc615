/** apps/v1 and batch/v1 defaults (pkg/apis/apps/v1/defaults.go, pkg/apis/batch/v1/defaults.go). */
import { defaultTemplate } from './pod.ts';
import { child, def, defZero, isObj, items, type Obj } from './util.ts';

export function defaultReplicaSet(spec: Obj): void {
  def(spec, 'replicas', 1);
  defaultTemplate(spec.template);
}

export function defaultDeployment(spec: Obj): void {
  def(spec, 'replicas', 1);
  const strategy = child(spec, 'strategy');
  if (strategy) {
    defZero(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const ru = child(strategy, 'rollingUpdate');
      if (ru) {
        def(ru, 'maxUnavailable', '25%');
        def(ru, 'maxSurge', '25%');
      }
    }
  }
  def(spec, 'revisionHistoryLimit', 10);
  def(spec, 'progressDeadlineSeconds', 600);
  defaultTemplate(spec.template);
}

export function defaultStatefulSet(spec: Obj): void {
  def(spec, 'replicas', 1);
  defZero(spec, 'podManagementPolicy', 'OrderedReady');
  const us = child(spec, 'updateStrategy');
  if (us) {
    if (!us.type) {
      us.type = 'RollingUpdate';
      def(us, 'rollingUpdate', {});
    }
    if (us.type === 'RollingUpdate' && isObj(us.rollingUpdate)) def(us.rollingUpdate, 'partition', 0);
  }
  def(spec, 'revisionHistoryLimit', 10);
  const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
  if (retention) {
    defZero(retention, 'whenDeleted', 'Retain');
    defZero(retention, 'whenScaled', 'Retain');
  }
  for (const claim of items(spec.volumeClaimTemplates)) if (isObj(claim.spec)) defZero(claim.spec, 'volumeMode', 'Filesystem');
  defaultTemplate(spec.template);
}

export function defaultDaemonSet(spec: Obj): void {
  const us = child(spec, 'updateStrategy');
  if (us) {
    defZero(us, 'type', 'RollingUpdate');
    if (us.type === 'RollingUpdate') {
      const ru = child(us, 'rollingUpdate');
      if (ru) {
        def(ru, 'maxUnavailable', 1);
        def(ru, 'maxSurge', 0);
      }
    }
  }
  def(spec, 'revisionHistoryLimit', 10);
  defaultTemplate(spec.template);
}

const MAX_INT32 = 2147483647;

export function defaultJob(job: Obj): void {
  const spec: Obj = job.spec;
  // A non-parallel job may leave both unset: both become 1.
  if ((spec.completions === undefined || spec.completions === null) && (spec.parallelism === undefined || spec.parallelism === null)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  def(spec, 'parallelism', 1);
  def(spec, 'backoffLimit', spec.backoffLimitPerIndex !== undefined && spec.backoffLimitPerIndex !== null ? MAX_INT32 : 6);
  const labels = isObj(spec.template) && isObj(spec.template.metadata) ? spec.template.metadata.labels : undefined;
  if (isObj(labels) && Object.keys(labels).length && isObj(job.metadata)) {
    const own = job.metadata.labels;
    if (!isObj(own) || Object.keys(own).length === 0) job.metadata.labels = { ...labels };
  }
  defZero(spec, 'completionMode', 'NonIndexed');
  def(spec, 'suspend', false);
  defaultJobSpecPolicies(spec);
  defaultTemplate(spec.template, { job: true });
}

function defaultJobSpecPolicies(spec: Obj): void {
  const pfp = spec.podFailurePolicy;
  if (isObj(pfp)) for (const r of items(pfp.rules)) for (const c of items(r.onPodConditions)) defZero(c, 'status', 'True');
  defZero(spec, 'podReplacementPolicy', isObj(pfp) ? 'Failed' : 'TerminatingOrFailed');
}

export function defaultCronJob(spec: Obj): void {
  defZero(spec, 'concurrencyPolicy', 'Allow');
  def(spec, 'suspend', false);
  def(spec, 'successfulJobsHistoryLimit', 3);
  def(spec, 'failedJobsHistoryLimit', 1);
  // As in Kubernetes, the job template gets pod-spec defaults but not the Job's own.
  const jt = spec.jobTemplate;
  if (isObj(jt) && isObj(jt.spec)) defaultTemplate(jt.spec.template, { job: true });
}

const LEGACY_JOB_NAME = 'job-name';
const JOB_NAME = 'batch.kubernetes.io/job-name';
const LEGACY_CONTROLLER_UID = 'controller-uid';
const CONTROLLER_UID = 'batch.kubernetes.io/controller-uid';

/**
 * What kube-apiserver does to a new Job without `manualSelector: true` (generateSelector): label
 * the template with the job's name and uid, and select on the uid. Needs metadata.name and uid.
 */
export function generateJobSelector(job: Obj): void {
  const spec = job.spec;
  const name = job.metadata?.name;
  const uid = job.metadata?.uid;
  if (!isObj(spec) || spec.manualSelector === true || !name || !uid) return;
  const template = child(spec, 'template');
  const meta = template && child(template, 'metadata');
  const labels = meta && child(meta, 'labels');
  if (labels) {
    for (const k of [LEGACY_JOB_NAME, JOB_NAME]) if (!(k in labels)) labels[k] = name;
    for (const k of [LEGACY_CONTROLLER_UID, CONTROLLER_UID]) if (!(k in labels)) labels[k] = uid;
  }
  const selector = child(spec, 'selector');
  const match = selector && child(selector, 'matchLabels');
  if (match && !(CONTROLLER_UID in match)) match[CONTROLLER_UID] = uid;
}
