/**
 * Kubernetes `resource.Quantity`, exact: a BigInt unscaled value times a power of ten, never a float.
 *
 * Mirrors k8s.io/apimachinery/pkg/api/resource: the same grammar and quirks on parse ("1.", ".5",
 * "1.G" parse; "1K", " 1" do not), values kept down to nano and rounded away from zero below it,
 * BinarySI silently capped at 2^63-1 on parse, and String() in the canonical form Kubernetes
 * serializes (largest suffix of the remembered format that loses nothing: 1.5 → "1500m",
 * 1024Mi → "1Gi", 1.5Gi → "1536Mi", 1000E → "1e21").
 *
 * Deliberate desktop choice: a quantity of 10^1000 or more is rejected on parse (Kubernetes accepts
 * exponents up to 2^31-1, which would make an innocent `add` build a billion-digit number).
 */

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  readonly format: QuantityFormat;
  cmp(o: Quantity): -1 | 0 | 1;
  add(o: Quantity): Quantity;
  sub(o: Quantity): Quantity;
  mul(n: number | bigint): Quantity;
  isZero(): boolean;
  sign(): -1 | 0 | 1;
  /** ceil(q × 1000), rounded away from zero. */
  milliValue(): bigint;
  /** ceil(q), rounded away from zero. */
  value(): bigint;
  /** Approximate, for charts and metrics. */
  toNumber(): number;
  /** The canonical form Kubernetes serializes. */
  toString(): string;
}

export type ResourceList = Record<string, string>;

const SPLIT_RE = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const ERR_FORMAT = `quantities must match the regular expression '${SPLIT_RE}'`;
const ERR_NUMERIC = 'unable to parse numeric part of quantity';
const ERR_SUFFIX = "unable to parse quantity's suffix";
/** Values of this many decimal digits (before the point) or more are refused. */
const MAX_DIGITS = 1000;
const MAX_INT32 = 2147483647;
const MAX_INT64 = (1n << 63n) - 1n;
const NANO = -9;

/** A string Kubernetes would not accept as a quantity. `detail` is Kubernetes' own wording. */
export class QuantityError extends Error {
  readonly value: string;
  readonly detail: string;
  constructor(value: string, detail: string) {
    super(`invalid quantity ${JSON.stringify(value)}: ${detail}`);
    this.name = 'QuantityError';
    this.value = value;
    this.detail = detail;
  }
}

const pow10Cache: bigint[] = [];
function pow10(n: number): bigint {
  if (n < 64) return (pow10Cache[n] ??= 10n ** BigInt(n));
  return 10n ** BigInt(n);
}

const abs = (v: bigint): bigint => (v < 0n ? -v : v);
const digits = (v: bigint): number => abs(v).toString().length;
const sgn = (v: bigint): -1 | 0 | 1 => (v > 0n ? 1 : v < 0n ? -1 : 0);

/** Divide |u| by 10^k rounding away from zero, keeping u's sign. */
function divRoundUp(u: bigint, k: number): bigint {
  if (k <= 0) return u * pow10(-k);
  const a = abs(u);
  if (k > digits(a)) return a === 0n ? 0n : BigInt(sgn(u)); // |u| < 10^k: rounds up to one unit
  const d = pow10(k);
  let q = a / d;
  if (q * d !== a) q += 1n;
  return u < 0n ? -q : q;
}

class Q implements Quantity {
  /** value = u × 10^s; u carries no factor of ten (or is 0 with s = 0). */
  readonly u: bigint;
  readonly s: number;
  readonly format: QuantityFormat;
  private str?: string;

  constructor(u: bigint, s: number, format: QuantityFormat) {
    if (u === 0n) s = 0;
    else if (u % 10n === 0n) {
      let t = u.toString();
      let z = 0;
      while (t.endsWith('0')) {
        t = t.slice(0, -1);
        z++;
      }
      u = BigInt(t);
      s += z;
    }
    this.u = u;
    this.s = s;
    this.format = format;
  }

