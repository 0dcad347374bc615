import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../../../core/api/defaults.ts';
import { validateObject, validateUpdate } from '../../../../core/api/validation/index.ts';
import { causes, expectOne, obj } from './helpers.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('ConfigMap', () => {
  it('keys are [-._a-zA-Z0-9]+, values strings, total ≤ 1 MiB', () => {
    expect(validateObject(obj('v1', 'ConfigMap', { data: { 'app.conf': 'x', KEY_1: 'y' }, binaryData: { 'logo.png': b64('png') } }))).toEqual([]);
    const errs = validateObject(obj('v1', 'ConfigMap', { data: { 'bad key': 'x', '..': 'y', port: 8080, dup: 'a' }, binaryData: { dup: b64('b') } }));
    expect(causes(errs)).toEqual([
      ['data[bad key]', 'Invalid'],
      ['data[..]', 'Invalid'],
      ['data[port]', 'Invalid'],
      ['data[dup]', 'Invalid'],
    ]);
    expect(errs[1]!.message).toBe('Invalid value: "..": must not be \'..\'');
    expect(errs[3]!.message).toBe('Invalid value: "dup": duplicate of key present in binaryData');
    const big = validateObject(obj('v1', 'ConfigMap', { data: { a: 'x'.repeat(1024 * 1024), b: 'y' } }));
    expect(expectOne(big, 'data', 'TooLong').message).toBe('Too long: must have at most 1048576 bytes');
  });

  it('immutable: data may not change, nor immutable be unset', () => {
    const old = obj('v1', 'ConfigMap', { immutable: true, data: { a: '1' } });
    expect(validateUpdate(obj('v1', 'ConfigMap', { immutable: true, data: { a: '1' }, metadata: { name: 'x', labels: { l: 'v' } } }), old)).toEqual([]);
    expect(causes(validateUpdate(obj('v1', 'ConfigMap', { data: { a: '2' } }), old))).toEqual([['immutable', 'Forbidden'], ['data', 'Forbidden']]);
    expect(validateUpdate(obj('v1', 'ConfigMap', { data: { a: '2' } }), obj('v1', 'ConfigMap', { data: { a: '1' } }))).toEqual([]);
  });
});

