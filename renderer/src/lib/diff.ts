/**
 * A line diff (LCS) for YAML previews: rows of `same`, `add` and `del` lines, with unchanged runs
 * longer than `context` collapsed. Large inputs fall back to a cheaper prefix/suffix diff.
 */
export interface DiffLine {
  type: 'same' | 'add' | 'del' | 'gap';
  text: string;
  /** Line numbers (1-based) in the old and new text. */
  a?: number;
  b?: number;
}

export function diffLines(oldText: string, newText: string, context = 3): DiffLine[] {
  const a = oldText ? oldText.replace(/\n$/, '').split('\n') : [];
  const b = newText ? newText.replace(/\n$/, '').split('\n') : [];
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  const out: DiffLine[] = [];
  for (let i = 0; i < pre; i++) out.push({ type: 'same', text: a[i]!, a: i + 1, b: i + 1 });
  if (am.length * bm.length > 4_000_000) {
    am.forEach((t, i) => out.push({ type: 'del', text: t, a: pre + i + 1 }));
    bm.forEach((t, i) => out.push({ type: 'add', text: t, b: pre + i + 1 }));
  } else {
    const n = am.length;
    const m = bm.length;
    const dp: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i]![j] = am[i] === bm[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        out.push({ type: 'same', text: am[i]!, a: pre + i + 1, b: pre + j + 1 });
        i++;
        j++;
      } else if (i < n && (j >= m || dp[i + 1]![j]! >= dp[i]![j + 1]!)) {
        out.push({ type: 'del', text: am[i]!, a: pre + i + 1 });
        i++;
      } else {
        out.push({ type: 'add', text: bm[j]!, b: pre + j + 1 });
        j++;
      }
    }
  }
  for (let k = suf; k > 0; k--) out.push({ type: 'same', text: a[a.length - k]!, a: a.length - k + 1, b: b.length - k + 1 });
  return collapse(out, context);
}

function collapse(lines: DiffLine[], context: number): DiffLine[] {
  if (context < 0) return lines;
  const keep = new Array<boolean>(lines.length).fill(false);
  lines.forEach((l, i) => {
    if (l.type !== 'same') for (let k = Math.max(0, i - context); k <= Math.min(lines.length - 1, i + context); k++) keep[k] = true;
  });
  const out: DiffLine[] = [];
  let skipped = 0;
  lines.forEach((l, i) => {
    if (keep[i]) {
      if (skipped) out.push({ type: 'gap', text: `⋯ ${skipped} unchanged line${skipped === 1 ? '' : 's'}` });
      skipped = 0;
      out.push(l);
    } else skipped++;
  });
  if (skipped) out.push({ type: 'gap', text: `⋯ ${skipped} unchanged line${skipped === 1 ? '' : 's'}` });
  return out;
}

export function diffStats(lines: DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const l of lines) {
    if (l.type === 'add') added++;
    else if (l.type === 'del') removed++;
  }
  return { added, removed };
}
