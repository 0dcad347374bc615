import { describe, expect, it } from 'vitest';
import { isApiError } from '../../../../core/api/errors.ts';
import { validateObject, validateOrThrow, validateUpdate } from '../../../../core/api/validation/index.ts';
import { causes, deployment, expectOne, expectOnly, obj, pod } from './helpers.ts';

const cm = (metadata: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata, data: {} });

describe('metadata.name', () => {
  it('is required unless generateName is given', () => {
    expect(expectOne(validateObject(cm({})), 'metadata.name', 'Required').message).toBe('Required value: name or generateName is required');
    expect(validateObject(cm({ generateName: 'cfg-' }))).toEqual([]);
    expectOne(validateObject(cm({ generateName: 'Cfg-' })), 'metadata.generateName', 'Invalid');
  });

  it('is a DNS-1123 subdomain (≤ 253) for most kinds', () => {
    expect(validateObject(cm({ name: 'my.config-1' }))).toEqual([]);
    const e = expectOne(validateObject(cm({ name: 'My_Config' })), 'metadata.name', 'Invalid');
    expect(e.message).toMatch(/^Invalid value: "My_Config": a lowercase RFC 1123 subdomain must consist of/);
    expect(causes(validateObject(cm({ name: 'a'.repeat(254) })))).toEqual([['metadata.name', 'Invalid']]);
    expect(validateObject(cm({ name: 'a'.repeat(253) }))).toEqual([]);
  });

  it('is a DNS-1123 label for Namespaces and a DNS-1035 label for Services', () => {
    const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    expect(validateObject(ns('team-a'))).toEqual([]);
    expectOne(validateObject(ns('team.a')), 'metadata.name', 'Invalid');
    expectOne(validateObject(ns('a'.repeat(64))), 'metadata.name', 'Invalid');
    const svc = (name: string) => obj('v1', 'Service', { spec: { ports: [{ port: 80 }] } }, name);
    expect(validateObject(svc('web'))).toEqual([]);
    expect(expectOne(validateObject(svc('1web')), 'metadata.name', 'Invalid').message).toMatch(/a DNS-1035 label must consist of/);
    expectOne(validateObject(svc('web.x')), 'metadata.name', 'Invalid');
  });

  it('is a path segment for RBAC kinds (colons allowed, slashes not)', () => {
    const role = (name: string) => obj('rbac.authorization.k8s.io/v1', 'ClusterRole', { rules: [] }, name);
    expect(validateObject(role('system:controller:x'))).toEqual([]);
    expect(expectOne(validateObject(role('a/b')), 'metadata.name', 'Invalid').message).toBe('Invalid value: "a/b": may not contain \'/\'');
  });
});

describe('metadata.namespace', () => {
  it('is optional (the server defaults it) but must be a DNS label, and is forbidden on cluster-scoped kinds', () => {
    expect(validateObject(cm({ name: 'c' }))).toEqual([]);
    expectOne(validateObject(cm({ name: 'c', namespace: 'Bad_NS' })), 'metadata.namespace', 'Invalid');
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', namespace: 'default' } };
    expect(expectOne(validateObject(node), 'metadata.namespace', 'Forbidden').message).toBe('Forbidden: not allowed on this type');
  });
});

