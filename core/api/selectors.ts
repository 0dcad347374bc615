/**
 * Label selectors, node selector terms and field selectors, as Kubernetes parses and matches them
 * (k8s.io/apimachinery/pkg/labels, metav1.LabelSelectorAsSelector, component-helpers' nodeaffinity,
 * k8s.io/apimachinery/pkg/fields and the registries' selectable fields).
 *
 * Error messages keep Kubernetes' wording; syntax errors also say where (`at character N`, and
 * `SelectorError.position`, 0-based).
 */
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { NodeSelectorRequirement, NodeSelectorTerm } from 'kubernetes-types/core/v1.js';
import { kindByName } from './kinds.ts';

export class SelectorError extends Error {
  /** 0-based offset in the selector string, for syntax errors. */
  readonly position?: number;
  constructor(message: string, position?: number) {
    super(position === undefined ? message : `${message} (at character ${position + 1})`);
    this.name = 'SelectorError';
    if (position !== undefined) this.position = position;
  }
}

// ---------------------------------------------------------------------------------------------
// Label key and value validation (k8s.io/apimachinery/pkg/util/validation)

const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const qualifiedNameRe = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const dns1123SubdomainRe = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const labelValueRe = new RegExp(`^${LABEL_VALUE_FMT}$`);

function regexError(msg: string, fmt: string, ...examples: string[]): string {
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!dns1123SubdomainRe.test(value)) errs.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  return errs;
}

/** A label key: `[dns-subdomain/]name`, name ≤ 63 characters. Returns what is wrong, or []. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (!qualifiedNameRe.test(name)) {
    errs.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  }
  return errs;
}

/** A label value: empty, or ≤ 63 characters of [A-Za-z0-9._-] starting and ending alphanumeric. */
export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!labelValueRe.test(value)) errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

function invalid(path: string, value: unknown, detail: string): string {
  return `${path ? `${path}: ` : ''}Invalid value: ${JSON.stringify(value)}: ${detail}`;
}

function aggregate(errs: string[]): string {
  return errs.length === 1 ? errs[0]! : `[${errs.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------
// Requirements and selectors

/** Kubernetes' selection.Operator values. `!` is DoesNotExist. */
export type SelectorOperator = '!' | '=' | '==' | 'in' | '!=' | 'notin' | 'exists' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Sorted and without duplicates when parsed from a string. */
  readonly values: readonly string[];
}

const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];
const INT64_RE = /^[+-]?\d+$/;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function parseInt64(s: string): bigint | undefined {
  if (!INT64_RE.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/** labels.NewRequirement: what is wrong with a requirement, as Kubernetes words it. */
function requirementErrors(key: string, op: SelectorOperator, values: readonly string[], path = ''): string[] {
  const errs: string[] = [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) errs.push(invalid(join(path, 'key'), key, keyErrs.join('; ')));
  const vp = join(path, 'values');
  switch (op) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(invalid(vp, values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(invalid(vp, values, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(invalid(vp, values, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(invalid(vp, values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) {
          errs.push(invalid(`${vp}[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      });
      break;
  }
  values.forEach((v, i) => {
    const vErrs = isValidLabelValue(v);
    if (vErrs.length) errs.push(invalid(`${vp}[${i}][${key}]`, v, vErrs.join('; ')));
  });
  return errs;
}

function join(path: string, child: string): string {
  return path ? `${path}.${child}` : child;
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, r.key);
  const val = has ? labels[r.key]! : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(val!);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(val!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false;
      const lv = parseInt64(val!);
      const rv = parseInt64(r.values[0]!);
      if (lv === undefined || rv === undefined) return false;
      return r.operator === 'gt' ? lv > rv : lv < rv;
    }
  }
}

