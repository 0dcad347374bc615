import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Inv, Req, type FieldError } from '../../../core/api/errors.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import {
  ImportError,
  MAX_FILE_BYTES,
  formatProblem,
  parseManifestBytes,
  parseManifests,
  validateImport,
  type ImportProblem,
} from '../../../core/api/yaml-import.ts';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../fixtures/yaml/${name}`, import.meta.url)), 'utf8');

/** Stand-in for the API's validation: enough rules to produce field errors at known lines. */
function validate(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (obj.kind === 'Deployment') {
    if (typeof obj.spec?.replicas === 'number' && obj.spec.replicas < 0) errs.push(Inv('spec.replicas', obj.spec.replicas, 'must be greater than or equal to 0'));
    if (!obj.spec?.selector) errs.push(Req('spec.selector'));
    (obj.spec?.template?.spec?.containers ?? []).forEach((c: { image?: string }, i: number) => {
      if (!c.image) errs.push(Req(`spec.template.spec.containers[${i}].image`));
    });
  }
  if (obj.kind === 'Service' && !obj.spec?.selector) errs.push(Req('spec.selector'));
  return errs;
}

function problemsOf(fn: () => unknown): ImportProblem[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ImportError);
    return (e as ImportError).problems;
  }
  throw new Error('expected an ImportError');
}

function errorOf(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ImportError);
    return e as ImportError;
  }
  throw new Error('expected an ImportError');
}

describe('parseManifests: documents', () => {
  it('reads every document of a multi-document file with its number and start line', () => {
    const docs = parseManifests(fixture('app.yaml'), 'app.yaml');
    expect(docs.map((d) => `${d.index}:${d.object.kind}/${d.object.metadata.name}@${d.line}`)).toEqual([
      '1:Namespace/shop@2',
      '2:ConfigMap/web-config@7',
      '3:Deployment/web@15',
      '4:Service/web@38',
    ]);
    expect(docs[2]!.object.spec.template.spec.containers[0].image).toBe('nginx:1.27');
    expect(docs[2]!.file).toBe('app.yaml');
  });

  it('points a field path at the line and column of its key, and of list items', () => {
    const [, , deploy] = parseManifests(fixture('app.yaml'), 'app.yaml');
    expect(deploy!.positionOf('spec.replicas')).toEqual({ line: 23, column: 3 });
    expect(deploy!.positionOf('spec.template.spec.containers[0].image')).toEqual({ line: 34, column: 11 });
    expect(deploy!.positionOf('spec.template.spec.containers[0]')).toEqual({ line: 33, column: 11 });
    expect(deploy!.positionOf('spec.template.spec.containers[0].ports[0].containerPort')).toEqual({ line: 36, column: 15 });
    expect(deploy!.positionOf('metadata.labels[app]')).toEqual({ line: 21, column: 5 });
    expect(deploy!.positionOf('')).toEqual({ line: 15, column: 1 });
  });

  it('falls back to the nearest existing ancestor for a missing field', () => {
    const [, , deploy] = parseManifests(fixture('app.yaml'), 'app.yaml');
    expect(deploy!.positionOf('spec.template.spec.containers[0].resources.limits.cpu')).toEqual({ line: 33, column: 11 });
    expect(deploy!.positionOf('spec.template.spec.containers[7].image')).toEqual({ line: 32, column: 7 });
    expect(deploy!.positionOf('spec.strategy')).toEqual({ line: 22, column: 1 });
  });

  it('skips empty documents and comments but keeps counting documents', () => {
    const text = '# header\n---\n---\n# nothing here\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n~\n---\n';
    const docs = parseManifests(text, 'x.yaml');
    expect(docs).toHaveLength(1);
    expect(docs[0]!.index).toBe(3);
    expect(docs[0]!.line).toBe(6);
    expect(parseManifests('', 'empty.yaml')).toEqual([]);
  });

  it('reads JSON', () => {
    const [doc] = parseManifests(fixture('deployment.json'), 'deployment.json');
    expect(doc!.object.metadata.name).toBe('json-web');
    expect(doc!.positionOf('spec.template.spec.containers[0].image')).toEqual({ line: 10, column: 50 });
  });

  it('expands kind: List, each item keeping its own positions', () => {
    const docs = parseManifests(fixture('list.yaml'), 'list.yaml');
    expect(docs.map((d) => `${d.index}:${d.object.kind}/${d.object.metadata.name}@${d.line}`)).toEqual([
      '1:ConfigMap/first@4',
      '1:Deployment/second@11',
    ]);
    expect(docs[1]!.positionOf('spec.replicas')).toEqual({ line: 16, column: 7 });
  });

  it('fills kind and apiVersion of typed list items (DeploymentList)', () => {
    const text = 'apiVersion: v1\nkind: ConfigMapList\nitems:\n- metadata: {name: a}\n- metadata: {name: b}\n';
    const docs = parseManifests(text, 'l.yaml');
    expect(docs.map((d) => `${d.object.apiVersion} ${d.object.kind} ${d.object.metadata.name}`)).toEqual(['v1 ConfigMap a', 'v1 ConfigMap b']);
  });

  it('resolves anchors, aliases and merge keys; positions follow into the anchor', () => {
    const [pod] = parseManifests(fixture('anchors.yaml'), 'anchors.yaml');
    const spec = pod!.object.spec;
    expect(pod!.object.metadata.annotations).toEqual({ app: 'demo', tier: 'back' });
    expect(spec.containers[0]).toEqual({
      image: 'busybox:1.36',
      imagePullPolicy: 'IfNotPresent',
      resources: { limits: { cpu: '100m', memory: '64Mi' } },
      name: 'one',
    });
    expect(spec.containers[1].image).toBe('busybox:1.37');
    expect(spec.containers[1].resources.limits.memory).toBe('64Mi');
    // containers[0].image comes from the merged anchor: reported where it is written.
    expect(pod!.positionOf('spec.containers[0].image')).toEqual({ line: 2, column: 3 });
    expect(pod!.positionOf('spec.containers[1].image')).toEqual({ line: 21, column: 7 });
    expect(pod!.positionOf('spec.containers[1].resources.limits.cpu')).toEqual({ line: 5, column: 14 });
    // Aliased values are copies, not shared objects.
    spec.containers[1].resources.limits.cpu = '2';
    expect(spec.containers[0].resources.limits.cpu).toBe('100m');
  });

  it('uses YAML 1.1 scalars as kubectl does (yes/on are booleans, 0777 octal) but keeps timestamps as strings', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: yes\n  b: on\n  c: 0777\n  d: 2024-01-02\n  e: "yes"\n  f: 1:20\n  g: 1_000\n';
    const [doc] = parseManifests(text, 'a.yaml');
    expect(doc!.object.data).toEqual({ a: true, b: true, c: 511, d: '2024-01-02', e: 'yes', f: '1:20', g: 1000 });
  });
});

describe('parseManifests: problems', () => {
  it('reports syntax errors with line:column', () => {
    const p = problemsOf(() => parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\na: b: c\n', 'bad.yaml'));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ file: 'bad.yaml', document: 2, line: 6, column: 4 });
    expect(p[0]!.message).toMatch(/YAML syntax error/);
  });

  it('rejects duplicate keys at the duplicate', () => {
    const e = errorOf(() => parseManifests(fixture('duplicate-keys.yaml'), 'dup.yaml'));
    expect(e.problems).toEqual([expect.objectContaining({ document: 1, line: 8, column: 3 })]);
    expect(e.message).toBe('dup.yaml: document 1, line 8:3: duplicate key "a" (keys of a mapping must be unique)');
  });

  it('rejects keys JSON cannot hold, and keys that collide once stringified', () => {
    const p = problemsOf(() => parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  ? [x, y]\n  : z\n  1: a\n  "1": b\n', 'k.yaml'));
    expect(p.map((x) => `${x.line}:${x.column} ${x.message}`)).toEqual([
      '5:5 a mapping key must be a string, not a sequence, mapping or alias',
      '8:3 duplicate key "1" (keys of a mapping must be unique)',
    ]);
  });

  it('rejects a document that is not a mapping', () => {
    const p = problemsOf(() => parseManifests('- a\n- b\n', 's.yaml'));
    expect(p[0]!.message).toMatch(/must be a mapping.*not a sequence/);
    expect(problemsOf(() => parseManifests('just a string\n', 's.yaml'))[0]!.message).toMatch(/not a string/);
  });

  it('names missing apiVersion, kind and metadata.name at their place', () => {
    const text = [
      'kind: ConfigMap\nmetadata: {name: a}', // 1: no apiVersion
      'apiVersion: v1\nmetadata: {name: b}', // 2: no kind
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}', // 3: no name
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-', // 4: fine
      'apiVersion: v1\nkind: ConfigMap', // 5: no metadata
    ].join('\n---\n');
    const p = problemsOf(() => parseManifests(text, 'm.yaml'));
    expect(p.map((x) => `${x.document} ${x.line}:${x.column} ${x.field} ${x.message}`)).toEqual([
      '1 1:1 apiVersion ConfigMap has no "apiVersion"',
      '2 4:1 kind the object has no "kind"',
      '3 9:1 metadata.name Required value: name or generateName is required',
      '5 17:1 metadata Required value: metadata (with a name) is required',
    ]);
  });

  it('explains unknown kinds and unsupported apiVersions', () => {
    const text = 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\napiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: d}\n';
    const e = errorOf(() => parseManifests(text, 'k.yaml'));
    expect(e.message.split('\n')).toEqual([
      '2 problems:',
      '  k.yaml: document 1 (Widget w), line 2:1: kind: kind "Widget" (apiVersion "example.com/v1") is not supported by Wheelhouse',
      '  k.yaml: document 2 (Deployment d), line 5:1: apiVersion: apiVersion "extensions/v1beta1" is not supported for kind Deployment (use "apps/v1")',
    ]);
  });

  it('reports problems in List items at the item line', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Gizmo\n  metadata: {name: b}\n- 42\n';
    const p = problemsOf(() => parseManifests(text, 'l.yaml'));
    expect(p.map((x) => `${x.line}:${x.column} ${x.field}`)).toEqual(['8:3 kind', '10:3 items[2]']);
  });

  it('refuses files over 4 MiB before parsing', () => {
    const big = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  x: "${'a'.repeat(Math.round(5.2 * 1024 * 1024))}"\n`;
    const e = errorOf(() => parseManifests(big, 'big.yaml'));
    expect(e.message).toBe('big.yaml: file is 5.2 MiB; the limit is 4 MiB');
    const justOver = 'a'.repeat(MAX_FILE_BYTES + 1);
    expect(errorOf(() => parseManifests(justOver, 'b.yaml')).message).toBe('b.yaml: file is 4194305 bytes; the limit is 4 MiB (4194304 bytes)');
    expect(errorOf(() => parseManifestBytes(new Uint8Array(MAX_FILE_BYTES + 1), 'c.yaml')).message).toMatch(/the limit is 4 MiB/);
  });

  it('refuses objects over 1.5 MiB serialized, naming the document', () => {
    const data = 'x'.repeat(1024 * 1024);
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: small}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  a: "${data}"\n  b: "${data.slice(0, 600 * 1024)}"\n`;
    const e = errorOf(() => parseManifests(text, 'o.yaml'));
    expect(e.message).toBe('o.yaml: document 2 (ConfigMap big), line 5:1: object is 1.6 MiB serialized; the limit is 1.5 MiB');
    // 1.4 MiB is fine.
    const ok = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\ndata:\n  a: "${'y'.repeat(1.4 * 1024 * 1024)}"\n`;
    expect(parseManifests(ok, 'ok.yaml')).toHaveLength(1);
  });

  it('refuses binary data', () => {
    expect(errorOf(() => parseManifests('apiVersion: v1\nkind: C\0nfigMap\n', 'n.yaml')).message).toBe(
      'n.yaml: line 2:8: binary data: a NUL byte; manifests must be UTF-8 text',
    );
    expect(errorOf(() => parseManifests('a: \uFFFD\n', 'r.yaml')).message).toMatch(/invalid UTF-8/);
    expect(errorOf(() => parseManifestBytes(new Uint8Array([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a]), 'b.yaml')).message).toBe(
      'b.yaml: binary data: invalid UTF-8 at byte 3; manifests must be UTF-8 text',
    );
    // Proper UTF-8 (and a BOM) is fine.
    const bytes = new TextEncoder().encode('\uFEFFapiVersion: v1\nkind: ConfigMap\nmetadata: {name: ünïcødé-😀}\n');
    const [doc] = parseManifestBytes(bytes, 'u.yaml');
    expect(doc!.object.metadata.name).toBe('ünïcødé-😀');
  });

  it('refuses nesting deeper than 100 levels, flow or block', () => {
    const flow = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: ${'['.repeat(150)}${']'.repeat(150)}\n`;
    const fp = problemsOf(() => parseManifests(flow, 'f.yaml'))[0]!;
    expect(fp).toMatchObject({ document: 1, line: 4, column: 106, message: 'nesting deeper than 100 levels' });
    expect(fp.field).toBe(`data${'[0]'.repeat(99)}`);
    const block = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n${Array.from({ length: 120 }, (_, i) => `${' '.repeat(i + 2)}k${i}:`).join('\n')} 1\n`;
    const p = problemsOf(() => parseManifests(block, 'b.yaml'));
    expect(p[0]!.message).toBe('nesting deeper than 100 levels');
    expect(p[0]!.document).toBe(1);
    // Megabytes of brackets are refused quickly, not parsed.
    const t0 = Date.now();
    expect(errorOf(() => parseManifests('['.repeat(3 * 1024 * 1024), 'x.yaml')).message).toMatch(/nesting deeper/);
    expect(Date.now() - t0).toBeLessThan(2000);
    // Brackets in quoted strings, comments and block scalars do not count.
    const fine = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}  # ${'['.repeat(200)}\ndata:\n  q: "${'['.repeat(200)}"\n  s: '${'{'.repeat(200)}'\n  b: |\n    ${'['.repeat(200)}\n`;
    expect((parseManifests(fine, 'ok.yaml')[0]!.object.data as Record<string, string>).b).toBe(`${'['.repeat(200)}\n`);
    expect(errorOf(() => parseManifests(`${'- '.repeat(1024 * 1024)}x`, 's.yaml')).message).toMatch(/nesting deeper/);
  });

  it('refuses a billion-laughs document', () => {
    const e = errorOf(() => parseManifests(fixture('billion-laughs.yaml'), 'lol.yaml'));
    expect(e.message).toMatch(/lol\.yaml: document 1, line 1:1: too many aliases/);
  });

  it('lists every problem of every document at once', () => {
    const text = 'a: [\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n---\nb: 1\nb: 2\n';
    const p = problemsOf(() => parseManifests(text, 'many.yaml'));
    expect(p.map((x) => x.document)).toEqual([1, 2, 3]);
  });

  it('formats problems as file: document (object), line: field: message', () => {
    const p: ImportProblem = { file: 'web.yaml', document: 2, line: 14, column: 9, object: 'Deployment default/web', field: 'spec.replicas', message: 'Invalid value: -1' };
    expect(formatProblem(p)).toBe('web.yaml: document 2 (Deployment default/web), line 14:9: spec.replicas: Invalid value: -1');
    expect(formatProblem({ file: 'a.yaml', document: 0, line: 0, column: 0, message: 'file is 5.2 MiB; the limit is 4 MiB' })).toBe(
      'a.yaml: file is 5.2 MiB; the limit is 4 MiB',
    );
  });
});