describe('labels and annotations', () => {
  it('label keys are qualified names with an optional DNS prefix; values ≤ 63 characters', () => {
    const ok = { 'app.kubernetes.io/name': 'web', tier: 'Front_end.1', empty: '' };
    expect(validateObject(cm({ name: 'c', labels: ok }))).toEqual([]);
    for (const key of ['-bad', 'a/b/c', 'Example.com/x', `${'a'.repeat(64)}`, '/x', 'x/']) {
      expectOnly(validateObject(cm({ name: 'c', labels: { [key]: 'v' } })), 'metadata.labels', 'Invalid');
    }
    for (const value of ['has space', '-lead', 'a'.repeat(64)]) {
      expectOne(validateObject(cm({ name: 'c', labels: { k: value } })), 'metadata.labels', 'Invalid');
    }
    expect(validateObject(cm({ name: 'c', labels: { [`${'d'.repeat(200)}.io/${'n'.repeat(63)}`]: 'v' } }))).toEqual([]);
  });

  it('reports a YAML number label value instead of crashing', () => {
    expectOne(validateObject(cm({ name: 'c', labels: { version: 2 } })), 'metadata.labels', 'Invalid');
  });

  it('annotation keys are qualified names (any case); the total is at most 256 KiB', () => {
    expect(validateObject(cm({ name: 'c', annotations: { 'Example.COM/Note': 'x'.repeat(1000) } }))).toEqual([]);
    expectOne(validateObject(cm({ name: 'c', annotations: { 'bad key': 'x' } })), 'metadata.annotations', 'Invalid');
    const big = expectOne(validateObject(cm({ name: 'c', annotations: { a: 'x'.repeat(256 * 1024) } })), 'metadata.annotations', 'TooLong');
    expect(big.message).toBe('Too long: must have at most 262144 bytes');
  });

  it('owner references name what they point at', () => {
    const errs = validateObject(cm({ name: 'c', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r' }] }));
    expect(causes(errs)).toEqual([['metadata.ownerReferences[0].uid', 'Invalid']]);
  });
});

describe('validateUpdate: metadata', () => {
  it('name, namespace and uid never change', () => {
    const old = { ...cm({ name: 'c', namespace: 'a', uid: 'u1' }) };
    expect(validateUpdate(cm({ name: 'c', namespace: 'a', uid: 'u1', labels: { x: 'y' } }), old)).toEqual([]);
    expect(causes(validateUpdate(cm({ name: 'd', namespace: 'b', uid: 'u2' }), old))).toEqual([
      ['metadata.name', 'Invalid'],
      ['metadata.namespace', 'Invalid'],
      ['metadata.uid', 'Invalid'],
    ]);
    expect(validateUpdate(cm({ name: 'd', namespace: 'a' }), old)[0]!.message).toBe('Invalid value: "d": field is immutable');
  });
});

describe('all problems at once, and the error the API returns', () => {
  const broken = deployment({
    replicas: -1,
    template: { metadata: { labels: { app: 'other' } }, spec: { containers: [{ name: 'App', ports: [{ containerPort: 0 }] }] } },
  });

  it('lists every problem with its field path and cause', () => {
    expect(causes(validateObject(broken))).toEqual([
      ['spec.replicas', 'Invalid'],
      ['spec.template.metadata.labels', 'Invalid'],
      ['spec.template.spec.containers[0].name', 'Invalid'],
      ['spec.template.spec.containers[0].image', 'Required'],
      ['spec.template.spec.containers[0].ports[0].containerPort', 'Required'],
    ]);
  });

  it('validateOrThrow throws Invalid (422) worded like kube-apiserver', () => {
    expect(() => validateOrThrow(deployment())).not.toThrow();
    try {
      validateOrThrow(deployment({ replicas: -1, template: { metadata: { labels: { app: 'other' } }, spec: { containers: [{ name: 'a', image: 'x' }] } } }));
      expect.unreachable();
    } catch (e) {
      expect(isApiError(e, 'Invalid')).toBe(true);
      if (!isApiError(e)) return;
      expect(e.code).toBe(422);
      expect(e.message).toBe(
        'Deployment.apps "web" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, ' +
          'spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`]',
      );
      expect(e.causes).toEqual([
        { reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0', field: 'spec.replicas' },
        { reason: 'FieldValueInvalid', message: 'Invalid value: {"app":"other"}: `selector` does not match template `labels`', field: 'spec.template.metadata.labels' },
      ]);
      expect(e.status.details).toMatchObject({ name: 'web', group: 'apps', kind: 'Deployment' });
    }
  });

  it('a single problem is not bracketed; core kinds have no group suffix', () => {
    expect(() => validateOrThrow(pod({ containers: [] }))).toThrow('Pod "web" is invalid: spec.containers: Required value');
  });

  it('on update, includes immutability', () => {
    const old = deployment();
    const next = deployment({ selector: { matchLabels: { app: 'web', v: '2' } }, template: { metadata: { labels: { app: 'web', v: '2' } }, spec: { containers: [{ name: 'a', image: 'x' }] } } });
    expect(() => validateOrThrow(next, old)).toThrow(/spec\.selector: Invalid value: .*: field is immutable/);
  });

  it('unknown kinds and objects without a kind validate clean (the registry gate is elsewhere)', () => {
    expect(validateObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: {} })).toEqual([]);
    expect(validateUpdate({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'a' } }, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'b' } })).toEqual([]);
  });
});