function requirementString(r: LabelRequirement): string {
  const key = r.operator === '!' ? `!${r.key}` : r.key;
  const vals = r.values.length === 1 ? r.values[0]! : [...r.values].sort(byCodePoint).join(',');
  switch (r.operator) {
    case 'exists':
    case '!':
      return key;
    case 'in':
    case 'notin':
      return `${key} ${r.operator} (${vals})`;
    case 'gt':
      return `${key}>${vals}`;
    case 'lt':
      return `${key}<${vals}`;
    default:
      return `${key}${r.operator}${vals}`;
  }
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface Selector {
  matches(labels: Record<string, string> | undefined): boolean;
  /** True when the selector does not restrict anything (selects everything). */
  empty(): boolean;
  toString(): string;
  /** The ANDed requirements, sorted by key; `null` for the selector that selects nothing. */
  requirements(): readonly LabelRequirement[] | null;
  /** The value a selector demands for `label` (`=`, `==`, or `in` with one value), if any. */
  requiresExactMatch(label: string): string | undefined;
}

class RequirementsSelector implements Selector {
  private readonly reqs: readonly LabelRequirement[];
  constructor(reqs: readonly LabelRequirement[]) {
    // Stable sort by key, so the string form is deterministic (Kubernetes' ByKey).
    this.reqs = [...reqs].sort((a, b) => byCodePoint(a.key, b.key));
  }
  matches(labels: Record<string, string> | undefined): boolean {
    return this.reqs.every((r) => requirementMatches(r, labels));
  }
  empty(): boolean {
    return this.reqs.length === 0;
  }
  toString(): string {
    return this.reqs.map(requirementString).join(',');
  }
  requirements(): readonly LabelRequirement[] {
    return this.reqs;
  }
  requiresExactMatch(label: string): string | undefined {
    const r = this.reqs.find((x) => x.key === label);
    if (r && (r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) {
      return r.values[0];
    }
    return undefined;
  }
}

const EVERYTHING: Selector = new RequirementsSelector([]);
const NOTHING: Selector = {
  matches: () => false,
  empty: () => false,
  toString: () => '',
  requirements: () => null,
  requiresExactMatch: () => undefined,
};

/** Selects every object (an empty selector, `{}` or ""). */
export function everything(): Selector {
  return EVERYTHING;
}

/** Selects no object (a null selector). Its string form is "", like Kubernetes'. */
export function nothing(): Selector {
  return NOTHING;
}

// ---------------------------------------------------------------------------------------------
// The string form (labels.Parse)

type Tok = 'eos' | 'id' | 'in' | 'notin' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<';

interface Item {
  tok: Tok;
  lit: string;
  pos: number;
}

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);

function lex(s: string): Item[] {
  const items: Item[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && WHITESPACE.has(s[i]!)) i++;
    const pos = i;
    if (i >= s.length) {
      items.push({ tok: 'eos', lit: '', pos });
      return items;
    }
    const c = s[i]!;
    if (SPECIAL.has(c)) {
      // Longest operator: "!=" and "==" are the only two-character ones.
      const two = s.slice(i, i + 2);
      const lit = two === '!=' || two === '==' ? two : c;
      i += lit.length;
      items.push({ tok: lit as Tok, lit, pos });
      continue;
    }
    while (i < s.length && !SPECIAL.has(s[i]!) && !WHITESPACE.has(s[i]!)) i++;
    const lit = s.slice(pos, i);
    items.push({ tok: lit === 'in' || lit === 'notin' ? lit : 'id', lit, pos });
  }
}

class Parser {
  private readonly items: Item[];
  private p = 0;
  constructor(readonly input: string) {
    this.items = lex(input);
  }

