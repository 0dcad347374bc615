import { describe, expect, it } from 'vitest';
import { validateObject } from '../../../../core/api/validation/index.ts';
import { causes, container, expectOne, pod, podSpec } from './helpers.ts';

const v = (spec: Record<string, unknown>) => validateObject(pod(spec));
const I = 'spec.initContainers[0]';
const probe = { exec: { command: ['check'] } };

describe('pod spec: sidecar containers (init containers with restartPolicy Always)', () => {
  it('restartPolicy: only on init containers, only Always', () => {
    expect(v(podSpec({ initContainers: [container({ name: 'side', restartPolicy: 'Always' })] }))).toEqual([]);
    const main = v(podSpec({ containers: [container({ restartPolicy: 'Always' })] }));
    expect(expectOne(main, 'spec.containers[0].restartPolicy', 'Forbidden').message).toBe('Forbidden: may not be set for non-init containers');
    const never = v(podSpec({ initContainers: [container({ name: 'side', restartPolicy: 'Never' })] }));
    expect(expectOne(never, `${I}.restartPolicy`, 'NotSupported').message).toBe('Unsupported value: "Never": supported values: "Always"');
  });

  it('probes and lifecycle hooks: allowed on sidecars, forbidden on ordinary init containers', () => {
    const full = { livenessProbe: probe, readinessProbe: probe, startupProbe: probe, lifecycle: { postStart: probe, preStop: probe } };
    expect(v(podSpec({ initContainers: [container({ name: 'side', restartPolicy: 'Always', ...full })] }))).toEqual([]);
    const errs = v(podSpec({ initContainers: [container({ name: 'setup', ...full })] }));
    expect(causes(errs)).toEqual([
      [`${I}.lifecycle`, 'Forbidden'],
      [`${I}.livenessProbe`, 'Forbidden'],
      [`${I}.readinessProbe`, 'Forbidden'],
      [`${I}.startupProbe`, 'Forbidden'],
    ]);
    for (const e of errs) expect(e.message).toBe('Forbidden: may not be set for init containers without restartPolicy=Always');
  });

  it("a sidecar's probes are validated as a container's", () => {
    const errs = v(podSpec({
      initContainers: [
        container({
          name: 'side',
          restartPolicy: 'Always',
          livenessProbe: { ...probe, successThreshold: 2 },
          readinessProbe: { ...probe, terminationGracePeriodSeconds: 5 },
          startupProbe: { periodSeconds: 1 },
        }),
      ],
    }));
    expect(causes(errs)).toEqual([
      [`${I}.livenessProbe.successThreshold`, 'Invalid'],
      [`${I}.readinessProbe.terminationGracePeriodSeconds`, 'Invalid'],
      [`${I}.startupProbe`, 'Required'],
    ]);
    expect(errs[0]!.message).toBe('Invalid value: 2: must be 1');
    expect(errs[1]!.message).toBe('Invalid value: 5: must not be set for readinessProbes');
  });
});
