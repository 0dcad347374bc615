/**
 * DefaultTolerationSeconds, as Kubernetes' admission plugin: every new pod tolerates the
 * not-ready and unreachable NoExecute taints for 300 s (unless it says otherwise), so a node that
 * stops answering has its pods evicted and replaced after five minutes, not at once.
 */
import type { AdmissionPlugin } from './chain.ts';

export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';

export function defaultTolerationSeconds(seconds = 300): AdmissionPlugin {
  return {
    name: 'DefaultTolerationSeconds',
    admit(a) {
      if (a.operation !== 'CREATE' || a.info.kind !== 'Pod' || a.subresource) return;
      const spec = (a.object.spec ??= {});
      const tolerations: any[] = (spec.tolerations ??= []);
      for (const key of [NOT_READY_TAINT, UNREACHABLE_TAINT]) {
        const covered = tolerations.some(
          (t) => (t.operator === 'Exists' && !t.key) || (t.key === key && (!t.effect || t.effect === 'NoExecute')),
        );
        if (!covered) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
      }
    },
  };
}