  /** In a value (or key) position `in` and `notin` are plain identifiers. */
  private look(values: boolean): Item {
    const it = this.items[this.p]!;
    return values && (it.tok === 'in' || it.tok === 'notin') ? { ...it, tok: 'id' } : it;
  }
  private next(values: boolean): Item {
    const it = this.look(values);
    if (it.tok !== 'eos') this.p++;
    return it;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const it = this.look(true);
      if (it.tok === 'eos') return reqs;
      if (it.tok !== 'id' && it.tok !== '!') {
        throw new SelectorError(`found '${it.lit}', expected: !, identifier, or 'end of string'`, it.pos);
      }
      reqs.push(this.requirement());
      const t = this.next(true);
      if (t.tok === 'eos') return reqs;
      if (t.tok !== ',') throw new SelectorError(`found '${t.lit}', expected: ',' or 'end of string'`, t.pos);
      const t2 = this.look(true);
      if (t2.tok !== 'id' && t2.tok !== '!') {
        throw new SelectorError(`found '${t2.lit}', expected: identifier after ','`, t2.pos);
      }
    }
  }

  private fail(msg: string, pos: number): never {
    throw new SelectorError(`unable to parse requirement: ${msg}`, pos);
  }

  private requirement(): LabelRequirement {
    let it = this.next(true);
    let op: SelectorOperator | undefined;
    if (it.tok === '!') {
      op = '!';
      it = this.next(true);
    }
    if (it.tok !== 'id') this.fail(`found '${it.lit}', expected: identifier`, it.pos);
    const key = it.lit;
    const keyPos = it.pos;
    const keyErrs = isQualifiedName(key);
    if (keyErrs.length) this.fail(invalid('', key, keyErrs.join('; ')), keyPos);
    const after = this.look(true).tok;
    if (after === 'eos' || after === ',') op ??= 'exists';
    if (op === undefined) {
      const o = this.next(false);
      switch (o.tok) {
        case 'in':
          op = 'in';
          break;
        case 'notin':
          op = 'notin';
          break;
        case '=':
        case '==':
        case '!=':
          op = o.tok;
          break;
        case '>':
          op = 'gt';
          break;
        case '<':
          op = 'lt';
          break;
        default:
          this.fail(`found '${o.lit}', expected: ${BINARY_OPERATORS.join(', ')}`, o.pos);
      }
    }
    let values: string[] = [];
    if (op === 'in' || op === 'notin') values = this.valueSet();
    else if (op !== 'exists' && op !== '!') values = [this.exactValue()];
    const errs = requirementErrors(key, op, values);
    if (errs.length) this.fail(aggregate(errs), keyPos);
    return { key, operator: op, values };
  }

  private valueSet(): string[] {
    const open = this.next(true);
    if (open.tok !== '(') this.fail(`found '${open.lit}' expected: '('`, open.pos);
    const first = this.look(true);
    if (first.tok === ')') {
      this.next(true);
      return [''];
    }
    if (first.tok !== 'id' && first.tok !== ',') {
      this.fail(`found '${first.lit}', expected: ',', ')' or identifier`, first.pos);
    }
    // A (possibly empty) list of comma-separated (possibly empty) identifiers: "(,a,,b,)".
    const set = new Set<string>();
    for (;;) {
      const it = this.next(true);
      if (it.tok === 'id') {
        set.add(it.lit);
        const t2 = this.look(true);
        if (t2.tok === ',') continue;
        if (t2.tok === ')') break;
        this.fail(`found '${t2.lit}', expected: ',' or ')'`, t2.pos);
      } else if (it.tok === ',') {
        if (set.size === 0) set.add('');
        const t2 = this.look(true);
        if (t2.tok === ')') {
          set.add('');
          break;
        }
        if (t2.tok === ',') set.add('');
      } else {
        this.fail(`found '${it.lit}', expected: ',', or identifier`, it.pos);
      }
    }
    this.next(true); // ')'
    return [...set].sort(byCodePoint);
  }

  private exactValue(): string {
    const t = this.look(true);
    if (t.tok === 'eos' || t.tok === ',') return '';
    const it = this.next(true);
    if (it.tok !== 'id') this.fail(`found '${it.lit}', expected: identifier`, it.pos);
    return it.lit;
  }
}

/**
 * Parse the string form (`a=b,c!=d,e in (f,g),h notin (i),j,!k,l>5`) into its requirements,
 * sorted by key. "" parses to no requirements. Throws SelectorError.
 */
export function parseLabelSelector(s: string | undefined): LabelRequirement[] {
  return [...new RequirementsSelector(new Parser(s ?? '').parse()).requirements()];
}

/** The selector for a string form; "" (or undefined) selects everything. Throws SelectorError. */
export function selectorFromString(s: string | undefined): Selector {
  const reqs = new Parser(s ?? '').parse();
  return reqs.length === 0 ? EVERYTHING : new RequirementsSelector(reqs);
}

/** A selector matching exactly the given labels (no validation, like Kubernetes). */
export function selectorFromSet(set: Record<string, string> | null | undefined): Selector {
  const entries = Object.entries(set ?? {});
  if (entries.length === 0) return EVERYTHING;
  return new RequirementsSelector(entries.map(([key, v]) => ({ key, operator: '=' as const, values: [v] })));
}

const OBJECT_OPERATORS: Record<string, SelectorOperator> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