describe('robustness', () => {
  it('never throws on objects whose keys are Object.prototype names (valid JSON: {"toString": 1})', async () => {
    const { KINDS, apiVersionOf } = await import('../../../../core/api/kinds.ts');
    const { applyDefaults } = await import('../../../../core/api/defaults.ts');
    // fast-check's junk found these now and then: a template string or a method call on such a value.
    const evil = () => JSON.parse('{"toString": 1, "valueOf": 2, "startsWith": 3, "constructor": 4}');
    const bodies = [
      { metadata: { name: evil(), labels: { a: evil() }, annotations: evil() } },
      { metadata: { name: 'x', labels: evil() }, spec: { selector: evil() } },
      { spec: evil() }, { data: evil() }, { rules: [evil()] }, { value: evil() },
      { spec: { template: { spec: { containers: [evil(), { name: evil(), image: evil(), ports: [evil()] }], volumes: [evil()] } }, selector: evil(), ports: [evil()] } },
      { spec: { template: { spec: { containers: [{ name: 'a', image: 'b', env: [evil()], resources: { limits: { cpu: evil() } } }] } }, selector: { matchLabels: evil() }, ports: [{ port: evil(), targetPort: evil(), protocol: evil() }] } },
    ];
    const thrown: string[] = [];
    for (const info of KINDS) {
      for (const b of bodies) {
        const o = { apiVersion: apiVersionOf(info), kind: info.kind, metadata: { name: 'x' }, ...b } as any;
        try {
          const d = applyDefaults(o);
          validateObject(o);
          validateUpdate(d, o);
        } catch (e) {
          thrown.push(`${info.kind} ${JSON.stringify(b).slice(0, 100)}: ${(e as Error).message}`);
        }
      }
    }
    expect(thrown).toEqual([]);
  });

  it('property: never throws on junk of any shape, for every served kind', async () => {
    const { KINDS, apiVersionOf } = await import('../../../../core/api/kinds.ts');
    const { applyDefaults } = await import('../../../../core/api/defaults.ts');
    const fc = (await import('fast-check')).default;
    const junk = fc.anything({ maxDepth: 4, withNullPrototype: false });
    const shaped = fc.record({
      spec: fc.oneof(junk, fc.record({ template: fc.record({ spec: fc.record({ containers: fc.array(junk, { maxLength: 2 }), volumes: junk }) }), selector: junk, ports: junk })),
      data: junk,
      rules: junk,
      metadata: fc.oneof(junk, fc.record({ name: fc.string(), labels: junk, annotations: junk })),
    }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), shaped, (info, body) => {
        const o = { apiVersion: apiVersionOf(info), kind: info.kind, metadata: { name: 'x' }, ...(body as object) } as any;
        const d = applyDefaults(o);
        expect(Array.isArray(validateObject(o))).toBe(true);
        expect(Array.isArray(validateUpdate(d, o))).toBe(true);
      }),
      { numRuns: 600 },
    );
  });
});
