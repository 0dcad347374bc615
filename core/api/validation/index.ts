/**
 * Validation as kube-apiserver does it: every problem at once, each with its Kubernetes field path
 * and cause type. `validateObject` for creates, `validateUpdate` adds what may not change.
 * Kinds the registry does not know validate clean (the registry gate is elsewhere).
 */
import { invalid, type FieldError } from '../errors.ts';
import { kindByName } from '../kinds.ts';
import type { KubeObject } from '../types.ts';
import {
  validateClusterRoleBinding, validateBindingUpdate, validateClusterRole, validateRole, validateRoleBinding,
} from './rbac.ts';
import {
  validateControllerRevision, validateControllerRevisionUpdate, validateEvent, validateLease, validateNamespace, validateNode,
  validateNodeUpdate, validatePriorityClass, validatePriorityClassUpdate, validateServiceAccount,
} from './cluster.ts';
import {
  nameIsDNS1035Label, nameIsDNSLabel, nameIsDNSSubdomain, nameIsPathSegment, validateObjectMeta, validateObjectMetaUpdate, type NameFn,
} from './common.ts';
import {
  validateConfigMap, validateConfigMapUpdate, validatePV, validatePVC, validatePVCUpdate, validatePVUpdate, validateSecret,
  validateSecretUpdate,
} from './config.ts';
import { validatePodDisruptionBudget } from './disruption.ts';
import { validateHPA } from './hpa.ts';
import { validateCronJob, validateJob, validateJobUpdate } from './jobs.ts';
import { validatePod, validatePodUpdate } from './pod.ts';
import { validateLimitRange, validateResourceQuota } from './policy.ts';
import { validateEndpoints, validateService, validateServiceUpdate } from './service.ts';
import {
  validateDaemonSet, validateDeployment, validateReplicaSet, validateSelectorUpdate, validateStatefulSet, validateStatefulSetUpdate,
} from './workloads.ts';

type Validate = (obj: KubeObject) => FieldError[];
type ValidateUpdate = (obj: KubeObject, old: KubeObject) => FieldError[];

interface KindRules {
  name?: NameFn;
  create: Validate;
  update?: ValidateUpdate;
}

const none: Validate = () => [];

const RULES: Record<string, KindRules> = {
  Namespace: { name: nameIsDNSLabel, create: validateNamespace },
  Node: { create: validateNode, update: validateNodeUpdate },
  Pod: { create: validatePod, update: validatePodUpdate },
  Service: { name: nameIsDNS1035Label, create: validateService, update: validateServiceUpdate },
  Endpoints: { create: validateEndpoints },
  ConfigMap: { create: validateConfigMap, update: validateConfigMapUpdate },
  Secret: { create: validateSecret, update: validateSecretUpdate },
  PersistentVolumeClaim: { create: validatePVC, update: validatePVCUpdate },
  PersistentVolume: { create: validatePV, update: validatePVUpdate },
  ServiceAccount: { create: validateServiceAccount },
  ResourceQuota: { create: validateResourceQuota },
  LimitRange: { create: validateLimitRange },
  Event: { create: validateEvent },
  ReplicaSet: { create: validateReplicaSet, update: validateSelectorUpdate },
  Deployment: { create: validateDeployment, update: validateSelectorUpdate },
  StatefulSet: { create: validateStatefulSet, update: validateStatefulSetUpdate },
  DaemonSet: { create: validateDaemonSet, update: validateSelectorUpdate },
  ControllerRevision: { create: validateControllerRevision, update: validateControllerRevisionUpdate },
  Job: { create: validateJob, update: validateJobUpdate },
  CronJob: { create: validateCronJob },
  HorizontalPodAutoscaler: { create: validateHPA },
  PodDisruptionBudget: { create: validatePodDisruptionBudget },
  Role: { name: nameIsPathSegment, create: validateRole },
  RoleBinding: { name: nameIsPathSegment, create: validateRoleBinding, update: validateBindingUpdate },
  ClusterRole: { name: nameIsPathSegment, create: validateClusterRole },
  ClusterRoleBinding: { name: nameIsPathSegment, create: validateClusterRoleBinding, update: validateBindingUpdate },
  PriorityClass: { create: validatePriorityClass, update: validatePriorityClassUpdate },
  Lease: { create: validateLease },
};

/** Every problem with an object about to be created (or the new version of an update). */
export function validateObject(obj: KubeObject): FieldError[] {
  const info = kindByName(obj?.kind);
  const rules = info ? RULES[info.kind] : undefined;
  if (!info || !rules) return [];
  return [
    ...validateObjectMeta(obj.metadata, { namespaced: info.namespaced, nameFn: rules.name ?? nameIsDNSSubdomain }),
    ...(rules.create ?? none)(obj),
  ];
}

/** validateObject plus what may not change from `old` (names, selectors, pod specs, cluster IPs …). */
export function validateUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const info = kindByName(obj?.kind);
  const rules = info ? RULES[info.kind] : undefined;
  if (!rules) return [];
  return [
    ...validateObjectMetaUpdate(obj.metadata, old.metadata),
    ...validateObject(obj),
    ...(rules.update ? rules.update(obj, old) : []),
  ];
}

/** Throws `Deployment.apps "web" is invalid: […]` (ApiError, reason Invalid, 422) when there are problems. */
export function validateOrThrow(obj: KubeObject, old?: KubeObject): void {
  const errors = old ? validateUpdate(obj, old) : validateObject(obj);
  if (errors.length === 0) return;
  const info = kindByName(obj.kind);
  throw invalid({ kind: obj.kind, group: info?.group ?? '', name: obj.metadata?.name ?? obj.metadata?.generateName ?? '' }, errors);
}

export {
  isConfigMapKey, isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isEnvVarName, isQualifiedName, isValidLabelValue, isValidPortName,
} from './common.ts';
