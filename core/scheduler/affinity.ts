/**
 * Compiled forms of the scheduling constraints a pod carries, built once per pod so that
 * filtering thousands of nodes never re-parses a selector:
 * - node selectors (`spec.nodeSelector` and required/preferred node affinity terms, with the
 *   In/NotIn/Exists/DoesNotExist/Gt/Lt operators and `matchFields` on metadata.name);
 * - pod affinity terms (label selector, namespaces or namespace selector, topology key);
 * - tolerations against taints (v1helper.ToleratesTaint).
 */
import { labelSelectorFromObject, nothing, type Selector } from '../api/selectors.ts';

export type Labels = Record<string, string>;
const EMPTY: Labels = Object.freeze({}) as Labels;

// ---- node selectors ---------------------------------------------------------------------------

type Req = (labels: Labels, name: string) => boolean;

function compileRequirement(r: any, field: boolean): Req | null {
  const key: string = r?.key ?? '';
  const values: string[] = Array.isArray(r?.values) ? r.values.map(String) : [];
  if (field) {
    if (key !== 'metadata.name' || values.length !== 1) return null;
    const v = values[0]!;
    if (r.operator === 'In') return (_l, name) => name === v;
    if (r.operator === 'NotIn') return (_l, name) => name !== v;
    return null;
  }
  switch (r?.operator) {
    case 'In': {
      if (!values.length) return null;
      const set = new Set(values);
      return (l) => l[key] !== undefined && set.has(l[key]!);
    }
    case 'NotIn': {
      const set = new Set(values);
      return (l) => l[key] === undefined || !set.has(l[key]!);
    }
    case 'Exists':
      return values.length ? null : (l) => l[key] !== undefined;
    case 'DoesNotExist':
      return values.length ? null : (l) => l[key] === undefined;
    case 'Gt':
    case 'Lt': {
      if (values.length !== 1 || !/^-?\d+$/.test(values[0]!)) return null;
      const bound = Number(values[0]);
      const gt = r.operator === 'Gt';
      return (l) => {
        const v = l[key];
        if (v === undefined || !/^-?\d+$/.test(v)) return false;
        return gt ? Number(v) > bound : Number(v) < bound;
      };
    }
    default:
      return null;
  }
}

/** One NodeSelectorTerm: all its requirements ANDed; an empty or invalid term matches nothing. */
function compileTerm(term: any): Req | null {
  const exprs: any[] = term?.matchExpressions ?? [];
  const fields: any[] = term?.matchFields ?? [];
  if (!exprs.length && !fields.length) return null;
  const reqs: Req[] = [];
  for (const e of exprs) {
    const r = compileRequirement(e, false);
    if (!r) return null;
    reqs.push(r);
  }
  for (const f of fields) {
    const r = compileRequirement(f, true);
    if (!r) return null;
    reqs.push(r);
  }
  return (l, n) => {
    for (const r of reqs) if (!r(l, n)) return false;
    return true;
  };
}

export interface NodeMatcher {
  matches(labels: Labels | undefined, nodeName: string): boolean;
}

/** NodeSelectorTerms ORed (required node affinity, PV node affinity). */
export function compileNodeSelectorTerms(terms: any[] | undefined | null): NodeMatcher {
  const compiled = (terms ?? []).map(compileTerm).filter((t): t is Req => t !== null);
  return {
    matches(labels, name) {
      const l = labels ?? EMPTY;
      for (const t of compiled) if (t(l, name)) return true;
      return false;
    },
  };
}

export interface PreferredNodeTerm {
  weight: number;
  matches(labels: Labels | undefined, nodeName: string): boolean;
}

export function compilePreferredNodeTerms(terms: any[] | undefined | null): PreferredNodeTerm[] {
  const out: PreferredNodeTerm[] = [];
  for (const t of terms ?? []) {
    const weight = Number(t?.weight ?? 0);
    const m = compileTerm(t?.preference);
    if (!weight || !m) continue;
    out.push({ weight, matches: (labels, name) => m(labels ?? EMPTY, name) });
  }
  return out;
}

/**
 * The required node constraints of a pod: `spec.nodeSelector` AND (any of) the required node
 * affinity terms. undefined when the pod has neither.
 */
export function compileRequiredNodeAffinity(pod: any): NodeMatcher | undefined {
  const selector: Labels | undefined = pod?.spec?.nodeSelector;
  const selEntries = selector ? Object.entries(selector) : [];
  const required = pod?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!selEntries.length && !required) return undefined;
  const terms = required ? compileNodeSelectorTerms(required.nodeSelectorTerms) : undefined;
  return {
    matches(labels, name) {
      const l = labels ?? EMPTY;
      for (const [k, v] of selEntries) if (l[k] !== v) return false;
      return terms ? terms.matches(l, name) : true;
    },
  };
}

// ---- tolerations ---------------------------------------------------------------------------

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

export function tolerationsTolerate(ts: readonly Toleration[], taint: Taint): boolean {
  for (const t of ts) if (toleratesTaint(t, taint)) return true;
  return false;
}

// ---- pod affinity terms -------------------------------------------------------------------

/** A PodAffinityTerm ready to match: framework.AffinityTerm. */
export interface AffinityTerm {
  selector: Selector;
  /** Namespaces named by the term (or the pod's own when neither list nor selector is given). */
  namespaces: ReadonlySet<string>;
  /** `namespaceSelector`; `nothing()` when absent, everything for `{}`. */
  namespaceSelector: Selector;
  topologyKey: string;
  weight: number;
}

export function compileAffinityTerm(podNamespace: string, term: any, weight = 0): AffinityTerm | undefined {
  if (!term || typeof term.topologyKey !== 'string' || !term.topologyKey) return undefined;
  let selector: Selector;
  let namespaceSelector: Selector;
  try {
    selector = labelSelectorFromObject(term.labelSelector);
    namespaceSelector = term.namespaceSelector ? labelSelectorFromObject(term.namespaceSelector) : nothing();
  } catch {
    return undefined; // an invalid selector matches nothing (validation rejects it anyway)
  }
  const names: string[] = Array.isArray(term.namespaces) ? term.namespaces : [];
  const namespaces = new Set(names.length === 0 && !term.namespaceSelector ? [podNamespace] : names);
  return { selector, namespaces, namespaceSelector, topologyKey: term.topologyKey, weight };
}

/** Whether a pod (namespace + labels) is selected by the term. */
export function termMatches(t: AffinityTerm, namespace: string, labels: Labels | undefined, nsLabels: Labels | undefined): boolean {
  if (!t.namespaces.has(namespace) && !t.namespaceSelector.matches(nsLabels ?? EMPTY)) return false;
  return t.selector.matches(labels ?? EMPTY);
}