describe('validateImport', () => {
  it('reports field errors at the line of the field, with the object and document', () => {
    const docs = parseManifests(fixture('invalid-replicas.yaml'), 'web.yaml');
    const p = validateImport(docs, validate);
    expect(p.map(formatProblem)).toEqual([
      'web.yaml: document 2 (Deployment default/web), line 15:3: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'web.yaml: document 2 (Deployment default/web), line 22:11: spec.template.spec.containers[0].image: Required value',
      'web.yaml: document 3 (Service default/web), line 28:1: spec.selector: Required value',
    ]);
  });

  it('reports errors in List items at the item field', () => {
    const docs = parseManifests(fixture('list.yaml'), 'list.yaml');
    const p = validateImport(docs, validate, { namespace: 'dev' });
    expect(p.map(formatProblem)).toEqual([
      'list.yaml: document 1 (Deployment dev/second), line 16:7: spec.replicas: Invalid value: -3: must be greater than or equal to 0',
    ]);
  });

  it('reports an object defined twice in one import (default namespace included)', () => {
    const a = parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n', 'a.yaml');
    const b = parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: default\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: other}\n', 'b.yaml');
    const p = validateImport([...a, ...b], () => []);
    expect(p.map(formatProblem)).toEqual([
      'b.yaml: document 1 (ConfigMap default/x), line 4:3: metadata.name: Duplicate value: ConfigMap default/x is also defined in a.yaml document 1 (line 3)',
    ]);
  });

  it('passes validators a namespaced copy and turns a throwing validator into a problem', () => {
    const docs = parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n', 'a.yaml');
    const seen: KubeObject[] = [];
    expect(validateImport(docs, (o) => (seen.push(o), []), { namespace: 'team' })).toEqual([]);
    expect(seen[0]!.metadata.namespace).toBe('team');
    expect(docs[0]!.object.metadata.namespace).toBeUndefined();
    const p = validateImport(docs, () => {
      throw new Error('boom');
    });
    expect(p[0]!.message).toBe('validation failed: boom');
  });
});