describe('Secret', () => {
  it('data values are base64 (never echoed), keys valid, size ≤ 1 MiB', () => {
    expect(validateObject(obj('v1', 'Secret', { data: { password: b64('hunter2') } }))).toEqual([]);
    const errs = validateObject(obj('v1', 'Secret', { data: { password: 'hunter2!', 'a b': b64('x') } }));
    expect(causes(errs)).toEqual([['data[a b]', 'Invalid'], ['data[password]', 'Invalid']]);
    expect(errs[1]!.message).not.toContain('hunter2');
    expect(causes(validateObject(obj('v1', 'Secret', { data: { big: b64('x'.repeat(1024 * 1024 + 1)) } })))).toEqual([['data', 'TooLong']]);
  });

  it('errors name keys and fields, never a value (not even inside a parser message)', () => {
    const value = 'hunter2-Sup3r-Secret';
    const cases = [
      { data: value },
      { stringData: value },
      { data: [value] },
      { data: { password: value } },
      { stringData: { password: { nested: value } } },
      { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(value) } },
      { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(`{"auths":{"r":{"auth":"${value}"`) } },
    ];
    for (const c of cases) {
      const errs = validateObject(obj('v1', 'Secret', c));
      expect(errs.length, JSON.stringify(c)).toBeGreaterThan(0);
      const text = JSON.stringify(errs);
      expect(text).not.toContain(value);
      expect(text).not.toContain(b64(value));
    }
    expect(causes(validateObject(obj('v1', 'Secret', { data: value })))).toEqual([['data', 'Invalid']]);
    expect(causes(validateObject(obj('v1', 'Secret', { stringData: [value] })))).toEqual([['stringData', 'Invalid']]);
  });

  it('stringData is folded into data by defaulting and validates either way', () => {
    const s = obj('v1', 'Secret', { stringData: { token: 'plain text' } });
    expect(validateObject(s)).toEqual([]);
    expect(validateObject(applyDefaults(s))).toEqual([]);
  });

  it('typed secrets need their keys', () => {
    expect(causes(validateObject(obj('v1', 'Secret', { type: 'kubernetes.io/tls', data: { 'tls.crt': b64('c') } })))).toEqual([['data[tls.key]', 'Required']]);
    expect(causes(validateObject(obj('v1', 'Secret', { type: 'kubernetes.io/basic-auth', data: {} })))).toEqual([['data[username]', 'Required'], ['data[password]', 'Required']]);
    expect(causes(validateObject(obj('v1', 'Secret', { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{nope') } })))).toEqual([
      ['data[.dockerconfigjson]', 'Invalid'],
    ]);
    expect(causes(validateObject(obj('v1', 'Secret', { type: 'kubernetes.io/service-account-token' })))).toEqual([
      ['metadata.annotations[kubernetes.io/service-account.name]', 'Required'],
    ]);
  });

  it('type never changes; immutable data stays', () => {
    const old = obj('v1', 'Secret', { type: 'Opaque', immutable: true, data: { a: b64('1') } });
    expect(causes(validateUpdate(obj('v1', 'Secret', { type: 'kubernetes.io/tls', immutable: true, data: { a: b64('2'), 'tls.crt': b64('c'), 'tls.key': b64('k') } }), old))).toEqual([
      ['type', 'Invalid'],
      ['data', 'Forbidden'],
    ]);
  });
});

describe('PersistentVolumeClaim', () => {
  const pvc = (spec: Record<string, unknown>) => obj('v1', 'PersistentVolumeClaim', { spec }, 'data');
  const good = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } };

  it('needs access modes and a positive storage request', () => {
    expect(validateObject(pvc(good))).toEqual([]);
    expect(causes(validateObject(pvc({})))).toEqual([['spec.accessModes', 'Required'], ['spec.resources[storage]', 'Required']]);
    const errs = validateObject(pvc({ accessModes: ['ReadWriteAlways', 'ReadWriteOncePod'], resources: { requests: { storage: '0' } }, volumeMode: 'Raw' }));
    expect(causes(errs)).toEqual([
      ['spec.accessModes', 'NotSupported'],
      ['spec.accessModes', 'Forbidden'],
      ['spec.resources[storage]', 'Invalid'],
      ['spec.volumeMode', 'NotSupported'],
    ]);
    expect(causes(validateObject(pvc({ ...good, resources: { requests: { storage: 'big' } } })))).toEqual([['spec.resources[storage]', 'Invalid']]);
  });

  it('spec is immutable except resources.requests (which may only grow) and binding', () => {
    const old = applyDefaults(pvc(good));
    const grown = applyDefaults(pvc({ ...good, resources: { requests: { storage: '2Gi' } }, volumeName: 'pv-1' }));
    expect(validateUpdate(grown, old)).toEqual([]);
    const shrunk = applyDefaults(pvc({ ...good, resources: { requests: { storage: '512Mi' } } }));
    expect(causes(validateUpdate(shrunk, old))).toEqual([['spec.resources.requests.storage', 'Forbidden']]);
    const changed = applyDefaults(pvc({ ...good, accessModes: ['ReadWriteMany'] }));
    expect(expectOne(validateUpdate(changed, old), 'spec', 'Forbidden').message).toContain('spec.accessModes');
  });
});

describe('PersistentVolume', () => {
  const pv = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-1' }, spec });
  const good = { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } };

  it('capacity, access modes and exactly one source', () => {
    expect(validateObject(pv(good))).toEqual([]);
    expect(causes(validateObject(pv({})))).toEqual([['spec.capacity', 'Required'], ['spec.accessModes', 'Required'], ['spec', 'Required']]);
    expect(causes(validateObject(pv({ ...good, nfs: { server: 'n', path: '/x' }, persistentVolumeReclaimPolicy: 'Keep' })))).toEqual([
      ['spec.persistentVolumeReclaimPolicy', 'NotSupported'],
      ['spec.nfs', 'Forbidden'],
    ]);
    expect(causes(validateObject(pv({ ...good, hostPath: undefined, local: { path: '/x' } })))).toEqual([['spec.nodeAffinity', 'Required']]);
  });

  it('the volume source is immutable', () => {
    expect(causes(validateUpdate(pv({ ...good, hostPath: { path: '/other' } }), pv(good)))).toEqual([['spec.persistentvolumesource', 'Forbidden']]);
    expect(validateUpdate(pv({ ...good, capacity: { storage: '20Gi' } }), pv(good))).toEqual([]);
  });
});