  cmp(o: Quantity): -1 | 0 | 1 {
    const b = asQ(o);
    const sa = sgn(this.u);
    const sb = sgn(b.u);
    if (sa !== sb) return sa > sb ? 1 : -1;
    if (sa === 0) return 0;
    // Same sign: the order of magnitude decides unless it is equal, then align (cheaply: the
    // exponent gap is at most the digit count).
    const ma = digits(this.u) + this.s;
    const mb = digits(b.u) + b.s;
    if (ma !== mb) return (ma > mb ? sa : -sa) as -1 | 1;
    const e = Math.min(this.s, b.s);
    return sgn(this.u * pow10(this.s - e) - b.u * pow10(b.s - e));
  }

  add(o: Quantity): Quantity {
    const b = asQ(o);
    const format = this.u === 0n ? b.format : this.format;
    if (b.u === 0n) return this.u === 0n ? new Q(0n, 0, format) : this;
    const e = Math.min(this.s, b.s);
    return new Q(this.u * pow10(this.s - e) + b.u * pow10(b.s - e), e, format);
  }

  sub(o: Quantity): Quantity {
    const b = asQ(o);
    const format = this.u === 0n ? b.format : this.format;
    const e = Math.min(this.s, b.s);
    return new Q(this.u * pow10(this.s - e) - b.u * pow10(b.s - e), e, format);
  }

  mul(n: number | bigint): Quantity {
    if (typeof n === 'bigint') return new Q(this.u * n, this.s, this.format);
    if (!Number.isFinite(n)) throw new RangeError(`cannot multiply a quantity by ${n}`);
    if (Number.isSafeInteger(n)) return new Q(this.u * BigInt(n), this.s, this.format);
    // A fractional factor counts as its shortest decimal spelling; the product is kept to nano
    // and rounded away from zero, as parsing does.
    const f = decimalOf(String(n));
    return nanoRounded(this.u * f.u, this.s + f.s, this.format);
  }

  isZero(): boolean {
    return this.u === 0n;
  }

  sign(): -1 | 0 | 1 {
    return sgn(this.u);
  }

  milliValue(): bigint {
    return divRoundUp(this.u, -3 - this.s);
  }

  value(): bigint {
    return divRoundUp(this.u, -this.s);
  }

  toNumber(): number {
    return Number.parseFloat(`${this.u}e${this.s}`);
  }

  toString(): string {
    return (this.str ??= canonical(this));
  }

  toJSON(): string {
    return this.toString();
  }
}

function asQ(o: Quantity): Q {
  if (o instanceof Q) return o;
  return parseQuantity(o.toString()) as Q;
}

/** An exact decimal spelling (`-12.5`, `1e-7`) as u × 10^s. */
function decimalOf(s: string): { u: bigint; s: number } {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(s);
  if (!m) throw new RangeError(`not a decimal number: ${s}`);
  const frac = m[3] ?? '';
  const u = BigInt(`${m[1]}${m[2] || '0'}${frac}`);
  return { u, s: Number(m[4] ?? 0) - frac.length };
}

function nanoRounded(u: bigint, s: number, format: QuantityFormat): Q {
  if (s >= NANO || u === 0n) return new Q(u, s, format);
  return new Q(divRoundUp(u, NANO - s), NANO, format);
}

// ---------------------------------------------------------------------------------------------
// Parsing