describe('parseManifests: robustness (property)', () => {
  const onlyImportErrors = (run: () => unknown) => {
    try {
      run();
    } catch (e) {
      if (!(e instanceof ImportError)) throw e;
    }
  };

  it('never throws anything but ImportError on random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => onlyImportErrors(() => parseManifests(s, 'r.yaml'))),
      { numRuns: 400 },
    );
  });

  it('never throws anything but ImportError on YAML-ish token soup', () => {
    const token = fc.constantFrom(
      'apiVersion: v1\n', 'kind: ConfigMap\n', 'kind: List\n', 'items:\n', 'metadata:\n', '  name: a\n', '- ', '  ', '---\n',
      '&a ', '*a', '<<: *a\n', '{', '}', '[', ']', ', ', ': ', '"', "'", '#', '|\n', '>-\n', '!!binary ', '!!str ', '? ',
      'yes', '~', '.nan', '0x1F', '\t', '\n', '%YAML 1.2\n', '...\n', 'key', '1e400', '__proto__: {}\n',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), (parts) => onlyImportErrors(() => parseManifests(parts.join(''), 't.yaml'))),
      { numRuns: 600 },
    );
  });

  it('never throws anything but ImportError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyImportErrors(() => parseManifestBytes(b, 'b.yaml'))),
      { numRuns: 400 },
    );
  });
});
