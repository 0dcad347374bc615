import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clonePlain, jsonCopy } from '../../../core/store/drivers/json-copy.ts';
import { SortedKeys } from '../../../core/store/drivers/sorted-keys.ts';

describe('jsonCopy / clonePlain', () => {
  it('jsonCopy equals a round trip through JSON text', () => {
    fc.assert(
      fc.property(fc.anything({ withDate: true, withNullPrototype: true, withObjectString: true, withBoxedValues: true }), (v) => {
        let text: string | undefined;
        try {
          text = JSON.stringify(v);
        } catch {
          expect(() => jsonCopy(v)).toThrow();
          return;
        }
        expect(JSON.stringify(jsonCopy(v))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('clonePlain copies JSON data deeply, __proto__ keys included', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = clonePlain(v);
        expect(c).toStrictEqual(v);
        expect(JSON.stringify(c)).toBe(JSON.stringify(v));
      }),
      { numRuns: 300 },
    );
    const withProto = JSON.parse('{"__proto__":{"x":1}}') as object;
    const c = clonePlain(withProto);
    expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
    expect(Object.keys(c)).toEqual(['__proto__']);
  });
});

describe('SortedKeys', () => {
  it('scans like filtering a sorted array', () => {
    const key = fc.stringMatching(/^\/[ab]{0,3}\/?[ab]{0,2}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), key)), key, fc.option(key, { nil: undefined }), (ops, prefix, after) => {
        const idx = new SortedKeys();
        const model = new Set<string>();
        for (const [add, k] of ops) {
          if (add) {
            idx.insert(k);
            model.add(k);
          } else {
            idx.remove(k);
            model.delete(k);
          }
        }
        const want = [...model].sort().filter((k) => k.startsWith(prefix) && (after === undefined || k > after));
        expect([...idx.scan(prefix, after)]).toEqual(want);
        expect(idx.size).toBe(model.size);
      }),
      { numRuns: 500 },
    );
  });
});
