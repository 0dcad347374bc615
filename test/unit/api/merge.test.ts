import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PatchError,
  applyJsonPatch,
  createJsonMergePatch,
  jsonEqual,
  jsonMergePatch,
  strategicMergePatch,
  threeWayMerge,
  type JsonPatchOp,
} from '../../../core/api/merge.ts';

/** JSON values without nulls as object members (RFC 7386 cannot express those) and without -0. */
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.boolean(),
    fc.integer(),
    fc.string({ maxLength: 6 }),
    fc.array(tie('anyOrNull'), { maxLength: 4 }),
    tie('object'),
  ),
  anyOrNull: fc.oneof(fc.constant(null), tie('value')),
  object: fc.dictionary(fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', 'constructor', 'a', 'b')), tie('value'), { maxKeys: 5 }),
}));

describe('jsonMergePatch (RFC 7386)', () => {
  it('passes the RFC 7386 appendix A examples', () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [['a', 'b'], ['c', 'd'], ['c', 'd']],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, result] of cases) expect(jsonMergePatch(target, patch)).toEqual(result);
  });

  it('does not modify its inputs nor share values with them', () => {
    const target = { a: { b: 1 }, keep: { x: [1] } };
    const patch = { a: { c: 2 } };
    const out = jsonMergePatch(target, patch) as any;
    out.keep.x.push(2);
    out.a.c = 3;
    expect(target).toEqual({ a: { b: 1 }, keep: { x: [1] } });
    expect(patch).toEqual({ a: { c: 2 } });
  });

  it('treats __proto__ as a plain key', () => {
    const out = jsonMergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}')) as any;
    expect(({} as any).polluted).toBeUndefined();
    expect(Object.keys(out)).toEqual(['__proto__']);
  });

  it('property: jsonMergePatch(a, createJsonMergePatch(a, b)) equals b', () => {
    fc.assert(
      fc.property(json.value, json.value, (a, b) => {
        const out = jsonMergePatch(a, createJsonMergePatch(a, b));
        return jsonEqual(out, b);
      }),
      { numRuns: 2000 },
    );
  });

  it('createJsonMergePatch yields a minimal patch', () => {
    expect(createJsonMergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { a: 1, b: { c: 2 }, e: [1, 2], f: 'x' })).toEqual({
      b: { d: null },
      e: [1, 2],
      f: 'x',
    });
    expect(createJsonMergePatch({ a: 1 }, { a: 1 })).toEqual({});
  });
});

describe('applyJsonPatch (RFC 6902)', () => {
  const doc = { a: { b: [1, 2, 3], 'c/d': 'x', 'e~f': 'y' }, n: null };

  it('adds, removes, replaces, moves, copies and tests', () => {
    const ops: JsonPatchOp[] = [
      { op: 'test', path: '/a/c~1d', value: 'x' },
      { op: 'add', path: '/a/b/1', value: 9 },
      { op: 'add', path: '/a/b/-', value: 4 },
      { op: 'remove', path: '/a/b/0' },
      { op: 'replace', path: '/a/e~0f', value: 'z' },
      { op: 'move', from: '/a/c~1d', path: '/moved' },
      { op: 'copy', from: '/a/b', path: '/copy' },
      { op: 'add', path: '/n', value: { deep: true } },
      { op: 'test', path: '/copy', value: [9, 2, 3, 4] },
    ];
    expect(applyJsonPatch(doc, ops)).toEqual({ a: { b: [9, 2, 3, 4], 'e~f': 'z' }, n: { deep: true }, moved: 'x', copy: [9, 2, 3, 4] });
    expect(doc.a.b).toEqual([1, 2, 3]);
  });

  it('replaces the whole document at the empty path', () => {
    expect(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: [1] }])).toEqual([1]);
  });

  it('names the failing operation (index, op and path) and changes nothing', () => {
    const input = { spec: { replicas: 1 } };
    const fail = (ops: unknown[]) => {
      try {
        applyJsonPatch(input, ops as JsonPatchOp[]);
      } catch (e) {
        expect(e).toBeInstanceOf(PatchError);
        return (e as Error).message;
      }
      throw new Error('expected a PatchError');
    };
    expect(fail([{ op: 'replace', path: '/spec/replicas', value: 2 }, { op: 'remove', path: '/spec/missing' }])).toBe(
      'JSON patch operation 1 (remove /spec/missing): path does not exist',
    );
    expect(fail([{ op: 'replace', path: '/status/phase', value: 'x' }])).toMatch(/^JSON patch operation 0 \(replace \/status\/phase\): path does not exist/);
    expect(fail([{ op: 'test', path: '/spec/replicas', value: 3 }])).toBe('JSON patch operation 0 (test /spec/replicas): test failed: the value is 1');
    expect(fail([{ op: 'add', path: '/spec/list/5', value: 1 }])).toMatch(/operation 0 \(add \/spec\/list\/5\): path does not exist/);
    expect(fail([{ op: 'add', path: 'spec', value: 1 }])).toMatch(/invalid JSON pointer/);
    expect(fail([{ op: 'move', from: '/spec', path: '/spec/inner' }])).toMatch(/cannot move a value into itself/);
    expect(fail([{ op: 'frobnicate', path: '/spec' }])).toMatch(/unknown op "frobnicate"/);
    expect(fail([{ op: 'add', path: '/spec/x' }])).toMatch(/"value" is required/);
    expect(input).toEqual({ spec: { replicas: 1 } });
  });

  it('checks array indexes strictly', () => {
    expect(() => applyJsonPatch({ a: [1] }, [{ op: 'add', path: '/a/01', value: 2 }])).toThrow(/not an array index/);
    expect(() => applyJsonPatch({ a: [1] }, [{ op: 'replace', path: '/a/1', value: 2 }])).toThrow(/out of bounds/);
    expect(applyJsonPatch({ a: [1] }, [{ op: 'add', path: '/a/1', value: 2 }])).toEqual({ a: [1, 2] });
  });
});

