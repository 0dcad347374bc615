/**
 * YAML/JSON manifest import: what a dropped file, the wizard's editor or `wheelhouse apply -f`
 * hands over, turned into objects that remember where in the file each field was written, so
 * every problem is reported as `web.yaml: document 2 (Deployment default/web), line 14:9: …`.
 *
 * YAML semantics are YAML 1.1, deliberately: kubectl reads manifests with sigs.k8s.io/yaml, i.e.
 * go-yaml v2, a YAML 1.1 parser, so `yes`/`no`/`on`/`off`/`y`/`n` are booleans, `0777` is octal
 * and `1_000` is 1000 — a manifest means here what it means to kubectl (and `enabled: on` in a
 * ConfigMap fails validation for the same reason it fails there). Like go-yaml v2 decoding into
 * untyped values, timestamps and `1:20` (sexagesimal) stay strings; `!!binary` becomes base64.
 * Merge keys (`<<`), anchors and aliases work; duplicate keys are errors (as in go-yaml v2).
 */
import { MAX_NESTING } from './depth.ts';
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
  type Node as YamlNode,
  type Pair,
  type Tags,
  type YAMLMap,
} from 'yaml';
import type { FieldError } from './errors.ts';
import { explainUnknownKind, kindByName, lookupKind } from './kinds.ts';
import { cloneJson } from './merge/json.ts';
import { describeObject, type KubeObject } from './types.ts';

const MiB = 1024 * 1024;
/** Files larger than this are refused before parsing. */
export const MAX_FILE_BYTES = 4 * MiB;
/** etcd's (and so Kubernetes') request limit: the largest object, serialized as JSON. */
export const MAX_OBJECT_BYTES = 1.5 * MiB;
/** Deepest nesting of mappings and sequences accepted. Real manifests stay under 20. */
export const MAX_DEPTH = MAX_NESTING;
/**
 * Alias expansions allowed per document (yaml's `maxAliasCount`, which weighs an alias by the
 * aliases inside what it refers to): a "billion laughs" document trips it within a few levels.
 */
export const MAX_ALIAS_COUNT = 1000;

export interface Position {
  line: number;
  column: number;
}

export interface ParsedDocument {
  file: string;
  /** 1-based number of the YAML document in the file (items of a List share their List's). */
  index: number;
  object: KubeObject;
  /** Line where the object starts (the document, or the List item). */
  line: number;
  /**
   * Where a field is written, for a Kubernetes field path such as
   * `spec.template.spec.containers[0].image` or `metadata.labels[app]`: the position of the key
   * of a mapping entry, of the item of a sequence. A path that does not exist (a missing
   * required field) gives its nearest existing ancestor; an empty path, the object's start.
   */
  positionOf(path: string): Position | undefined;
}

export interface ImportProblem {
  file: string;
  /** 1-based document number; 0 for a problem with the whole file (size, encoding). */
  document: number;
  /** 1-based; 0 when the problem has no position (the whole file). */
  line: number;
  column: number;
  /** `Deployment default/web`, when known. */
  object?: string;
  /** Kubernetes field path, e.g. `spec.replicas`. */
  field?: string;
  message: string;
}