const DEC_SUFFIX: Record<string, number> = { '': 0, n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BIN_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const SUFFIX_CHARS = 'eEinumkKMGTP';

interface Scanned {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

/** Kubernetes' parseQuantityString: sign, digits, optional fraction, then a suffix-shaped tail. */
function scan(str: string): Scanned | undefined {
  let pos = 0;
  const end = str.length;
  let positive = true;
  if (str[0] === '-') {
    positive = false;
    pos++;
  } else if (str[0] === '+') pos++;
  while (pos < end && str[pos] === '0') pos++;
  const numStart = pos;
  while (pos < end && isDigit(str[pos]!)) pos++;
  const num = str.slice(numStart, pos) || '0';
  let denom = '';
  if (pos < end && str[pos] === '.') {
    const ds = ++pos;
    while (pos < end && isDigit(str[pos]!)) pos++;
    denom = str.slice(ds, pos);
  }
  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(str[pos]!)) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str[pos]!)) pos++;
  if (pos < end) return undefined;
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function interpret(suffix: string): { base: 2 | 10; exp: number; format: QuantityFormat } | undefined {
  const d = DEC_SUFFIX[suffix];
  if (d !== undefined) return { base: 10, exp: d, format: 'DecimalSI' };
  const b = BIN_SUFFIX[suffix];
  if (b !== undefined) return { base: 2, exp: b, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?\d+$/.test(suffix.slice(1))) {
    const n = BigInt(suffix.slice(1));
    // Kubernetes parses the exponent as int64 and refuses anything outside ±(2^31-1).
    if (n > BigInt(MAX_INT32) || n < -BigInt(MAX_INT32)) return undefined;
    return { base: 10, exp: Number(n), format: 'DecimalExponent' };
  }
  return undefined;
}

/** Parse a quantity as Kubernetes does; a number is read as its JavaScript spelling. */
export function parseQuantity(s: string | number): Quantity {
  if (typeof s === 'number') {
    if (!Number.isFinite(s)) throw new QuantityError(String(s), ERR_NUMERIC);
    s = String(s);
  }
  if (typeof s !== 'string' || s.length === 0) throw new QuantityError(String(s ?? ''), ERR_FORMAT);
  if (s === '0') return ZERO;
  const sc = scan(s);
  if (!sc) throw new QuantityError(s, ERR_FORMAT);
  const suf = interpret(sc.suffix);
  if (!suf) throw new QuantityError(s, ERR_SUFFIX);

  let u = BigInt(sc.num + sc.denom);
  if (!sc.positive) u = -u;
  let q: Q;
  if (suf.base === 10) {
    const mag = u === 0n ? 0 : digits(u) + suf.exp - sc.denom.length;
    if (mag > MAX_DIGITS) throw new QuantityError(s, `quantities of 10^${MAX_DIGITS} or more are not supported`);
    q = nanoRounded(u, suf.exp - sc.denom.length, suf.format);
  } else {
    if (u !== 0n && digits(u) - sc.denom.length > MAX_DIGITS) {
      throw new QuantityError(s, `quantities of 10^${MAX_DIGITS} or more are not supported`);
    }
    q = nanoRounded(u << BigInt(suf.exp), -sc.denom.length, 'BinarySI');
    // Kubernetes caps binary quantities at 2^63-1 (silently), and shows a non-zero value below one
    // as DecimalSI.
    if (q.cmp(MAX_BINARY) > 0) q = new Q(MAX_INT64, 0, 'BinarySI');
    else if (q.cmp(MIN_BINARY) < 0) q = new Q(-MAX_INT64, 0, 'BinarySI');
    if (!q.isZero() && q.cmp(ONE) < 0 && q.cmp(MINUS_ONE) > 0) q = new Q(q.u, q.s, 'DecimalSI');
  }
  return q;
}

const ZERO = new Q(0n, 0, 'DecimalSI');
const ONE = new Q(1n, 0, 'DecimalSI');
const MINUS_ONE = new Q(-1n, 0, 'DecimalSI');
const MAX_BINARY = new Q(MAX_INT64, 0, 'BinarySI');
const MIN_BINARY = new Q(-MAX_INT64, 0, 'BinarySI');

export function tryParseQuantity(s: string | number | null | undefined): Quantity | undefined {
  if (s === null || s === undefined) return undefined;
  try {
    return parseQuantity(s);
  } catch (e) {
    if (e instanceof QuantityError) return undefined;
    throw e;
  }
}

export function isValidQuantity(s: unknown): boolean {
  return (typeof s === 'string' || typeof s === 'number') && tryParseQuantity(s) !== undefined;
}

function exactFrom(n: bigint | number, scale: number, format: QuantityFormat): Quantity {
  if (typeof n === 'bigint') return new Q(n, scale, format);
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  const d = decimalOf(String(n));
  return nanoRounded(d.u, d.s + scale, format);
}

