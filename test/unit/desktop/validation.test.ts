/**
 * Argument validation: the main process never trusts the renderer. Every call refuses unknown
 * calls, unknown fields, wrong types, out-of-range numbers and invalid names with a BadRequest
 * naming the field — before any handler runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_NAMES, DesktopError } from '../../../core/desktop-api.ts';
import { SCHEMAS } from '../../../core/desktop/schemas.ts';
import { harness, type Harness } from './helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(async () => {
  await h?.close();
});

async function refusal(name: string, args: unknown): Promise<DesktopError> {
  try {
    await h.rawCall(name, args);
  } catch (e) {
    expect(e).toBeInstanceOf(DesktopError);
    return e as DesktopError;
  }
  throw new Error(`${name} accepted ${JSON.stringify(args)}`);
}

describe('argument validation', () => {
  it('has a schema for every call of the contract', () => {
    for (const name of CALL_NAMES) expect(typeof SCHEMAS[name], name).toBe('function');
  });

  it('refuses a call that is not in the contract', async () => {
    const e = await refusal('process.exit', {});
    expect(e.reason).toBe('BadRequest');
    expect(e.message).toMatch(/unknown call "process.exit"/);
    expect((await refusal('__proto__', {})).reason).toBe('BadRequest');
  });

  it('refuses unknown fields, naming them', async () => {
    const e = await refusal('nodes.cordon', { name: 'node-1', extra: 1 });
    expect(e.reason).toBe('BadRequest');
    expect(e.details.field).toBe('args.extra');
    expect(e.message).toMatch(/args\.extra: is not a known field/);
  });

  it('refuses wrong types and missing fields', async () => {
    expect((await refusal('nodes.cordon', {})).message).toMatch(/args\.name: must be a string, not nothing/);
    expect((await refusal('nodes.cordon', { name: 3 })).message).toMatch(/args\.name: must be a string/);
    expect((await refusal('nodes.cordon', null)).message).toMatch(/args: must be an object/);
    expect((await refusal('nodes.cordon', ['node-1'])).message).toMatch(/args: must be an object, not a list/);
    expect((await refusal('logs.open', { namespace: 'default', pod: 'p', follow: 'yes' })).message).toMatch(/args\.follow: must be true or false/);
  });

  it('refuses out-of-range numbers', async () => {
    const e = await refusal('workloads.scale', { kind: 'Deployment', namespace: 'default', name: 'web', replicas: -1 });
    expect(e.message).toBe('args.replicas: must be an integer from 0 to 1000, not -1');
    expect((await refusal('workloads.scale', { kind: 'Deployment', namespace: 'default', name: 'web', replicas: 1.5 })).details.field).toBe('args.replicas');
    expect((await refusal('portForward.open', { namespace: 'default', pod: 'p', port: 70000 })).details.field).toBe('args.port');
    expect((await refusal('exec.open', { namespace: 'default', pod: 'p', cols: 0, rows: 10 })).details.field).toBe('args.cols');
  });

  it('refuses invalid names as the API would', async () => {
    expect((await refusal('resources.get', { kind: 'Pod', namespace: 'Default', name: 'x' })).message).toMatch(/args\.namespace: must be a DNS-1123 label/);
    expect((await refusal('resources.get', { kind: 'Pod', namespace: 'default', name: '../etc' })).details.field).toBe('args.name');
    expect((await refusal('resources.get', { kind: 'Widget', name: 'x' })).message).toMatch(/args\.kind: must be one of Namespace, Node, Pod/);
    expect((await refusal('nodes.add', { name: 'n2', cpu: 'lots', memory: '1Gi' })).details.field).toBe('args.cpu');
    expect((await refusal('nodes.add', { name: 'n2', cpu: '1', memory: '1Gi', labels: { 'bad key!': 'x' } })).message).toMatch(/not a valid label key/);
    expect((await refusal('nodes.add', { name: 'n2', cpu: '1', memory: '1Gi', taints: [{ key: 'a', effect: 'Sometimes' }] })).details.field).toBe('args.taints[0].effect');
  });

  it('refuses the scale of a kind that has no replicas and a restart of one that has no template', async () => {
    expect((await refusal('workloads.scale', { kind: 'DaemonSet', namespace: 'default', name: 'x', replicas: 1 })).details.field).toBe('args.kind');
    expect((await refusal('workloads.restart', { kind: 'Job', namespace: 'default', name: 'x' })).details.field).toBe('args.kind');
  });

  it('refuses ids it did not hand out', async () => {
    expect((await refusal('exec.write', { sessionId: 'x_../../', data: 'ls' })).details.field).toBe('args.sessionId');
    const e = await refusal('exec.write', { sessionId: 'x_notmine', data: 'ls' });
    expect(e.reason).toBe('NotFound');
  });

  it('bounds the size of what the renderer sends', async () => {
    const e = await refusal('exec.write', { sessionId: 'x_a', data: 'a'.repeat(64 * 1024 + 1) });
    expect(e.message).toMatch(/args\.data: must be at most 65536 characters/);
    const files = Array.from({ length: 51 }, (_, i) => ({ name: `f${i}.yaml`, text: '' }));
    expect((await refusal('yaml.preview', { files })).message).toMatch(/args\.files: must have at most 50 items/);
  });

  it('refuses a discriminated target with an unknown type', async () => {
    const e = await refusal('metrics.subscribe', { target: { type: 'everything' } });
    expect(e.details.field).toBe('args.target.type');
    expect((await refusal('metrics.subscribe', { target: { type: 'pod', namespace: 'default' } })).details.field).toBe('args.target.name');
  });

  it('refuses a namespace for a cluster-scoped kind', async () => {
    const e = await refusal('resources.get', { kind: 'Node', namespace: 'default', name: 'n' });
    expect(e.message).toMatch(/Node is not namespaced/);
  });
});