/** One line per problem: `web.yaml: document 2 (Deployment default/web), line 14:9: spec.replicas: Invalid value …`. */
export function formatProblem(p: ImportProblem): string {
  const where: string[] = [];
  if (p.document > 0) where.push(`document ${p.document}${p.object ? ` (${p.object})` : ''}`);
  if (p.line > 0) where.push(`line ${p.line}:${p.column}`);
  const head = where.length ? `${p.file}: ${where.join(', ')}` : p.file;
  return `${head}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

/** An import that cannot go ahead; `problems` lists every reason, `message` one line each. */
export class ImportError extends Error {
  readonly problems: ImportProblem[];
  constructor(problems: ImportProblem[], headline?: string) {
    const lines = problems.map(formatProblem);
    const head = headline ?? (lines.length === 1 ? '' : `${lines.length} problems:`);
    super(head ? [head, ...lines.map((l) => `  ${l}`)].join('\n') : (lines[0] ?? 'import failed'));
    this.name = 'ImportError';
    this.problems = problems;
  }
}

/** Decode bytes as strict UTF-8 (invalid sequences are a problem, not U+FFFD) and parse. */
export function parseManifestBytes(bytes: Uint8Array, fileName: string): ParsedDocument[] {
  if (bytes.byteLength > MAX_FILE_BYTES) throw new ImportError([fileProblem(fileName, tooBig('file', bytes.byteLength, MAX_FILE_BYTES))]);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new ImportError([fileProblem(fileName, `binary data: invalid UTF-8 at byte ${at}; manifests must be UTF-8 text`)]);
  }
  return parse(text, fileName, true);
}

/**
 * Parse every document of a YAML (or JSON) file into objects with positions. Empty documents
 * are skipped; `kind: List` and `*List` documents contribute their items. Throws ImportError
 * listing every problem; never throws anything else.
 */
export function parseManifests(text: string, fileName: string): ParsedDocument[] {
  return parse(text, fileName, false);
}

function parse(input: string, file: string, decoded: boolean): ParsedDocument[] {
  let text = typeof input === 'string' ? input : String(input);
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_FILE_BYTES) throw new ImportError([fileProblem(file, tooBig('file', size, MAX_FILE_BYTES))]);
  const bad = firstBadChar(text, !decoded);
  if (bad >= 0) {
    const what = text[bad] === '\0' ? 'a NUL byte' : 'invalid UTF-8';
    throw new ImportError([{ ...fileProblem(file, `binary data: ${what}; manifests must be UTF-8 text`), ...lineCol(text, bad) }]);
  }
  if (text.charCodeAt(0) === 0xfeff) text = ` ${text.slice(1)}`; // keep offsets: a BOM reads as one space
  // The scan's limit is generous (it guards against pathological input, not normal depth, and
  // must not trip on brackets it misreads); the exact MAX_DEPTH check runs on the parsed value.
  const deep = scanNesting(text, 10 * MAX_DEPTH);
  if (deep >= 0) {
    throw new ImportError([{ ...fileProblem(file, `nesting deeper than ${MAX_DEPTH} levels`), ...lineCol(text, deep) }]);
  }
  try {
    return parseDocuments(text, file);
  } catch (e) {
    if (e instanceof ImportError) throw e;
    throw new ImportError([fileProblem(file, `could not be read: ${(e as Error)?.message ?? String(e)}`)]);
  }
}

function parseDocuments(text: string, file: string): ParsedDocument[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, {
    version: '1.1',
    lineCounter: lc,
    prettyErrors: false, // the pretty printer can exhaust memory on pathological input
    uniqueKeys: false, // yaml's check is quadratic in the size of a mapping; duplicateKeys() is linear
    customTags: yaml11Tags,
    logLevel: 'error', // no process warnings: every problem is reported as an ImportProblem
  });
  const problems: ImportProblem[] = [];
  const out: ParsedDocument[] = [];
  const pos = (offset: number): Position => {
    const p = lc.linePos(offset);
    return p.line === 0 ? { line: 1, column: offset + 1 } : { line: p.line, column: p.col };
  };
  Array.from(docs).forEach((doc, i) => {
    const index = i + 1;
    const at = (offset: number, message: string, extra: Partial<ImportProblem> = {}) =>
      problems.push({ file, document: index, ...pos(offset), message, ...extra });
    if (doc.errors.length) {
      for (const e of doc.errors) at(e.pos[0], syntaxMessage(e.code, e.message));
      return;
    }
    const root = doc.contents as YamlNode | null;
    if (!root) return;
    const keyProblems = badKeys(root);
    if (keyProblems.length) {
      for (const k of keyProblems) at(k.offset, k.message);
      return;
    }
    const start = root.range?.[0] ?? doc.range[0];
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT, reviver: binaryAsBase64 });
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      at(start, /Excessive alias count/.test(msg) ? `too many aliases: more than ${MAX_ALIAS_COUNT} alias expansions (a "billion laughs" document?)` : msg);
      return;
    }
    if (value === null || value === undefined) return; // empty document
    const shape = inspect(value, MAX_FILE_BYTES * 4);
    if (shape.problem) {
      const place = makePositionOf(doc, root, pos, start)(shape.problem.path);
      at(start, shape.problem.message, { ...place, field: shape.problem.path || undefined });
      return;
    }
    if (!isPlainObject(value)) {
      at(start, `a manifest document must be a mapping (an object with apiVersion, kind and metadata), not ${typeName(value)}`);
      return;
    }
    const items = listItems(value);
    const objects: { object: unknown; node: YamlNode; path: string }[] = items
      ? items.map((object, j) => ({ object, node: itemNode(doc, root, j) ?? root, path: `items[${j}]` }))
      : [{ object: value, node: root, path: '' }];
    for (const { object, node, path } of objects) {
      const begin = node.range?.[0] ?? start;
      const positionOf = makePositionOf(doc, node, pos, begin);
      const found = checkObject(object);
      const name = isPlainObject(object) && typeof object.kind === 'string' ? safeDescribe(object) : undefined;
      for (const p of found) {
        const place = positionOf(p.field) ?? pos(begin);
        problems.push({ file, document: index, ...place, ...(name ? { object: name } : {}), field: p.field || (path || undefined), message: p.message });
      }
      if (found.length) continue;
      const bytes = inspect(object, MAX_OBJECT_BYTES).bytes;
      if (bytes > MAX_OBJECT_BYTES) {
        problems.push({ file, document: index, ...pos(begin), object: name, message: tooBig('object', bytes, MAX_OBJECT_BYTES, 'serialized') });
        continue;
      }
      // A tree of its own: aliases made parts of the parsed value shared.
      out.push({ file, index, object: cloneJson(object) as KubeObject, line: pos(begin).line, positionOf });
    }
  });
  if (problems.length) throw new ImportError(problems);
  return out;
}

// ---- checks ------------------------------------------------------------------------------

/** The object-level requirements: apiVersion + kind served here, metadata.name (or generateName). */
function checkObject(obj: unknown): { field: string; message: string }[] {
  if (!isPlainObject(obj)) return [{ field: '', message: `a List item must be a mapping, not ${typeName(obj)}` }];
  const { apiVersion, kind, metadata } = obj;
  const out: { field: string; message: string }[] = [];
  if (typeof kind !== 'string' || !kind) out.push({ field: 'kind', message: explainUnknownKind(str(apiVersion), undefined) });
  else if (typeof apiVersion !== 'string' || !apiVersion) out.push({ field: 'apiVersion', message: explainUnknownKind(undefined, kind) });
  else if (!lookupKind(apiVersion, kind)) {
    out.push({ field: kindByName(kind) ? 'apiVersion' : 'kind', message: explainUnknownKind(apiVersion, kind) });
  }
  if (!isPlainObject(metadata)) out.push({ field: 'metadata', message: 'Required value: metadata (with a name) is required' });
  else {
    const { name, generateName } = metadata;
    if (name === undefined || name === null || name === '') {
      if (typeof generateName !== 'string' || !generateName) out.push({ field: 'metadata.name', message: 'Required value: name or generateName is required' });
    } else if (typeof name !== 'string') out.push({ field: 'metadata.name', message: `Invalid value: ${JSON.stringify(name)}: must be a string` });
  }
  return out;
}

/** Items of a `kind: List` / `FooList` document, or undefined when it is not a list. */
function listItems(doc: Record<string, unknown>): unknown[] | undefined {
  const kind = doc.kind;
  if (typeof kind !== 'string' || !kind.endsWith('List') || !Array.isArray(doc.items)) return undefined;
  if (typeof doc.apiVersion === 'string' && lookupKind(doc.apiVersion, kind)) return undefined;
  const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
  // A typed list (`DeploymentList`) may leave apiVersion/kind off its items, as the API does.
  return doc.items.map((item) =>
    itemKind && isPlainObject(item) && item.kind === undefined ? { apiVersion: doc.apiVersion, kind: itemKind, ...item } : item,
  );
}

interface Shape {
  bytes: number;
  problem?: { path: string; message: string };
}

/**
 * Size as JSON (stops counting past `limit`), nesting depth, and values JSON cannot carry.
 * Aliases can make a value a DAG much larger than its text; the byte budget bounds the walk.
 */
function inspect(value: unknown, limit: number): Shape {
  const shape: Shape = { bytes: 0 };
  const walk = (v: unknown, path: string, depth: number): void => {
    if (shape.problem || shape.bytes > limit) return;
    if (typeof v === 'string') shape.bytes += Buffer.byteLength(JSON.stringify(v), 'utf8');
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) shape.problem = { path, message: `Invalid value: ${v}: not a JSON number (.inf/.nan cannot be stored)` };
      shape.bytes += String(v).length;
    } else if (typeof v === 'bigint') shape.bytes += String(v).length;
    else if (typeof v === 'boolean') shape.bytes += v ? 4 : 5;
    else if (v === null || v === undefined) shape.bytes += 4;
    else if (typeof v === 'object') {
      if (depth >= MAX_DEPTH) {
        shape.problem = { path, message: `nesting deeper than ${MAX_DEPTH} levels` };
        return;
      }
      shape.bytes += 2;
      if (Array.isArray(v)) v.forEach((x, i) => ((shape.bytes += 1), walk(x, `${path}[${i}]`, depth + 1)));
      else {
        for (const [k, x] of Object.entries(v as object)) {
          shape.bytes += Buffer.byteLength(JSON.stringify(k), 'utf8') + 2;
          walk(x, path ? `${path}.${k}` : k, depth + 1);
          if (shape.problem || shape.bytes > limit) return;
        }
      }
    }
  };
  walk(value, '', 0);
  if (!shape.problem && shape.bytes > limit && limit > MAX_OBJECT_BYTES) {
    shape.problem = { path: '', message: `the document expands to more than ${fmtMiB(limit)} (aliases?)` };
  }
  return shape;
}

// ---- positions ---------------------------------------------------------------------------

type Segment = { key: string; bracket: boolean };

/** `spec.containers[0].env[FOO]` → spec, containers, [0], env, [FOO]. */
export function parseFieldPath(path: string): Segment[] {
  const out: Segment[] = [];
  const re = /\[([^\]]*)\]|([^.[\]]+)/g;
  for (let m = re.exec(path); m; m = re.exec(path)) out.push(m[1] !== undefined ? { key: m[1], bracket: true } : { key: m[2]!, bracket: false });
  return out;
}

function makePositionOf(doc: Document, root: YamlNode, pos: (offset: number) => Position, start: number) {
  return (path: string): Position | undefined => {
    const segs = parseFieldPath(path);
    let node: YamlNode | null | undefined = deref(doc, root);
    let offset = start;
    for (let i = 0; i < segs.length && node; i++) {
      if (isMap(node)) {
        const hit = findPair(doc, node, segs, i, 0);
        if (!hit) break;
        offset = ((hit.pair.key as YamlNode | null)?.range ?? (hit.pair.value as YamlNode | null)?.range ?? [offset])[0];
        node = deref(doc, hit.pair.value as YamlNode | null);
        i += hit.used - 1;
      } else if (isSeq(node)) {
        const seg = segs[i]!;
        if (!/^\d+$/.test(seg.key)) break;
        const item = node.items[Number(seg.key)] as YamlNode | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = deref(doc, item);
      } else break;
    }
    return pos(offset);
  };
}

/** The pair for segs[i] (or, for keys with dots, segs[i..j] joined), looking through merge keys. */
function findPair(doc: Document, map: YAMLMap, segs: Segment[], i: number, depth: number): { pair: Pair; used: number } | undefined {
  if (depth > 20) return undefined;
  const keyOf = (p: Pair) => (isScalar(p.key) ? (p.key.value === null ? '' : String(p.key.value)) : undefined);
  const direct = (key: string) => map.items.find((p) => keyOf(p) === key);
  let key = segs[i]!.key;
  const one = direct(key);
  if (one) return { pair: one, used: 1 };
  for (let j = i + 1; j < segs.length && !segs[j]!.bracket; j++) {
    key += `.${segs[j]!.key}`;
    const p = direct(key);
    if (p) return { pair: p, used: j - i + 1 };
  }
  for (const p of map.items) {
    if (!(isScalar(p.key) && typeof p.key.value === 'symbol')) continue; // `<<` merge key
    const src = deref(doc, p.value as YamlNode | null);
    const sources = isSeq(src) ? src.items.map((x) => deref(doc, x as YamlNode)) : [src];
    for (const s of sources) {
      const hit = isMap(s) ? findPair(doc, s, segs, i, depth + 1) : undefined;
      if (hit) return hit;
    }
  }
  return undefined;
}

/**
 * Keys that occur twice in one mapping (as JSON sees them: `1` and "1" collide; merge keys
 * excepted), and keys that are not scalars (JSON has no `? [a, b]: c`).
 */
function badKeys(root: YamlNode): { offset: number; message: string }[] {
  const out: { offset: number; message: string }[] = [];
  const stack: unknown[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = pair.key as YamlNode | null;
        if (isScalar(key) && typeof key.value !== 'symbol') {
          const k = key.value === null || key.value === undefined ? '' : String(key.value);
          if (seen.has(k)) out.push({ offset: key.range?.[0] ?? 0, message: `duplicate key ${JSON.stringify(k)} (keys of a mapping must be unique)` });
          seen.add(k);
        } else if (key && !isScalar(key)) {
          out.push({ offset: key.range?.[0] ?? 0, message: 'a mapping key must be a string, not a sequence, mapping or alias' });
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) stack.push(...node.items);
  }
  return out.sort((a, b) => a.offset - b.offset);
}

function deref(doc: Document, node: YamlNode | null | undefined): YamlNode | null | undefined {
  for (let n = 0; n < 20 && node && isAlias(node); n++) node = node.resolve(doc) as YamlNode | undefined;
  return node;
}

function itemNode(doc: Document, root: YamlNode, j: number): YamlNode | undefined {
  const r = deref(doc, root);
  if (!isMap(r)) return undefined;
  const items = deref(doc, findPair(doc, r, [{ key: 'items', bracket: false }], 0, 0)?.pair.value as YamlNode | null);
  return isSeq(items) ? ((items.items[j] as YamlNode | undefined) ?? undefined) : undefined;
}

// ---- validation against the API's rules --------------------------------------------------

/**
 * Validate every parsed object with `validate` (the API's field validation), reporting each
 * FieldError at the line of its field; objects defined twice in one import are problems too.
 * Namespaced objects without a namespace are validated (and compared) as in `namespace`.
 */
export function validateImport(
  docs: readonly ParsedDocument[],
  validate: (obj: KubeObject) => FieldError[],
  opts: { namespace?: string } = {},
): ImportProblem[] {
  const problems: ImportProblem[] = [];
  const seen = new Map<string, ParsedDocument>();
  for (const doc of docs) {
    const obj = withNamespace(doc.object, opts.namespace);
    const object = safeDescribe(obj);
    const report = (field: string | undefined, message: string) => {
      const p = (field ? doc.positionOf(field) : undefined) ?? doc.positionOf('') ?? { line: doc.line, column: 1 };
      problems.push({ file: doc.file, document: doc.index, ...p, object, ...(field ? { field } : {}), message });
    };
    let errors: FieldError[];
    try {
      errors = validate(structuredClone(obj));
    } catch (e) {
      errors = [{ field: '', type: 'InternalError', message: `validation failed: ${(e as Error)?.message ?? String(e)}` }];
    }
    for (const e of errors) report(e.field || undefined, e.message);
    const info = lookupKind(obj.apiVersion, obj.kind);
    const name = obj.metadata?.name;
    if (!info || !name) continue; // generateName: a new object every time
    const key = `${info.group}/${info.kind}/${obj.metadata.namespace ?? ''}/${name}`;
    const first = seen.get(key);
    if (first) {
      const at = first.positionOf('metadata.name') ?? { line: first.line };
      const there = first.file === doc.file ? '' : `${first.file} `;
      report('metadata.name', `Duplicate value: ${object} is also defined in ${there}document ${first.index} (line ${at.line})`);
    } else seen.set(key, doc);
  }
  return problems;
}

/** A copy with `metadata.namespace` set for namespaced kinds (and dropped for cluster-scoped ones). */
export function withNamespace(obj: KubeObject, namespace = 'default'): KubeObject {
  const info = lookupKind(obj.apiVersion, obj.kind);
  if (!info) return obj;
  const metadata = { ...obj.metadata };
  if (info.namespaced) metadata.namespace ||= namespace;
  else delete metadata.namespace;
  return { ...obj, metadata };
}

// ---- helpers -----------------------------------------------------------------------------

/** YAML 1.1 tags as go-yaml v2 decodes into untyped values: no timestamps, sexagesimals, sets, omaps. */
function yaml11Tags(tags: Tags): Tags {
  const drop = /:(timestamp|set|omap|pairs)$/;
  return tags.filter((t) => typeof t === 'string' || (t.format !== 'TIME' && !drop.test(t.tag)));
}

function binaryAsBase64(_key: unknown, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;
}

function syntaxMessage(code: string, message: string): string {
  if (code === 'RESOURCE_EXHAUSTION') return `the document is too deeply nested to parse (${message})`;
  return `YAML syntax error: ${message}`;
}

function fileProblem(file: string, message: string): ImportProblem {
  return { file, document: 0, line: 0, column: 0, message };
}

function fmtMiB(bytes: number): string {
  return `${Number((bytes / MiB).toFixed(1))} MiB`;
}

/** `file is 5.2 MiB; the limit is 4 MiB` (bytes when rounding would hide the excess). */
function tooBig(what: string, bytes: number, limit: number, how = ''): string {
  const size = fmtMiB(bytes) === fmtMiB(limit) ? `${bytes} bytes` : fmtMiB(bytes);
  const lim = fmtMiB(bytes) === fmtMiB(limit) ? `${fmtMiB(limit)} (${limit} bytes)` : fmtMiB(limit);
  return `${what} is ${size}${how ? ` ${how}` : ''}; the limit is ${lim}`;
}

function lineCol(text: string, offset: number): Position {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return { line, column: offset - last };
}

/**
 * Offset of the first NUL, unpaired surrogate or (unless the text came from a strict decoder)
 * U+FFFD — what a lenient UTF-8 decoder leaves for invalid bytes — or -1.
 */
function firstBadChar(text: string, replacementIsBad: boolean): number {
  const re = replacementIsBad ? /[\0\uD800-\uDFFF\uFFFD]/g : /[\0\uD800-\uDFFF]/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const c = text.charCodeAt(m.index);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(m.index + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        re.lastIndex = m.index + 2;
        continue;
      }
    }
    return m.index;
  }
  return -1;
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  const dec = new TextDecoder('utf-8', { fatal: true });
  let lo = 0;
  let hi = bytes.length;
  // Binary search for the shortest invalid prefix (ignoring a truncated tail sequence).
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      dec.decode(bytes.subarray(0, mid + 1), { stream: true });
      dec.decode();
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  return lo;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Set);
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'a sequence';
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)})`;
  return `a ${typeof v}`;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

function safeDescribe(obj: Record<string, unknown>): string {
  const m = isPlainObject(obj.metadata) ? obj.metadata : {};
  return describeObject({
    kind: str(obj.kind),
    metadata: { namespace: str(m.namespace), name: str(m.name), generateName: str(m.generateName) },
  });
}

/**
 * First offset where flow collections (`[[[…`) or compact sequences (`- - - …`) nest deeper
 * than `limit`, or -1. A cheap lexical pass that skips comments, quoted strings and block
 * scalars; it spares the parser megabytes of brackets (which take it many seconds). The exact
 * depth check runs on the parsed value.
 */
function scanNesting(text: string, limit: number): number {
  const n = text.length;
  let flow = 0;
  let blockIndent = -1; // inside a block scalar: the indentation of the line that opened it
  let i = 0;
  while (i < n) {
    let indent = 0;
    while (text[i] === ' ') (i++, indent++);
    if (blockIndent >= 0) {
      if (text[i] === '\n' || text[i] === '\r' || indent > blockIndent) {
        const eol = text.indexOf('\n', i);
        i = eol < 0 ? n : eol + 1;
        continue;
      }
      blockIndent = -1;
    }
    if (indent === 0 && /^(---|\.\.\.)(\s|$)/.test(text.slice(i, i + 4))) flow = 0; // a new document
    if (flow === 0) {
      let seq = 0;
      while ((text[i] === '-' || text[i] === '?') && (text[i + 1] === ' ' || text[i + 1] === '\t')) {
        i += 2;
        while (text[i] === ' ' || text[i] === '\t') i++;
        if (++seq > limit) return i;
      }
    }
    let prev = ' ';
    for (; i < n && text[i] !== '\n'; i++) {
      const c = text[i]!;
      const atToken = flow > 0 || prev === ' ' || prev === '\t';
      if (c === '#' && (prev === ' ' || prev === '\t')) {
        while (i < n && text[i] !== '\n') i++;
        break;
      }
      if ((c === '"' || c === "'") && atToken) {
        i = skipQuoted(text, i);
        prev = c;
        continue;
      }
      if ((c === '[' || c === '{') && atToken) {
        if (++flow > limit) return i;
      } else if ((c === ']' || c === '}') && flow > 0) flow--;
      else if ((c === '|' || c === '>') && flow === 0 && atToken) {
        blockIndent = indent;
        while (i < n && text[i] !== '\n') i++;
        break;
      }
      prev = c;
    }
    i++;
  }
  return -1;
}

/** Offset of the closing quote of the quoted scalar opening at `i` (or the end of the text). */
function skipQuoted(text: string, i: number): number {
  const q = text[i];
  for (let j = i + 1; j < text.length; j++) {
    if (q === '"' && text[j] === '\\') j++;
    else if (text[j] === q) {
      if (q === "'" && text[j + 1] === "'") j++;
      else return j;
    }
  }
  return text.length;
}