describe('strategicMergePatch', () => {
  const deployment = () => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['a'] },
    spec: {
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } },
      template: {
        spec: {
          containers: [
            { name: 'web', image: 'nginx:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], args: ['x', 'y'] },
            { name: 'sidecar', image: 'envoy:1' },
          ],
          tolerations: [{ key: 'k', operator: 'Exists' }],
          volumes: [{ name: 'data', emptyDir: {} }],
        },
      },
    },
  });

  it('merges containers by name and keeps untouched containers', () => {
    const out = strategicMergePatch(deployment(), { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:2' }] } } } }, 'Deployment') as any;
    expect(out.spec.template.spec.containers).toEqual([
      { name: 'web', image: 'nginx:2', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], args: ['x', 'y'] },
      { name: 'sidecar', image: 'envoy:1' },
    ]);
  });

  it('merges env by name, replaces atomic lists (args, tolerations), appends new items', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            containers: [{ name: 'web', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }], args: ['z'] }, { name: 'new', image: 'busybox' }],
            tolerations: [{ key: 'other', operator: 'Exists' }],
          },
        },
      },
    };
    const out = strategicMergePatch(deployment(), patch, 'Deployment') as any;
    // Kubernetes' element order: patch items in patch order; a server-only item keeps its place
    // relative to items the server knows, and goes after new ones (apimachinery mergeSortedSlice).
    const [web, added, sidecar] = out.spec.template.spec.containers;
    expect(web.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }]);
    expect(web.args).toEqual(['z']);
    expect(sidecar.name).toBe('sidecar');
    expect(added).toEqual({ name: 'new', image: 'busybox' });
    expect(out.spec.template.spec.tolerations).toEqual([{ key: 'other', operator: 'Exists' }]);
  });

  it('deletes with null and $patch: delete, replaces with $patch: replace', () => {
    const patch = {
      metadata: { labels: { app: null } },
      spec: {
        strategy: { $patch: 'replace', type: 'Recreate' },
        template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }], volumes: { $patch: 'delete' } } },
      },
    };
    const out = strategicMergePatch(deployment(), patch, 'Deployment') as any;
    expect(out.metadata.labels).toEqual({});
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
    expect(out.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['web']);
    expect(out.spec.template.spec.volumes).toBeUndefined();
  });

  it('replaces a whole merging list with a { $patch: replace } item', () => {
    const patch = { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } } };
    const out = strategicMergePatch(deployment(), patch, 'Deployment') as any;
    expect(out.spec.template.spec.containers).toEqual([{ name: 'only', image: 'x' }]);
  });

  it('honors $retainKeys, $deleteFromPrimitiveList and $setElementOrder', () => {
    const patch = {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['a'], finalizers: ['b'] },
      spec: {
        strategy: { $retainKeys: ['type'], type: 'Recreate' },
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }],
            containers: [{ name: 'web', '$setElementOrder/env': [{ name: 'B' }, { name: 'A' }] }],
          },
        },
      },
    };
    const out = strategicMergePatch(deployment(), patch, 'Deployment') as any;
    expect(out.metadata.finalizers).toEqual(['b']);
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
    expect(out.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['sidecar', 'web']);
    expect(out.spec.template.spec.containers[1].env.map((e: any) => e.name)).toEqual(['B', 'A']);
  });

  it('merges finalizers as a set', () => {
    const out = strategicMergePatch(deployment(), { metadata: { finalizers: ['b', 'a'] } }, 'Deployment') as any;
    expect(out.metadata.finalizers.sort()).toEqual(['a', 'b']);
  });

  it('keeps a Service port per protocol (53/TCP and 53/UDP), defaulting protocol to TCP', () => {
    const svc = { spec: { ports: [{ port: 53, protocol: 'TCP', name: 'dns-tcp' }, { port: 53, protocol: 'UDP', name: 'dns' }] } };
    const out = strategicMergePatch(svc, { spec: { ports: [{ port: 53, targetPort: 5353 }] } }, 'Service') as any;
    expect(out.spec.ports).toEqual([
      { port: 53, protocol: 'TCP', name: 'dns-tcp', targetPort: 5353 },
      { port: 53, protocol: 'UDP', name: 'dns' },
    ]);
  });

  it('replaces lists of kinds it has no strategy for, and merges pod specs in every workload kind', () => {
    const out = strategicMergePatch({ rules: [{ verbs: ['get'] }, { verbs: ['list'] }] }, { rules: [{ verbs: ['watch'] }] }, 'Role') as any;
    expect(out.rules).toEqual([{ verbs: ['watch'] }]);
    const cron = { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }] } } } } } };
    const p = { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'b', image: '2' }] } } } } } };
    expect((strategicMergePatch(cron, p, 'CronJob') as any).spec.jobTemplate.spec.template.spec.containers).toEqual([
      { name: 'a', image: '1' },
      { name: 'b', image: '2' },
    ]);
    const pod = { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }] }] } };
    const pp = { spec: { containers: [{ name: 'a', ports: [{ containerPort: 443 }] }] } };
    expect((strategicMergePatch(pod, pp, 'Pod') as any).spec.containers[0].ports).toEqual([{ containerPort: 443 }, { containerPort: 80 }]);
  });

  it('rejects bad directives and items without their merge key', () => {
    expect(() => strategicMergePatch({}, { spec: { $patch: 'explode' } }, 'Pod')).toThrow(PatchError);
    expect(() => strategicMergePatch({}, { spec: { $what: 1 } }, 'Pod')).toThrow(/spec: unknown patch directive "\$what"/);
    expect(() => strategicMergePatch({}, { spec: { containers: [{ image: 'x' }] } }, 'Pod')).toThrow(/spec\.containers: an item has no merge key "name"/);
    expect(() => strategicMergePatch({}, [], 'Pod')).toThrow(/must be a JSON object/);
  });

  it('takes a kind named like an Object.prototype member as a kind without strategies (fuzz find)', () => {
    for (const kind of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(strategicMergePatch({ kind, metadata: [], data: { a: '1' } }, { data: { b: '2' } }, kind)).toEqual({ kind, metadata: [], data: { a: '1', b: '2' } });
    }
  });

  it('acts as a JSON merge patch where no list is involved (property)', () => {
    const noLists = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.boolean(), fc.integer(), fc.string({ maxLength: 4 }), tie('o')),
      o: fc.dictionary(fc.stringMatching(/^[a-z]{1,3}$/), fc.oneof(tie('v'), fc.constant(null)), { maxKeys: 4 }),
    }));
    fc.assert(
      fc.property(noLists.o, noLists.o, (a, p) => jsonEqual(strategicMergePatch(a, p, 'ConfigMap'), jsonMergePatch(a, p))),
      { numRuns: 500 },
    );
  });
});

