import { describe, expect, it } from 'vitest';
import { applyDefaults, defaultObjectMeta } from '../../../../core/api/defaults.ts';
import type { KubeObject } from '../../../../core/api/types.ts';
import { validateObject, validateUpdate } from '../../../../core/api/validation/index.ts';
import { causes, container, deployment, expectOne, obj, podSpec, template } from './helpers.ts';

const sel = { matchLabels: { app: 'web' } };
const apps = (kind: string, spec: Record<string, unknown>) => obj('apps/v1', kind, { spec: { selector: sel, template: template(), ...spec } }, 'web');
const job = (spec: Record<string, unknown> = {}, tplSpec: Record<string, unknown> = { restartPolicy: 'Never' }): KubeObject =>
  obj('batch/v1', 'Job', { spec: { template: template({ app: 'batch' }, podSpec(tplSpec)), ...spec } }, 'pi');
const cron = (spec: Record<string, unknown> = {}, name = 'nightly'): KubeObject =>
  obj('batch/v1', 'CronJob', { spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: template({ app: 'batch' }, podSpec({ restartPolicy: 'OnFailure' })) } }, ...spec } }, name);

describe('Deployment', () => {
  it('a valid one passes, defaulted or not', () => {
    expect(validateObject(deployment())).toEqual([]);
    expect(validateObject(applyDefaults(deployment()))).toEqual([]);
  });

  it('needs a non-empty selector that matches the template labels', () => {
    expect(causes(validateObject(deployment({ selector: undefined })))).toEqual([['spec.selector', 'Required']]);
    const empty = expectOne(validateObject(deployment({ selector: {} })), 'spec.selector', 'Invalid');
    expect(empty.message).toBe('Invalid value: {}: empty selector is invalid for deployment');
    const mismatch = expectOne(validateObject(deployment({ selector: { matchLabels: { app: 'api' } } })), 'spec.template.metadata.labels', 'Invalid');
    expect(mismatch.message).toBe('Invalid value: {"app":"web"}: `selector` does not match template `labels`');
    const exprs = deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] } });
    expect(validateObject(exprs)).toEqual([]);
    const badOp = validateObject(deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'Like', values: ['w'] }] } }));
    expect(causes(badOp)).toEqual([['spec.selector.matchExpressions[0].operator', 'NotSupported']]);
  });

  it('replicas ≥ 0, strategy values, int-or-percent, not both 0', () => {
    const errs = validateObject(deployment({
      replicas: -1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } },
      progressDeadlineSeconds: 5,
      minReadySeconds: 10,
    }));
    expect(causes(errs)).toEqual([
      ['spec.replicas', 'Invalid'],
      ['spec.progressDeadlineSeconds', 'Invalid'],
      ['spec.strategy.rollingUpdate.maxUnavailable', 'Invalid'],
    ]);
    expect(errs[2]!.message).toBe('Invalid value: "0%": may not be 0 when `maxSurge` is 0');
    expect(causes(validateObject(deployment({ strategy: { rollingUpdate: { maxSurge: '25', maxUnavailable: '150%' } } })))).toEqual([
      ['spec.strategy.rollingUpdate.maxUnavailable', 'Invalid'],
      ['spec.strategy.rollingUpdate.maxSurge', 'Invalid'],
    ]);
    expect(causes(validateObject(deployment({ strategy: { type: 'Recreate', rollingUpdate: {} } })))).toEqual([['spec.strategy.rollingUpdate', 'Forbidden']]);
    expect(causes(validateObject(deployment({ strategy: { type: 'BlueGreen' } })))).toEqual([['spec.strategy.type', 'NotSupported']]);
  });

  it('its template restartPolicy must be Always', () => {
    const errs = validateObject(deployment({ template: template({ app: 'web' }, podSpec({ restartPolicy: 'OnFailure', activeDeadlineSeconds: 10 })) }));
    expect(causes(errs)).toEqual([['spec.template.spec.restartPolicy', 'NotSupported'], ['spec.template.spec.activeDeadlineSeconds', 'Invalid']]);
    expect(errs[0]!.message).toBe('Unsupported value: "OnFailure": supported values: "Always"');
  });

  it('the selector is immutable; replicas and template are not', () => {
    const old = applyDefaults(deployment());
    const scaled = applyDefaults(deployment({ replicas: 5, template: template({ app: 'web', v: '2' }) }));
    expect(validateUpdate(scaled, old)).toEqual([]);
    const moved = applyDefaults(deployment({ selector: { matchLabels: { app: 'web', v: '2' } }, template: template({ app: 'web', v: '2' }) }));
    expect(expectOne(validateUpdate(moved, old), 'spec.selector', 'Invalid').message).toMatch(/: field is immutable$/);
  });
});