/**
 * metav1.LabelSelectorAsSelector: null/undefined selects nothing, `{}` selects everything.
 * Throws SelectorError naming the field (`matchExpressions[0].values: …`).
 */
export function labelSelectorFromObject(sel: LabelSelector | null | undefined): Selector {
  if (sel === null || sel === undefined) return NOTHING;
  const labels = Object.entries(sel.matchLabels ?? {});
  const exprs = sel.matchExpressions ?? [];
  if (labels.length + exprs.length === 0) return EVERYTHING;
  const reqs: LabelRequirement[] = [];
  const errs: string[] = [];
  for (const [key, value] of labels) {
    const e = requirementErrors(key, '=', [value], `matchLabels[${key}]`);
    errs.push(...e);
    reqs.push({ key, operator: '=', values: [value] });
  }
  exprs.forEach((x, i) => {
    const op = OBJECT_OPERATORS[x.operator];
    if (!op) {
      errs.push(`matchExpressions[${i}].operator: ${JSON.stringify(x.operator)} is not a valid label selector operator`);
      return;
    }
    const values = [...new Set(x.values ?? [])];
    errs.push(...requirementErrors(x.key, op, values, `matchExpressions[${i}]`));
    reqs.push({ key: x.key, operator: op, values });
  });
  if (errs.length) throw new SelectorError(aggregate(errs));
  return new RequirementsSelector(reqs);
}

/** The canonical string of an object selector ("" for both `{}` and null). Throws SelectorError. */
export function selectorToString(sel: LabelSelector | null | undefined): string {
  return labelSelectorFromObject(sel).toString();
}

// ---------------------------------------------------------------------------------------------
// Node selector terms (scheduler NodeAffinity; component-helpers/scheduling/corev1/nodeaffinity)

const NODE_OPERATORS: Record<string, SelectorOperator> = { ...OBJECT_OPERATORS, Gt: 'gt', Lt: 'lt' };

interface ParsedTerm {
  labels?: Selector;
  fields?: FieldRequirement[];
  errors: string[];
}

function parseNodeSelectorTerm(term: NodeSelectorTerm, path: string): ParsedTerm {
  const out: ParsedTerm = { errors: [] };
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length) {
    const reqs: LabelRequirement[] = [];
    exprs.forEach((x: NodeSelectorRequirement, i) => {
      const p = `${path}.matchExpressions[${i}]`;
      const op = NODE_OPERATORS[x.operator];
      if (!op) {
        out.errors.push(`${p}.operator: Unsupported value: ${JSON.stringify(x.operator)}`);
        return;
      }
      const values = x.values ?? [];
      out.errors.push(...requirementErrors(x.key, op, values, p));
      reqs.push({ key: x.key, operator: op, values });
    });
    out.labels = new RequirementsSelector(reqs);
  }
  if (fields.length) {
    out.fields = [];
    fields.forEach((x: NodeSelectorRequirement, i) => {
      const p = `${path}.matchFields[${i}]`;
      if (x.operator !== 'In' && x.operator !== 'NotIn') {
        out.errors.push(`${p}.operator: Unsupported value: ${JSON.stringify(x.operator)}: supported values: "In", "NotIn"`);
      } else if ((x.values ?? []).length !== 1) {
        out.errors.push(invalid(`${p}.values`, x.values ?? [], 'must have one element'));
      } else {
        out.fields!.push({ field: x.key, operator: x.operator === 'In' ? '=' : '!=', value: x.values![0]! });
      }
    });
  }
  return out;
}

const isEmptyTerm = (t: NodeSelectorTerm | null | undefined): boolean =>
  !t || ((t.matchExpressions ?? []).length === 0 && (t.matchFields ?? []).length === 0);

/**
 * Whether a node satisfies required node affinity: the terms are ORed, each term's expressions and
 * fields ANDed. An empty or null term matches nothing, so an empty list matches no node; a term
 * with an invalid requirement does not match (see nodeSelectorTermsErrors). `matchFields` only
 * constrain when `nodeFields` is non-empty (e.g. `{ 'metadata.name': node.metadata.name }`).
 */
