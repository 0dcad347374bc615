import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  QuantityError,
  addResourceLists,
  cmpQuantity,
  fitsIn,
  isValidQuantity,
  parseQuantity,
  quantityFromBytes,
  quantityFromMilli,
  subResourceLists,
  sumQuantities,
  tryParseQuantity,
  type Quantity,
  type QuantityFormat,
} from '../../../core/api/quantity.ts';

/** The exact value u × 10^e in the given format (built only through the public API). */
function make(u: bigint, e: number, format: QuantityFormat): Quantity {
  const v = parseQuantity(`${u}e${e}`); // DecimalExponent, exact down to nano
  if (format === 'DecimalExponent') return v;
  // A non-zero receiver keeps its format through add/sub.
  const base = format === 'BinarySI' ? quantityFromBytes(123457n) : quantityFromMilli(123457n);
  return base.add(v).sub(base);
}

const MAX_INT64 = 9223372036854775807n;

describe('parseQuantity (Kubernetes TestQuantityParse)', () => {
  // [input, exact value as "u e exp", format]
  const table: Array<[string, bigint, number, QuantityFormat]> = [
    ['0', 0n, 0, 'DecimalSI'],
    ['0n', 0n, 0, 'DecimalSI'],
    ['0u', 0n, 0, 'DecimalSI'],
    ['0m', 0n, 0, 'DecimalSI'],
    ['0Ki', 0n, 0, 'BinarySI'],
    ['0k', 0n, 0, 'DecimalSI'],
    ['0Mi', 0n, 0, 'BinarySI'],
    ['0M', 0n, 0, 'DecimalSI'],
    ['0Gi', 0n, 0, 'BinarySI'],
    ['0G', 0n, 0, 'DecimalSI'],
    ['0Ti', 0n, 0, 'BinarySI'],
    ['0T', 0n, 0, 'DecimalSI'],
    ['1', 1n, 0, 'DecimalSI'],
    // binary suffixes
    ['1Ki', 1024n, 0, 'BinarySI'],
    ['8Ki', 8n * 1024n, 0, 'BinarySI'],
    ['7Mi', 7n * 1024n ** 2n, 0, 'BinarySI'],
    ['6Gi', 6n * 1024n ** 3n, 0, 'BinarySI'],
    ['5Ti', 5n * 1024n ** 4n, 0, 'BinarySI'],
    ['4Pi', 4n * 1024n ** 5n, 0, 'BinarySI'],
    ['3Ei', 3n * 1024n ** 6n, 0, 'BinarySI'],
    ['10Ti', 10n * 1024n ** 4n, 0, 'BinarySI'],
    ['100Ti', 100n * 1024n ** 4n, 0, 'BinarySI'],
    // decimal suffixes
    ['5n', 5n, -9, 'DecimalSI'],
    ['4u', 4n, -6, 'DecimalSI'],
    ['3m', 3n, -3, 'DecimalSI'],
    ['9', 9n, 0, 'DecimalSI'],
    ['8k', 8n, 3, 'DecimalSI'],
    ['50k', 5n, 4, 'DecimalSI'],
    ['7M', 7n, 6, 'DecimalSI'],
    ['6G', 6n, 9, 'DecimalSI'],
    ['5T', 5n, 12, 'DecimalSI'],
    ['40T', 4n, 13, 'DecimalSI'],
    ['300T', 3n, 14, 'DecimalSI'],
    ['2P', 2n, 15, 'DecimalSI'],
    ['1E', 1n, 18, 'DecimalSI'],
    // decimal exponents
    ['1E-3', 1n, -3, 'DecimalExponent'],
    ['1e3', 1n, 3, 'DecimalExponent'],
    ['1E6', 1n, 6, 'DecimalExponent'],
    ['1e9', 1n, 9, 'DecimalExponent'],
    ['1E12', 1n, 12, 'DecimalExponent'],
    ['1e15', 1n, 15, 'DecimalExponent'],
    ['1E18', 1n, 18, 'DecimalExponent'],
    ['1e14', 1n, 14, 'DecimalExponent'],
    ['1e13', 1n, 13, 'DecimalExponent'],
    ['100.035k', 100035n, 0, 'DecimalSI'],
    // things that look like floating point
    ['0.001', 1n, -3, 'DecimalSI'],
    ['0.0005k', 5n, -1, 'DecimalSI'],
    ['0.005', 5n, -3, 'DecimalSI'],
    ['0.05', 5n, -2, 'DecimalSI'],
    ['0.5', 5n, -1, 'DecimalSI'],
    ['0.00050k', 5n, -1, 'DecimalSI'],
    ['0.00500', 5n, -3, 'DecimalSI'],
    ['0.05000', 5n, -2, 'DecimalSI'],
    ['0.50000', 5n, -1, 'DecimalSI'],
    ['0.5e0', 5n, -1, 'DecimalExponent'],
    ['0.5e-1', 5n, -2, 'DecimalExponent'],
    ['0.5e-2', 5n, -3, 'DecimalExponent'],
    ['10.035M', 10035n, 3, 'DecimalSI'],
    ['1.2e3', 12n, 2, 'DecimalExponent'],
    ['1.3E+6', 13n, 5, 'DecimalExponent'],
    ['1.40e9', 14n, 8, 'DecimalExponent'],
    ['1.53E12', 153n, 10, 'DecimalExponent'],
    ['1.6e15', 16n, 14, 'DecimalExponent'],
    ['1.7E18', 17n, 17, 'DecimalExponent'],
    ['9.01', 901n, -2, 'DecimalSI'],
    ['8.1k', 81n, 2, 'DecimalSI'],
    ['7.123456M', 7123456n, 0, 'DecimalSI'],
    ['6.987654321G', 6987654321n, 0, 'DecimalSI'],
    ['5.444T', 5444n, 9, 'DecimalSI'],
    ['40.1T', 401n, 11, 'DecimalSI'],
    ['300.2T', 3002n, 11, 'DecimalSI'],
    ['2.5P', 25n, 14, 'DecimalSI'],
    ['1.01E', 101n, 16, 'DecimalSI'],
    // things that saturate / round (up, away from zero, to nano)
    ['3.001n', 4n, -9, 'DecimalSI'],
    ['1.1E-9', 2n, -9, 'DecimalExponent'],
    ['0.0000000001', 1n, -9, 'DecimalSI'],
    ['0.0000000005', 1n, -9, 'DecimalSI'],
    ['0.00000000050', 1n, -9, 'DecimalSI'],
    ['0.5e-9', 1n, -9, 'DecimalExponent'],
    ['0.9n', 1n, -9, 'DecimalSI'],
    ['0.00000012345', 124n, -9, 'DecimalSI'],
    ['0.00000012354', 124n, -9, 'DecimalSI'],
    ['9Ei', MAX_INT64, 0, 'BinarySI'],
    ['9223372036854775807Ki', MAX_INT64, 0, 'BinarySI'],
    ['12E', 12n, 18, 'DecimalSI'],
    // fractional binary
    ['100.035Ki', 10243584n, -2, 'BinarySI'],
    ['0.5Mi', 524288n, 0, 'BinarySI'],
    ['0.05Gi', 536870912n, -1, 'BinarySI'],
    ['0.025Ti', 274877906944n, -1, 'BinarySI'],
    // things written by trolls
    ['0.000000000001Ki', 2n, -9, 'DecimalSI'], // rounds up, changes format
    ['.001', 1n, -3, 'DecimalSI'],
    ['.0001k', 100n, -3, 'DecimalSI'],
    ['1.', 1n, 0, 'DecimalSI'],
    ['1.G', 1n, 9, 'DecimalSI'],
    ['.', 0n, 0, 'DecimalSI'],
    ['-.', 0n, 0, 'DecimalSI'],
  ];

  for (const [input, u, e, format] of table) {
    it(`${input} = ${u}e${e} (${format})`, () => {
      const q = parseQuantity(input);
      expect(q.cmp(make(u, e, format))).toBe(0);
      expect(q.format).toBe(format);
      // with an explicit sign
      const plus = parseQuantity(`+${input.replace(/^-/, '')}`);
      expect(plus.format).toBe(format);
      if (!input.startsWith('-')) {
        expect(plus.cmp(q)).toBe(0);
        const minus = parseQuantity(`-${input}`);
        expect(minus.cmp(make(-u, e, format))).toBe(0);
        expect(minus.format).toBe(format);
      }
    });
  }

  it('rejects what Kubernetes rejects, naming the value', () => {
    for (const bad of ['', '1.1.M', '1+1.0M', '0.1mi', '0.1am', 'aoeu', '.5i', '1i', '-3.01i', '-3.01e-', '1e4294967297', ' 1', '1 ', '1K', '1kb', '10 Mi', 'Infinity']) {
      expect(() => parseQuantity(bad), bad).toThrow(QuantityError);
      expect(tryParseQuantity(bad)).toBeUndefined();
      expect(isValidQuantity(bad)).toBe(false);
    }
    expect(() => parseQuantity('aoeu')).toThrow(
      `invalid quantity "aoeu": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    );
    expect(() => parseQuantity('1K')).toThrow(`invalid quantity "1K": unable to parse quantity's suffix`);
    try {
      parseQuantity('12 cores');
    } catch (e) {
      expect(e).toBeInstanceOf(QuantityError);
      expect((e as QuantityError).value).toBe('12 cores');
      expect((e as QuantityError).detail).toMatch(/^quantities must match/);
    }
    expect(() => parseQuantity(Number.NaN)).toThrow(QuantityError);
  });

  it('accepts the exponent range Kubernetes accepts, and refuses absurd magnitudes', () => {
    expect(parseQuantity('-.484785E-7466').toString()).toBe('-1e-9');
    expect(parseQuantity('1e-2147483647').toString()).toBe('1e-9');
    expect(() => parseQuantity('1e2147483647')).toThrow(/10\^1000/);
    expect(parseQuantity('1e999').toString()).toBe('1e999');
  });

  it('reads numbers (YAML `cpu: 2`, `cpu: 0.5`)', () => {
    expect(parseQuantity(2).toString()).toBe('2');
    expect(parseQuantity(0.5).toString()).toBe('500m');
    expect(parseQuantity(-1.5).toString()).toBe('-1500m');
    expect(parseQuantity(1e21).toString()).toBe('1e21');
    expect(parseQuantity(1e21).format).toBe('DecimalExponent');
    expect(isValidQuantity(3)).toBe(true);
    expect(isValidQuantity(undefined)).toBe(false);
    expect(isValidQuantity({})).toBe(false);
  });
});

describe('toString (Kubernetes TestQuantityString / TestQuantityParseEmit)', () => {
  const table: Array<[bigint, number, QuantityFormat, string, string?]> = [
    [1024n ** 3n, 0, 'BinarySI', '1Gi', '1024Mi'],
    [300n * 1024n ** 2n, 0, 'BinarySI', '300Mi', '307200Ki'],
    [6n * 1024n, 0, 'BinarySI', '6Ki'],
    [1001n * 1024n ** 3n, 0, 'BinarySI', '1001Gi', '1025024Mi'],
    [1024n ** 4n, 0, 'BinarySI', '1Ti', '1024Gi'],
    [5n, 0, 'BinarySI', '5', '5000m'],
    [500n, -3, 'BinarySI', '500m', '0.5'],
    [1n, 9, 'DecimalSI', '1G', '1000M'],
    [1000n, 6, 'DecimalSI', '1G', '0.001T'],
    [1000000n, 3, 'DecimalSI', '1G'],
    [1000000000n, 0, 'DecimalSI', '1G'],
    [1n, -3, 'DecimalSI', '1m', '1000u'],
    [80n, -3, 'DecimalSI', '80m'],
    [1080n, -3, 'DecimalSI', '1080m', '1.08'],
    [108n, -2, 'DecimalSI', '1080m', '1080000000n'],
    [10800n, -4, 'DecimalSI', '1080m'],
    [300n, 6, 'DecimalSI', '300M'],
    [1n, 12, 'DecimalSI', '1T'],
    [1n, 18, 'DecimalSI', '1E'],
    [1n, 21, 'DecimalSI', '1e21', '1000E'],
    [5n, 21, 'DecimalSI', '5e21', '5000E'],
    [1n, 24, 'DecimalSI', '1e24', '1000000E'],
    [1n, 70, 'BinarySI', '10e69'],
    [2n, 70, 'BinarySI', '20e69'],
    [1n, 72, 'BinarySI', '1e72'],
    [1234567n, 6, 'DecimalSI', '1234567M'],
    [1234567n, -3, 'BinarySI', '1234567m'],
    [3n, 3, 'DecimalSI', '3k'],
    [1025n, 0, 'BinarySI', '1025'],
    [0n, 0, 'DecimalSI', '0'],
    [0n, 0, 'BinarySI', '0'],
    [1n, 9, 'DecimalExponent', '1e9', '.001e12'],
    [1n, -3, 'DecimalExponent', '1e-3', '0.001e0'],
    [1n, -9, 'DecimalExponent', '1e-9', '1000e-12'],
    [80n, -3, 'DecimalExponent', '80e-3'],
    [300n, 6, 'DecimalExponent', '300e6'],
    [1n, 12, 'DecimalExponent', '1e12'],
    [1n, 3, 'DecimalExponent', '1e3'],
    [3n, 3, 'DecimalExponent', '3e3'],
    [0n, 0, 'DecimalExponent', '0', '00'],
    [1n, -9, 'DecimalSI', '1n'],
    [80n, -9, 'DecimalSI', '80n'],
    [1080n, -9, 'DecimalSI', '1080n'],
    [108n, -8, 'DecimalSI', '1080n'],
    [10800n, -10, 'DecimalSI', '1080n'],
    [1n, -6, 'DecimalSI', '1u'],
    [80n, -6, 'DecimalSI', '80u'],
    [1080n, -6, 'DecimalSI', '1080u'],
  ];
  for (const [u, e, format, expected, alternate] of table) {
    it(`${u}e${e} ${format} → ${expected}`, () => {
      const q = make(u, e, format);
      expect(q.toString()).toBe(expected);
      expect(parseQuantity(expected).toString()).toBe(expected);
      if (alternate) expect(parseQuantity(alternate).toString()).toBe(expected);
      if (u !== 0n) expect(make(-u, e, format).toString()).toBe(`-${expected}`);
    });
  }

  it('canonicalizes what users write', () => {
    const emit: Array<[string, string]> = [
      ['1Ki', '1Ki'],
      ['1Mi', '1Mi'],
      ['1Gi', '1Gi'],
      ['1024Mi', '1Gi'],
      ['1000M', '1G'],
      ['.001Ki', '1024m'],
      ['.000001Ki', '1024u'],
      ['.000000001Ki', '1024n'],
      ['.000000000001Ki', '2n'],
      ['1500m', '1500m'],
      ['1.5', '1500m'],
      ['1.5Gi', '1536Mi'],
      ['2e3', '2e3'],
      ['1000m', '1'],
      ['100.035Ki', '102435840m'],
      ['0.5Gi', '512Mi'],
      ['128974848', '128974848'],
      ['129e6', '129e6'],
      ['123Mi', '123Mi'],
      ['9Ei', '9223372036854775807'],
    ];
    for (const [input, out] of emit) {
      expect(parseQuantity(input).toString(), input).toBe(out);
      if (out !== '0') expect(parseQuantity(`-${input}`).toString(), `-${input}`).toBe(`-${out}`);
    }
  });

  it('keeps a BinarySI integer without a binary factor as is (TestBinarySIZeroExponentString)', () => {
    expect(make(2000n, 0, 'BinarySI').toString()).toBe('2000');
    expect(make(-2000n, 0, 'BinarySI').toString()).toBe('-2000');
    expect(parseQuantity('2000').toString()).toBe('2k'); // the same value parsed is DecimalSI
  });

  it('serializes as its string in JSON', () => {
    expect(JSON.stringify({ cpu: parseQuantity('1.5') })).toBe('{"cpu":"1500m"}');
  });

  it('falls back to exact decimal past Ei (Kubernetes TestBinarySIPastEiArithmeticRoundTrip)', () => {
    const q = parseQuantity('1Ei').mul(1024);
    expect(q.toString()).toBe('1180591620717411303424');
    expect(parseQuantity(q.toString()).cmp(q)).toBe(0);
    expect(quantityFromBytes(1n << 63n).toString()).toBe('8Ei');
  });
});

describe('arithmetic and accessors', () => {
  it('compares exactly (Kubernetes TestQuantityCmp)', () => {
    expect(cmpQuantity('0', '0')).toBe(0);
    expect(cmpQuantity('100m', '50m')).toBe(1);
    expect(cmpQuantity('50m', '100m')).toBe(-1);
    expect(cmpQuantity('10000T', '100Gi')).toBe(1);
    expect(cmpQuantity('1Gi', '1073741824')).toBe(0);
    expect(cmpQuantity('1G', '1Gi')).toBe(-1);
    expect(cmpQuantity('0.1', '100m')).toBe(0);
    expect(cmpQuantity('-1', '1n')).toBe(-1);
    expect(cmpQuantity('9223372036854775808', '9223372036854775807')).toBe(1);
    expect(cmpQuantity('1e999', '1e998')).toBe(1);
    expect(cmpQuantity('-1e999', '-1e998')).toBe(-1);
  });

  it('adds and subtracts with Kubernetes format rules (TestAdd / TestSub)', () => {
    const d = (s: string) => parseQuantity(s);
    expect(d('10').add(d('1e1')).toString()).toBe('20');
    expect(d('10').add(quantityFromBytes(1)).format).toBe('DecimalSI');
    expect(quantityFromBytes(10).add(d('1')).format).toBe('BinarySI');
    expect(d('0').add(d('50')).toString()).toBe('50');
    expect(d('10').sub(d('1e1')).isZero()).toBe(true);
    expect(quantityFromBytes(10).sub(d('1')).format).toBe('BinarySI');
    // a zero receiver takes the other's format, so suffixes survive (TestQuantityAddZeroPreservesSuffix)
    for (const v of ['100m', '1Gi']) {
      expect(d(v).add(d('0')).toString()).toBe(v);
      expect(d('0').add(d(v)).toString()).toBe(v);
      expect(d(v).sub(d('0')).toString()).toBe(v);
      expect(d('0').sub(d(v)).toString()).toBe(`-${v}`);
    }
    expect(d('0').sub(d('1Gi')).format).toBe('BinarySI');
    // exact, where floats are not
    expect(d('0.1').add(d('0.2')).cmp(d('0.3'))).toBe(0);
  });

  it('multiplies (TestMul)', () => {
    expect(parseQuantity('10').mul(10).toString()).toBe('100');
    expect(parseQuantity('10').mul(-10).toString()).toBe('-100');
    expect(parseQuantity('-50').mul(-50).toString()).toBe('2500');
    expect(parseQuantity('50').mul(0).isZero()).toBe(true);
    expect(parseQuantity('9223372036854775807').mul(2).toString()).toBe('18446744073709551614');
    expect(parseQuantity('1Gi').mul(3n).toString()).toBe('3Gi');
    expect(parseQuantity('1Gi').mul(3n).format).toBe('BinarySI');
    expect(parseQuantity('100m').mul(1.5).toString()).toBe('150m');
    expect(parseQuantity('1n').mul(0.5).toString()).toBe('1n'); // kept to nano, rounded up
    expect(() => parseQuantity('1').mul(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('rounds value and milliValue away from zero (TestNegativeValueRoundsAwayFromZero)', () => {
    const table: Array<[string, bigint, bigint]> = [
      ['-.484785E-7466', -1n, -1n],
      ['.484785E-7466', 1n, 1n],
      ['-.484785E-1', -1n, -49n],
      ['.484785E-1', 1n, 49n],
      ['-0.0005', -1n, -1n],
      ['0.0005', 1n, 1n],
      ['-1500m', -2n, -1500n],
      ['1500m', 2n, 1500n],
      ['-9.5000000001Gi', -10200547329n, -10200547328108n],
      ['9.5000000001Gi', 10200547329n, 10200547328108n],
      ['-1', -1n, -1000n],
      ['1', 1n, 1000n],
      ['0', 0n, 0n],
      ['1Ei', 1n << 60n, (1n << 60n) * 1000n],
    ];
    for (const [input, v, m] of table) {
      const q = parseQuantity(input);
      expect(q.value(), input).toBe(v);
      expect(q.milliValue(), input).toBe(m);
    }
  });

  it('constructs from milli and bytes (TestMilliNewSet / TestNewSet)', () => {
    expect(quantityFromMilli(1).toString()).toBe('1m');
    expect(quantityFromMilli(1000).toString()).toBe('1');
    expect(quantityFromMilli(1234000).toString()).toBe('1234');
    expect(quantityFromMilli(1234000n).milliValue()).toBe(1234000n);
    expect(quantityFromMilli(250).format).toBe('DecimalSI');
    expect(quantityFromBytes(1).toString()).toBe('1');
    expect(quantityFromBytes(1024).toString()).toBe('1Ki');
    expect(quantityFromBytes(1024 * 1024).toString()).toBe('1Mi');
    expect(quantityFromBytes(1000).toString()).toBe('1k'); // below 1024 shows as DecimalSI
    expect(quantityFromBytes(123456789n).value()).toBe(123456789n);
  });

  it('reports sign, zero and an approximate number', () => {
    expect(parseQuantity('-1m').sign()).toBe(-1);
    expect(parseQuantity('0Gi').sign()).toBe(0);
    expect(parseQuantity('0Gi').isZero()).toBe(true);
    expect(parseQuantity('2Gi').sign()).toBe(1);
    expect(parseQuantity('2Ki').toNumber()).toBe(2048);
    expect(parseQuantity('1.1Ki').toNumber()).toBe(1126.4);
    expect(parseQuantity('250m').toNumber()).toBe(0.25);
    expect(parseQuantity('1e999').toNumber()).toBe(Number.POSITIVE_INFINITY);
  });

  it('sums lists, skipping undefined', () => {
    expect(sumQuantities([]).toString()).toBe('0');
    expect(sumQuantities(['100m', undefined, '1.9', parseQuantity('0')]).toString()).toBe('2');
    expect(sumQuantities(['1Gi', '1Gi']).toString()).toBe('2Gi');
    expect(sumQuantities([undefined, '512Mi', '512Mi']).toString()).toBe('1Gi');
  });
});

describe('resource lists', () => {
  it('adds and subtracts every resource of either side', () => {
    expect(addResourceLists({ cpu: '100m', memory: '1Gi' }, { cpu: '1.9', 'nvidia.com/gpu': '1' })).toEqual({
      cpu: '2',
      memory: '1Gi',
      'nvidia.com/gpu': '1',
    });
    expect(addResourceLists(undefined, { cpu: '1' })).toEqual({ cpu: '1' });
    expect(subResourceLists({ cpu: '2', memory: '2Gi' }, { cpu: '500m', pods: '1' })).toEqual({
      cpu: '1500m',
      memory: '2Gi',
      pods: '-1',
    });
  });

  it('lists what does not fit, a missing resource counting as none available', () => {
    const node = { cpu: '4', memory: '8Gi', pods: '110' };
    expect(fitsIn({ cpu: '4', memory: '8Gi' }, node)).toEqual([]);
    expect(fitsIn({ cpu: '4001m', memory: '9Gi', pods: '1' }, node)).toEqual(['cpu', 'memory']);
    expect(fitsIn({ 'nvidia.com/gpu': '1', 'example.com/zero': '0' }, node)).toEqual(['nvidia.com/gpu']);
    expect(fitsIn(undefined, node)).toEqual([]);
  });

  it('throws QuantityError on a bad value', () => {
    expect(() => addResourceLists({ cpu: 'lots' }, {})).toThrow(QuantityError);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const DEC = ['', 'n', 'u', 'm', 'k', 'M', 'G', 'T', 'P', 'E'];
const BIN = ['Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const digitStr = (max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'.split('')), maxLength: max });
const suffixArb = fc.oneof(
  fc.constantFrom(...DEC),
  fc.constantFrom(...BIN),
  fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 40 })).map(([e, s, n]) => `${e}${s}${n}`),
);
const quantityString = fc
  .tuple(fc.constantFrom('', '+', '-'), digitStr(14), fc.option(digitStr(12), { nil: undefined }), suffixArb)
  .filter(([, int, frac]) => int.length > 0 || (frac !== undefined && frac.length > 0))
  .map(([sign, int, frac, suf]) => `${sign}${int}${frac === undefined ? '' : `.${frac}`}${suf}`);
const quantityArb = quantityString.map((s) => parseQuantity(s));

/** Reference value in nano units, computed independently of the implementation. */
function referenceNanos(s: string): bigint {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(.*)$/.exec(s)!;
  const neg = m[1] === '-';
  const frac = m[3] ?? '';
  const digits = BigInt((m[2] || '0') + frac);
  const suf = m[4]!;
  // numerator / denominator in units of 1e-9
  let num = digits;
  let den = 10n ** BigInt(frac.length);
  const di = DEC.indexOf(suf);
  const bi = BIN.indexOf(suf);
  if (di >= 0) {
    const exp = [0, -9, -6, -3, 3, 6, 9, 12, 15, 18][di]! + 9;
    num *= 10n ** BigInt(Math.max(exp, 0));
    den *= 10n ** BigInt(Math.max(-exp, 0));
  } else if (bi >= 0) {
    num *= 1n << BigInt(10 * (bi + 1));
    num *= 10n ** 9n;
  } else {
    const exp = Number(suf.slice(1)) + 9;
    num *= 10n ** BigInt(Math.max(exp, 0));
    den *= 10n ** BigInt(Math.max(-exp, 0));
  }
  let nanos = num / den + (num % den === 0n ? 0n : 1n);
  if (bi >= 0 && nanos > MAX_INT64 * 10n ** 9n) nanos = MAX_INT64 * 10n ** 9n;
  return neg ? -nanos : nanos;
}

describe('properties', () => {
  it('parses to the exact value (rounded up to nano)', () => {
    fc.assert(
      fc.property(quantityString, (s) => {
        const q = parseQuantity(s);
        const nanos = referenceNanos(s);
        expect(q.cmp(make(nanos, -9, 'DecimalExponent'))).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips: parse(toString(q)) equals q, and the string is stable once reparsed', () => {
    fc.assert(
      fc.property(quantityString, (input) => {
        const q = parseQuantity(input);
        const s = q.toString();
        const back = parseQuantity(s);
        expect(back.cmp(q)).toBe(0);
        expect(s).toMatch(/^-?\d+(?:[numkMGTPE]|[KMGTPE]i|e-?\d+)?$/);
        // A BinarySI integer with no 1024 factor prints bare ("3000") and reparses as DecimalSI
        // ("3k"), as in Kubernetes; from then on the string is a fixed point.
        if (!(q.format === 'BinarySI' && /^-?\d+$/.test(s))) expect(back.toString()).toBe(s);
        expect(parseQuantity(back.toString()).toString()).toBe(back.toString());
      }),
      { numRuns: 2000, examples: [['2.9296875Ki'], ['-2.9296875Ki'], ['1.5Gi'], ['0.5e-9']] },
    );
  });

  it('canonical form uses the largest suffix that loses nothing', () => {
    fc.assert(
      fc.property(quantityArb, (q) => {
        const s = q.toString();
        const m = /^-?(\d+)(.*)$/.exec(s)!;
        const [mant, suf] = [m[1]!, m[2]!];
        if (BIN.includes(suf)) expect(BigInt(mant) % 1024n).not.toBe(0n);
        // Decimal forms strip every factor of 1000 into the suffix; only a BinarySI integer with no
        // binary suffix (e.g. "2000") keeps trailing zeros.
        else if (!(suf === '' && q.format === 'BinarySI')) expect(mant.endsWith('000')).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('cmp is antisymmetric, transitive, and agrees with sub', () => {
    fc.assert(
      fc.property(quantityArb, quantityArb, quantityArb, (a, b, c) => {
        expect(a.cmp(b)).toBe(-b.cmp(a) || 0);
        expect(a.cmp(a)).toBe(0);
        expect(a.cmp(b)).toBe(a.sub(b).sign());
        const [x, y, z] = [a, b, c].sort((p, q) => p.cmp(q));
        expect(x!.cmp(y!)).toBeLessThanOrEqual(0);
        expect(y!.cmp(z!)).toBeLessThanOrEqual(0);
        expect(x!.cmp(z!)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('add and sub are inverse; add is commutative and associative', () => {
    fc.assert(
      fc.property(quantityArb, quantityArb, quantityArb, (a, b, c) => {
        expect(a.add(b).sub(b).cmp(a)).toBe(0);
        expect(a.sub(b).add(b).cmp(a)).toBe(0);
        expect(a.add(b).cmp(b.add(a))).toBe(0);
        expect(a.add(b).add(c).cmp(a.add(b.add(c)))).toBe(0);
        expect(a.sub(a).isZero()).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('milliValue and value are the ceilings away from zero', () => {
    fc.assert(
      fc.property(quantityString, (s) => {
        const q = parseQuantity(s);
        const nanos = referenceNanos(s);
        const up = (n: bigint, d: bigint) => {
          const a = n < 0n ? -n : n;
          const r = a / d + (a % d === 0n ? 0n : 1n);
          return n < 0n ? -r : r;
        };
        expect(q.milliValue()).toBe(up(nanos, 10n ** 6n));
        expect(q.value()).toBe(up(nanos, 10n ** 9n));
      }),
      { numRuns: 1000 },
    );
  });

  it('mul by an integer equals repeated addition', () => {
    fc.assert(
      fc.property(quantityArb, fc.integer({ min: 0, max: 12 }), (q, n) => {
        let sum: Quantity = parseQuantity('0');
        for (let i = 0; i < n; i++) sum = sum.add(q);
        expect(q.mul(n).cmp(sum)).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});