describe('threeWayMerge (kubectl apply)', () => {
  const manifest = (labels: Record<string, string>, extra: object = {}) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cfg', labels },
    data: { a: '1' },
    ...extra,
  });

  it('removes a field dropped from the manifest but keeps one a controller added', () => {
    const last = manifest({ app: 'web', tier: 'front' });
    const live = { ...manifest({ app: 'web', tier: 'front', 'controller-added': 'yes' }), metadata: { name: 'cfg', uid: 'u1', resourceVersion: '7', labels: { app: 'web', tier: 'front', 'controller-added': 'yes' } } };
    const { patched, changed } = threeWayMerge(last, manifest({ app: 'web' }), live, 'ConfigMap');
    expect(changed).toBe(true);
    expect(patched.metadata).toEqual({ name: 'cfg', uid: 'u1', resourceVersion: '7', labels: { app: 'web', 'controller-added': 'yes' } });
  });

  it('reports unchanged when the manifest matches live (defaults and status kept)', () => {
    const m = manifest({ app: 'web' });
    const live = { ...m, metadata: { ...m.metadata, uid: 'u' }, status: { phase: 'x' } };
    const { patched, changed } = threeWayMerge(m, m, live, 'ConfigMap');
    expect(changed).toBe(false);
    expect(patched).toEqual(live);
    expect(patched).not.toBe(live);
  });

  it('without last-applied, deletes nothing', () => {
    const live = manifest({ app: 'web', other: 'x' }, { binaryData: { b: 'AA==' } });
    const { patched } = threeWayMerge(undefined, manifest({ app: 'web2' }), live, 'ConfigMap');
    expect(patched).toEqual(manifest({ app: 'web2', other: 'x' }, { binaryData: { b: 'AA==' } }));
  });

  it('merges containers by name: keeps injected ones, removes ones dropped from the manifest, merges fields', () => {
    const pod = (containers: object[]) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers } } } });
    const last = pod([
      { name: 'web', image: 'nginx:1', env: [{ name: 'A', value: '1' }, { name: 'OLD', value: 'x' }] },
      { name: 'old-sidecar', image: 'x' },
    ]);
    const live = pod([
      { name: 'web', image: 'nginx:1', imagePullPolicy: 'IfNotPresent', env: [{ name: 'A', value: '1' }, { name: 'OLD', value: 'x' }, { name: 'INJECTED', value: 'y' }] },
      { name: 'old-sidecar', image: 'x' },
      { name: 'mesh-proxy', image: 'envoy' },
    ]);
    const modified = pod([{ name: 'web', image: 'nginx:2', env: [{ name: 'A', value: '1' }] }]);
    const { patched } = threeWayMerge(last, modified, live, 'Deployment');
    expect(patched.spec.template.spec.containers).toEqual([
      { name: 'web', image: 'nginx:2', imagePullPolicy: 'IfNotPresent', env: [{ name: 'A', value: '1' }, { name: 'INJECTED', value: 'y' }] },
      { name: 'mesh-proxy', image: 'envoy' },
    ]);
  });

  it('replaces atomic lists and merges set lists', () => {
    const obj = (args: string[], finalizers: string[]) => ({ metadata: { name: 'p', finalizers }, spec: { containers: [{ name: 'c', args }] } });
    const { patched } = threeWayMerge(obj(['a', 'b'], ['mine']), obj(['c'], ['mine2']), obj(['a', 'b'], ['mine', 'theirs']), 'Pod');
    expect(patched.spec.containers[0].args).toEqual(['c']);
    expect(patched.metadata.finalizers).toEqual(['mine2', 'theirs']);
  });

  it('switches a retainKeys union (Deployment strategy) cleanly', () => {
    const d = (strategy: object) => ({ spec: { strategy } });
    const live = d({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    const { patched } = threeWayMerge(d({ type: 'RollingUpdate' }), d({ type: 'Recreate' }), live, 'Deployment');
    expect(patched.spec.strategy).toEqual({ type: 'Recreate' });
    // Unchanged type: the defaulted rollingUpdate stays.
    const same = threeWayMerge(d({ type: 'RollingUpdate' }), d({ type: 'RollingUpdate' }), live, 'Deployment');
    expect(same.changed).toBe(false);
    // A volume switching source loses the old one.
    const v = (vol: object) => ({ spec: { volumes: [vol] } });
    const vol = threeWayMerge(v({ name: 'x', emptyDir: {} }), v({ name: 'x', hostPath: { path: '/d' } }), v({ name: 'x', emptyDir: {} }), 'Pod');
    expect(vol.patched.spec.volumes).toEqual([{ name: 'x', hostPath: { path: '/d' } }]);
  });

  it('deletes a field set to null in the manifest', () => {
    const { patched } = threeWayMerge({ spec: { replicas: 3 } }, { spec: { replicas: null, paused: true } }, { spec: { replicas: 3, x: 1 } }, 'Deployment');
    expect(patched).toEqual({ spec: { paused: true, x: 1 } });
  });

  it('property: applying the same manifest twice changes nothing the second time', () => {
    const obj = fc.dictionary(fc.stringMatching(/^[a-z]{1,3}$/), json.value, { maxKeys: 5 });
    fc.assert(
      fc.property(obj, obj, obj, (last, modified, live) => {
        const first = threeWayMerge(last, modified, live, 'ConfigMap').patched;
        const second = threeWayMerge(modified, modified, first, 'ConfigMap');
        return !second.changed;
      }),
      { numRuns: 1000 },
    );
  });
});