/** m thousandths, DecimalSI (Kubernetes' NewMilliQuantity). */
export function quantityFromMilli(m: bigint | number): Quantity {
  return exactFrom(m, -3, 'DecimalSI');
}

/** n bytes, BinarySI (Kubernetes' NewQuantity(n, BinarySI)). */
export function quantityFromBytes(n: bigint | number): Quantity {
  return exactFrom(n, 0, 'BinarySI');
}

export function cmpQuantity(a: string, b: string): -1 | 0 | 1 {
  return parseQuantity(a).cmp(parseQuantity(b));
}

/** The sum; `undefined` entries are skipped, and an empty list sums to "0". */
export function sumQuantities(xs: ReadonlyArray<string | number | Quantity | undefined>): Quantity {
  let total: Quantity = ZERO;
  for (const x of xs) {
    if (x === undefined) continue;
    total = total.add(typeof x === 'object' ? x : parseQuantity(x));
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Serialization (CanonicalizeBytes)

const DEC_BY_EXP = new Map(Object.entries(DEC_SUFFIX).map(([k, v]) => [v, k]));
const BIN_BY_EXP = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

function canonical(q: Q): string {
  if (q.u === 0n) return '0';
  const sign = q.u < 0n ? '-' : '';
  const a = abs(q.u);
  let format = q.format;
  if (format === 'BinarySI') {
    // Below 1024 in magnitude, or with a fraction, binary would round: show DecimalSI instead.
    const below1024 = q.s <= 3 && a * pow10(q.s + 9) < 1024n * pow10(9);
    if (below1024 || q.s < 0) format = 'DecimalSI';
    else {
      let v = a * pow10(q.s);
      let e = 0;
      while (v % 1024n === 0n && e < BIN_BY_EXP.length) {
        v /= 1024n;
        e++;
      }
      // Past Ei there is no binary suffix: Kubernetes falls back to the exact decimal form.
      if (e < BIN_BY_EXP.length) return `${sign}${v}${BIN_BY_EXP[e]}`;
      format = 'DecimalSI';
    }
  }
  // Largest exponent that is a multiple of three and loses nothing.
  const r = ((q.s % 3) + 3) % 3;
  const m = a * pow10(r);
  const e = q.s - r;
  let suffix: string;
  if (format === 'DecimalSI') suffix = DEC_BY_EXP.get(e) ?? `e${e}`;
  else suffix = e === 0 ? '' : `e${e}`;
  return `${sign}${m}${suffix}`;
}

// ---------------------------------------------------------------------------------------------
// Resource lists

function q(list: ResourceList | undefined, name: string): Quantity | undefined {
  const v = list?.[name];
  return v === undefined ? undefined : parseQuantity(v);
}

/** Every resource of either list, summed (quota.Add). */
export function addResourceLists(a: ResourceList | undefined, b: ResourceList | undefined): ResourceList {
  const out: ResourceList = {};
  for (const name of new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])) {
    out[name] = sumQuantities([q(a, name), q(b, name)]).toString();
  }
  return out;
}

/** a − b for every resource of either list; one only in b comes out negated (quota.Subtract). */
export function subResourceLists(a: ResourceList | undefined, b: ResourceList | undefined): ResourceList {
  const out: ResourceList = {};
  for (const name of new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])) {
    out[name] = (q(a, name) ?? ZERO).sub(q(b, name) ?? ZERO).toString();
  }
  return out;
}

/**
 * The names of the requested resources that exceed what is available, sorted. A resource missing
 * from `available` counts as zero available (a node without `nvidia.com/gpu` has none), so only a
 * positive request for it fails; zero and negative requests always fit.
 */
export function fitsIn(req: ResourceList | undefined, available: ResourceList | undefined): string[] {
  const short: string[] = [];
  for (const name of Object.keys(req ?? {})) {
    const want = q(req, name)!;
    if (want.sign() <= 0) continue;
    if (want.cmp(q(available, name) ?? ZERO) > 0) short.push(name);
  }
  return short.sort();
}
