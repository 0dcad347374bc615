/**
 * How deeply a decoded JSON value nests, measured without recursion (so a hostile body cannot
 * overflow the stack while being measured). Every way into the API layer refuses values nested
 * deeper than MAX_NESTING — as the YAML import does — before anything recursive touches them.
 */
export const MAX_NESTING = 100;

export function exceedsDepth(value: unknown, limit = MAX_NESTING): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d >= limit) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (x !== null && typeof x === 'object') stack.push([x, d + 1]);
  }
  return false;
}