describe('ReplicaSet, StatefulSet, DaemonSet', () => {
  it('valid ones pass', () => {
    for (const kind of ['ReplicaSet', 'StatefulSet', 'DaemonSet']) {
      expect(validateObject(apps(kind, {})), kind).toEqual([]);
      expect(validateObject(applyDefaults(apps(kind, {}))), kind).toEqual([]);
    }
  });

  it('selector and template rules apply to each', () => {
    expect(causes(validateObject(apps('ReplicaSet', { selector: undefined, replicas: -2 })))).toEqual([['spec.replicas', 'Invalid'], ['spec.selector', 'Required']]);
    expect(expectOne(validateObject(apps('DaemonSet', { selector: {} })), 'spec.selector', 'Invalid').message).toMatch(/empty selector is invalid for daemonset/);
    expectOne(validateObject(apps('StatefulSet', { selector: { matchLabels: { app: 'db' } } })), 'spec.template.metadata.labels', 'Invalid');
  });

  it('StatefulSet: policies, claim templates mountable by name, PVC spec checks', () => {
    const sts = apps('StatefulSet', {
      template: template({ app: 'web' }, podSpec({ containers: [container({ volumeMounts: [{ name: 'data', mountPath: '/data' }] })] })),
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    });
    expect(validateObject(sts)).toEqual([]);
    const bad = apps('StatefulSet', {
      podManagementPolicy: 'Random',
      updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: -1 } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: [] } }],
    });
    expect(causes(validateObject(bad))).toEqual([
      ['spec.podManagementPolicy', 'NotSupported'],
      ['spec.volumeClaimTemplates[0].spec.accessModes', 'Required'],
      ['spec.volumeClaimTemplates[0].spec.resources[storage]', 'Required'],
      ['spec.updateStrategy.rollingUpdate', 'Invalid'],
      ['spec.updateStrategy.rollingUpdate.partition', 'Invalid'],
    ]);
  });

  it('StatefulSet updates may only touch replicas, template, updateStrategy and friends', () => {
    const old = applyDefaults(apps('StatefulSet', { serviceName: 'web' }));
    const ok = applyDefaults(apps('StatefulSet', { serviceName: 'web', replicas: 3, updateStrategy: { type: 'OnDelete' } }));
    expect(validateUpdate(ok, old)).toEqual([]);
    const bad = applyDefaults(apps('StatefulSet', { serviceName: 'other' }));
    expect(expectOne(validateUpdate(bad, old), 'spec', 'Forbidden').message).toMatch(/updates to statefulset spec for fields other than 'replicas'/);
  });

  it('DaemonSet rolling update: exactly one of maxUnavailable and maxSurge is non-zero', () => {
    const both = apps('DaemonSet', { updateStrategy: { rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } } });
    expect(causes(validateObject(both))).toEqual([['spec.updateStrategy.rollingUpdate.maxSurge', 'Invalid']]);
    const neither = apps('DaemonSet', { updateStrategy: { rollingUpdate: { maxUnavailable: 0, maxSurge: '0%' } } });
    expect(causes(validateObject(neither))).toEqual([['spec.updateStrategy.rollingUpdate.maxUnavailable', 'Required']]);
    expect(validateObject(apps('DaemonSet', { updateStrategy: { rollingUpdate: { maxUnavailable: 0, maxSurge: '10%' } } }))).toEqual([]);
  });
});

