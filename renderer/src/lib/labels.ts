/**
 * Label selectors typed in the filter box: `app=web,tier!=db,canary,!legacy,env in (a,b)`.
 * Returns a predicate, or an error message for a selector that cannot be read.
 */
export type LabelPredicate = (labels: Record<string, string>) => boolean;

export function parseSelector(text: string): { match: LabelPredicate } | { error: string } {
  const s = text.trim();
  if (!s) return { match: () => true };
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  const preds: LabelPredicate[] = [];
  for (const raw of parts) {
    const p = raw.trim();
    if (!p) return { error: 'empty requirement' };
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p))) {
      const [, k, op, list] = m;
      const vals = list!.split(',').map((v) => v.trim());
      preds.push(op === 'in' ? (l) => k! in l && vals.includes(l[k!]!) : (l) => !(k! in l) || !vals.includes(l[k!]!));
    } else if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(p))) {
      const [, k, op, v] = m;
      preds.push(op === '!=' ? (l) => l[k!] !== v : (l) => l[k!] === v);
    } else if ((m = /^!([\w./-]+)$/.exec(p))) {
      const k = m[1]!;
      preds.push((l) => !(k in l));
    } else if ((m = /^([\w./-]+)$/.exec(p))) {
      const k = m[1]!;
      preds.push((l) => k in l);
    } else return { error: `cannot read "${p}"` };
  }
  return { match: (l) => preds.every((f) => f(l)) };
}

export function matchesSelector(sel: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined, labels: Record<string, string>): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = e.key in labels;
    const v = labels[e.key];
    if (e.operator === 'In' && !(has && e.values?.includes(v!))) return false;
    if (e.operator === 'NotIn' && has && e.values?.includes(v!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