export function matchNodeSelectorTerms(
  terms: readonly NodeSelectorTerm[] | null | undefined,
  nodeLabels: Record<string, string> | undefined,
  nodeFields?: Record<string, string>,
): boolean {
  const hasFields = nodeFields !== undefined && Object.keys(nodeFields).length > 0;
  return (terms ?? []).some((term, i) => {
    if (isEmptyTerm(term)) return false;
    const t = parseNodeSelectorTerm(term, `nodeSelectorTerms[${i}]`);
    if (t.errors.length) return false;
    if (t.labels && !t.labels.matches(nodeLabels)) return false;
    if (t.fields && hasFields && !t.fields.every((r) => fieldRequirementMatches(r, nodeFields!))) return false;
    return true;
  });
}

/** What is wrong with node selector terms, one message per problem (empty when all are valid). */
export function nodeSelectorTermsErrors(terms: readonly NodeSelectorTerm[] | null | undefined): string[] {
  return (terms ?? []).flatMap((t, i) => (isEmptyTerm(t) ? [] : parseNodeSelectorTerm(t, `nodeSelectorTerms[${i}]`).errors));
}

// ---------------------------------------------------------------------------------------------
// Field selectors (k8s.io/apimachinery/pkg/fields)

export interface FieldRequirement {
  readonly field: string;
  /** `==` parses to `=`, as in Kubernetes. */
  readonly operator: '=' | '!=';
  readonly value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  /** Evaluate against an object; its kind is the one given to parseFieldSelector, else `obj.kind`. */
  matches(obj: object): boolean;
  /** Evaluate against a ready field set (`{ 'metadata.name': 'web' }`); a missing field is "". */
  matchesFields(fields: Record<string, string>): boolean;
  empty(): boolean;
  toString(): string;
  requiresExactMatch(field: string): string | undefined;
}

type Getter = (o: any) => unknown;
const META: Record<string, Getter> = {
  'metadata.name': (o) => o.metadata?.name,
  'metadata.namespace': (o) => o.metadata?.namespace,
};
const CLUSTER_META: Record<string, Getter> = { 'metadata.name': META['metadata.name']! };

/** The selectable fields of each kind, as the Kubernetes registries define them. */
const FIELD_GETTERS: Record<string, Record<string, Getter>> = {
  Pod: {
    ...META,
    'spec.nodeName': (o) => o.spec?.nodeName,
    'spec.restartPolicy': (o) => o.spec?.restartPolicy,
    'spec.schedulerName': (o) => o.spec?.schedulerName,
    'spec.serviceAccountName': (o) => o.spec?.serviceAccountName,
    'spec.hostNetwork': (o) => Boolean(o.spec?.hostNetwork),
    'status.phase': (o) => o.status?.phase,
    'status.podIP': (o) => o.status?.podIPs?.[0]?.ip ?? o.status?.podIP,
    'status.nominatedNodeName': (o) => o.status?.nominatedNodeName,
  },
  Event: {
    ...META,
    'involvedObject.kind': (o) => o.involvedObject?.kind,
    'involvedObject.namespace': (o) => o.involvedObject?.namespace,
    'involvedObject.name': (o) => o.involvedObject?.name,
    'involvedObject.uid': (o) => o.involvedObject?.uid,
    'involvedObject.apiVersion': (o) => o.involvedObject?.apiVersion,
    'involvedObject.resourceVersion': (o) => o.involvedObject?.resourceVersion,
    'involvedObject.fieldPath': (o) => o.involvedObject?.fieldPath,
    reason: (o) => o.reason,
    reportingComponent: (o) => o.reportingComponent,
    source: (o) => o.source?.component || o.reportingComponent,
    type: (o) => o.type,
  },
  Secret: { ...META, type: (o) => o.type },
  Node: { ...CLUSTER_META, 'spec.unschedulable': (o) => Boolean(o.spec?.unschedulable) },
  Namespace: { ...CLUSTER_META, 'status.phase': (o) => o.status?.phase },
  ReplicaSet: { ...META, 'status.replicas': (o) => o.status?.replicas ?? 0 },
  ReplicationController: { ...META, 'status.replicas': (o) => o.status?.replicas ?? 0 },
  Job: { ...META, 'status.successful': (o) => o.status?.succeeded ?? 0 },
};

/** Old field names Kubernetes still accepts and converts. */
const FIELD_ALIASES: Record<string, Record<string, string>> = { Pod: { 'spec.host': 'spec.nodeName' } };