describe('Job', () => {
  it('a valid one passes; after the server generated its selector, too', () => {
    expect(validateObject(job())).toEqual([]);
    const created = defaultObjectMeta(applyDefaults(job()), new Date(), () => 'uid-1');
    expect(validateObject(created)).toEqual([]);
  });

  it('restartPolicy must be OnFailure or Never (and is required)', () => {
    const missing = expectOne(validateObject(job({}, {})), 'spec.template.spec.restartPolicy', 'Required');
    expect(missing.message).toBe('Required value: valid values: "OnFailure", "Never"');
    const always = expectOne(validateObject(job({}, { restartPolicy: 'Always' })), 'spec.template.spec.restartPolicy', 'NotSupported');
    expect(always.message).toBe('Unsupported value: "Always": supported values: "OnFailure", "Never"');
  });

  it('counts are non-negative; Indexed needs completions; a manual selector must match', () => {
    const errs = validateObject(job({ parallelism: -1, backoffLimit: -1, completionMode: 'Indexed' }));
    expect(causes(errs)).toEqual([['spec.parallelism', 'Invalid'], ['spec.backoffLimit', 'Invalid'], ['spec.completions', 'Required']]);
    expect(causes(validateObject(job({ manualSelector: true })))).toEqual([['spec.selector', 'Required']]);
    expectOne(validateObject(job({ manualSelector: true, selector: { matchLabels: { app: 'other' } } })), 'spec.template.metadata.labels', 'Invalid');
    expect(causes(validateObject(job({ podFailurePolicy: { rules: [{ action: 'Explode', onExitCodes: { operator: 'In', values: [0] } }] } }, { restartPolicy: 'OnFailure' })))).toEqual([
      ['spec.template.spec.restartPolicy', 'Invalid'],
      ['spec.podFailurePolicy.rules[0].action', 'NotSupported'],
      ['spec.podFailurePolicy.rules[0].onExitCodes.values[0]', 'Invalid'],
    ]);
  });

  it('selector and template are immutable, except scheduling directives of a suspended, unstarted job', () => {
    const old = defaultObjectMeta(applyDefaults(job({ suspend: true })), new Date(), () => 'u');
    const retargeted = structuredClone(old);
    retargeted.spec.template.spec.nodeSelector = { zone: 'b' };
    retargeted.spec.suspend = false;
    expect(validateUpdate(retargeted, old)).toEqual([]);
    const running = structuredClone(old);
    running.status = { startTime: '2024-01-01T00:00:00Z' };
    expect(causes(validateUpdate(retargeted, running))).toEqual([['spec.template', 'Invalid']]);
    const reimaged = structuredClone(old);
    reimaged.spec.template.spec.containers[0].image = 'other';
    reimaged.spec.selector = { matchLabels: { x: 'y' } };
    reimaged.spec.completions = 3;
    const errs = validateUpdate(reimaged, old);
    expect(causes(errs).filter(([f]) => f !== 'spec.template.metadata.labels')).toEqual([
      ['spec.selector', 'Invalid'],
      ['spec.completions', 'Invalid'],
      ['spec.template', 'Invalid'],
    ]);
    expect(errs.find((e) => e.field === 'spec.template')!.message).toBe(
      'Invalid value: {"changed":["spec.template.spec.containers[0].image"]}: field is immutable',
    );
  });
});

describe('CronJob', () => {
  it('a valid one passes', () => {
    expect(validateObject(cron())).toEqual([]);
    expect(validateObject(applyDefaults(cron({ schedule: '@hourly', timeZone: 'Europe/Paris' })))).toEqual([]);
  });

  it('schedule is required and must parse', () => {
    expect(causes(validateObject(cron({ schedule: undefined })))).toEqual([['spec.schedule', 'Required']]);
    const bad = expectOne(validateObject(cron({ schedule: '0 25 * * *' })), 'spec.schedule', 'Invalid');
    expect(bad.message).toBe('Invalid value: "0 25 * * *": end of range (25) above maximum (23): 25');
    expectOne(validateObject(cron({ schedule: 'every day' })), 'spec.schedule', 'Invalid');
    expectOne(validateObject(cron({ schedule: 'TZ=UTC 0 * * * *', timeZone: 'UTC' })), 'spec.schedule', 'Invalid');
  });

  it('time zone, policies, limits, name length and the job template', () => {
    const errs = validateObject(cron({ timeZone: 'Mars/Base', concurrencyPolicy: 'Sometimes', startingDeadlineSeconds: -5, failedJobsHistoryLimit: -1 }, 'n'.repeat(53)));
    expect(causes(errs)).toEqual([
      ['metadata.name', 'Invalid'],
      ['spec.timeZone', 'Invalid'],
      ['spec.concurrencyPolicy', 'NotSupported'],
      ['spec.startingDeadlineSeconds', 'Invalid'],
      ['spec.failedJobsHistoryLimit', 'Invalid'],
    ]);
    expect(errs[0]!.message).toMatch(/must be no more than 52 characters$/);
    const noPolicy = cron({ jobTemplate: { spec: { template: template({ app: 'b' }, podSpec()) } } });
    expect(causes(validateObject(noPolicy))).toEqual([['spec.jobTemplate.spec.template.spec.restartPolicy', 'Required']]);
    expect(causes(validateObject(cron({ jobTemplate: undefined })))).toEqual([['spec.jobTemplate', 'Required']]);
  });
});