function gettersFor(kind: string | undefined): Record<string, Getter> {
  if (kind && FIELD_GETTERS[kind]) return FIELD_GETTERS[kind];
  const info = kind ? kindByName(kind) : undefined;
  return info && !info.namespaced ? CLUSTER_META : META;
}

/** Field names per kind that field selectors may use; any other kind supports `metadata.name` (+ `metadata.namespace` if namespaced). */
export const SUPPORTED_FIELDS: Readonly<Record<string, readonly string[]>> = Object.freeze(
  Object.fromEntries(Object.entries(FIELD_GETTERS).map(([k, g]) => [k, Object.freeze(Object.keys(g))])),
);

export function supportedFields(kind: string | undefined): readonly string[] {
  return Object.keys(gettersFor(kind));
}

/** The selectable field set of an object (values as strings; missing ones ""). */
export function objectFields(obj: object, kind?: string): Record<string, string> {
  const getters = gettersFor(kind ?? (obj as { kind?: string }).kind);
  const out: Record<string, string> = {};
  for (const [f, get] of Object.entries(getters)) {
    const v = get(obj);
    out[f] = v === undefined || v === null ? '' : String(v);
  }
  return out;
}

export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[i + 1];
      if (n === undefined) throw new SelectorError('invalid field selector: invalid escape sequence: \\');
      if (n !== '\\' && n !== ',' && n !== '=') {
        throw new SelectorError(`invalid field selector: invalid escape sequence: \\${n}`);
      }
      out += n;
      i++;
    } else if (c === ',' || c === '=') {
      throw new SelectorError(`invalid field selector: unescaped character in value: ${c}`);
    } else out += c;
  }
  return out;
}

/** Split on commas not escaped with a backslash (the escapes stay in the terms). */
function splitTerms(s: string): string[] {
  if (s === '') return [];
  const terms: string[] = [];
  let start = 0;
  let slash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (slash) slash = false;
    else if (c === '\\') slash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

/** At the first place any operator starts, trying `!=`, then `==`, then `=`. */
function splitTerm(term: string): [string, '=' | '!=', string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op === '!=' ? '!=' : '=', term.slice(i + op.length)];
    }
  }
  return undefined;
}

function fieldRequirementMatches(r: FieldRequirement, fields: Record<string, string>): boolean {
  const v = Object.hasOwn(fields, r.field) ? fields[r.field]! : '';
  return r.operator === '=' ? v === r.value : v !== r.value;
}

class FieldSelectorImpl implements FieldSelector {
  constructor(
    readonly requirements: readonly FieldRequirement[],
    private readonly kind: string | undefined,
  ) {}
  matches(obj: object): boolean {
    if (this.requirements.length === 0) return true;
    const kind = this.kind ?? (obj as { kind?: string }).kind;
    const fields = objectFields(obj, kind);
    for (const r of this.requirements) {
      if (!Object.hasOwn(fields, r.field)) throw new SelectorError(`field label not supported: ${r.field}`);
    }
    return this.matchesFields(fields);
  }
  matchesFields(fields: Record<string, string>): boolean {
    return this.requirements.every((r) => fieldRequirementMatches(r, fields));
  }
  empty(): boolean {
    return this.requirements.length === 0;
  }
  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(',');
  }
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.operator === '=')?.value;
  }
}

/**
 * Parse a field selector (`metadata.name=web,status.phase!=Running`; `\,` `\=` `\\` escape).
 * With a kind, fields the kind does not support are refused (`field label not supported: X`) and
 * old aliases are converted (Pod `spec.host` → `spec.nodeName`). Throws SelectorError.
 */
export function parseFieldSelector(s: string | undefined, kind?: string): FieldSelector {
  s ??= '';
  const parts = splitTerms(s).sort(byCodePoint);
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const t = splitTerm(part);
    if (!t) throw new SelectorError(`invalid selector: '${s}'; can't understand '${part}'`);
    let [field] = t;
    const [, operator, raw] = t;
    const value = unescapeFieldValue(raw);
    if (kind !== undefined) {
      field = FIELD_ALIASES[kind]?.[field] ?? field;
      if (!Object.hasOwn(gettersFor(kind), field)) throw new SelectorError(`field label not supported: ${field}`);
    }
    reqs.push({ field, operator, value });
  }
  return new FieldSelectorImpl(reqs, kind);
}
