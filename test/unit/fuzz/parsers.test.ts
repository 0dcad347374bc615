/**
 * Property-based fuzzing (fast-check, WHEELHOUSE_FUZZ_RUNS cases per target, 10,000 by default):
 * the YAML import, the object validators, quantity, label/field selector parsers and the three
 * patch kinds. The properties: nothing throws except the module's own documented error (with a
 * message), nothing hangs (each call is bounded), and results keep their invariants.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import { applyDefaults } from '../../../core/api/defaults.ts';
import { applyJsonPatch, jsonMergePatch, PatchError, strategicMergePatch } from '../../../core/api/merge.ts';
import { parseQuantity, QuantityError } from '../../../core/api/quantity.ts';
import { parseFieldSelector, parseLabelSelector, SelectorError, selectorFromString } from '../../../core/api/selectors.ts';
import { validateObject, validateUpdate } from '../../../core/api/validation/index.ts';
import { ImportError, parseManifestBytes, parseManifests } from '../../../core/api/yaml-import.ts';
import { isApiError } from '../../../core/api/errors.ts';
import { anyObject, mutatedObject, RUNS, SEEDS, timed } from './corpus.ts';

// 10,000 cases per target take seconds each on this machine.
vi.setConfig({ testTimeout: 180_000 });

const opts = { numRuns: RUNS };
const isObj = (v: unknown): v is any => !!v && typeof v === 'object' && !Array.isArray(v);
const withoutNulls = (v: unknown): unknown =>
  isObj(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)])) : v;

/** Runs fn; a throw must be one of `allowed` with a non-empty message. */
function onlyThrows(fn: () => unknown, ...allowed: Array<abstract new (...a: any[]) => Error>): void {
  try {
    fn();
  } catch (e) {
    const known = allowed.some((c) => e instanceof c) || isApiError(e);
    if (!known) throw new Error(`unexpected ${(e as Error)?.constructor?.name}: ${(e as Error)?.stack ?? String(e)}`);
    expect((e as Error).message.length).toBeGreaterThan(0);
  }
}

const seedYaml = SEEDS.map((o) => stringify(o));

/** YAML text: a seed with random edits, random YAML of random values, or random text. */
const yamlText = fc.oneof(
  fc.tuple(fc.nat(seedYaml.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(8), fc.string({ maxLength: 6 })), { maxLength: 5 })).map(([i, edits]) => {
    let s = seedYaml[i]!;
    for (const [at, del, ins] of edits) {
      const p = at % (s.length + 1);
      s = s.slice(0, p) + ins + s.slice(p + del);
    }
    return s;
  }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => stringify(v)),
  fc.array(mutatedObject, { minLength: 1, maxLength: 3 }).map((objs) => objs.map((o) => stringify(o)).join('---\n')),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('a: &a [*a]', 'a: !!binary AAAA', '{{{{', '- - - -', 'apiVersion: v1\nkind: Pod\nkind: Pod\n', '%YAML 9.9\n---\n', '? [a]\n: b', 'a: *nope'),
);

describe('fuzz: YAML import', () => {
  it('parses or reports problems with positions, never anything else', () => {
    fc.assert(
      fc.property(yamlText, (text) => {
        try {
          const docs = timed('parseManifests', () => parseManifests(text, 'fuzz.yaml'));
          for (const d of docs) {
            expect(typeof d.object).toBe('object');
            expect(d.line).toBeGreaterThan(0);
            d.positionOf('metadata.name');
            d.positionOf('spec.template.spec.containers[0].image');
          }
        } catch (e) {
          if (!(e instanceof ImportError)) throw e;
          expect(e.problems.length).toBeGreaterThan(0);
          for (const p of e.problems) {
            expect(p.message.length).toBeGreaterThan(0);
            expect(p.file).toBe('fuzz.yaml');
          }
        }
      }),
      opts,
    );
  });

  it('refuses binary bytes as text, with the byte offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        onlyThrows(() => timed('parseManifestBytes', () => parseManifestBytes(bytes, 'bin.yaml')), ImportError);
      }),
      opts,
    );
  });
});

describe('fuzz: validation and defaulting', () => {
  it('validates any object into field errors without throwing', () => {
    fc.assert(
      fc.property(anyObject, (obj) => {
        const errs = timed('validateObject', () => validateObject(structuredClone(obj) as any));
        for (const e of errs) {
          expect(typeof e.field).toBe('string');
          expect(e.message.length).toBeGreaterThan(0);
        }
      }),
      opts,
    );
  });

  it('defaults, then validates create and update, on damaged objects', () => {
    fc.assert(
      // The API hands defaulting only JSON objects (decode refuses anything else first).
      fc.property(mutatedObject.filter(isObj), mutatedObject.filter(isObj), (a, b) => {
        let obj: any;
        try {
          obj = timed('applyDefaults', () => applyDefaults(structuredClone(a)));
        } catch (e) {
          if (!isApiError(e)) throw e; // defaulting may refuse a malformed object outright
          return;
        }
        timed('validateObject', () => validateObject(obj));
        if (a.kind === b.kind) timed('validateUpdate', () => validateUpdate(structuredClone(a), structuredClone(b)));
      }),
      opts,
    );
  });
});

describe('fuzz: quantities and selectors', () => {
  const quantityish = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.stringMatching(/^[+-]?\d{0,30}(\.\d{0,30})?([eE][+-]?\d{1,4}|[kMGTPE]i?|m|n|u)?$/),
    fc.double().map(String),
    fc.integer().map(String),
  );

  it('parses a quantity or throws QuantityError', () => {
    fc.assert(
      fc.property(quantityish, (s) => {
        onlyThrows(() => {
          const q = timed('parseQuantity', () => parseQuantity(s));
          expect(typeof q).toBe('object');
        }, QuantityError);
      }),
      opts,
    );
  });

  const selectorish = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.array(fc.oneof(fc.constantFrom('a', 'b.io/c', 'x-y', '!', '=', '==', '!=', ',', ' in ', ' notin ', '(', ')', ' ', 'v1', 'gt', '<', '>', '\\,', 'metadata.name', 'status.phase', 'spec.nodeName')), { maxLength: 12 }).map((xs) => xs.join('')),
  );

  it('parses label selectors or throws SelectorError', () => {
    fc.assert(
      fc.property(selectorish, fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }), (s, labels) => {
        onlyThrows(() => {
          timed('parseLabelSelector', () => parseLabelSelector(s));
          const sel = selectorFromString(s);
          expect(typeof sel.matches(labels)).toBe('boolean');
        }, SelectorError);
      }),
      opts,
    );
  });

  it('parses field selectors or throws SelectorError', () => {
    fc.assert(
      fc.property(selectorish, fc.constantFrom(undefined, 'Pod', 'Event', 'Node', 'Secret'), (s, kind) => {
        onlyThrows(() => timed('parseFieldSelector', () => parseFieldSelector(s, kind)), SelectorError);
      }),
      opts,
    );
  });
});

describe('fuzz: patches', () => {
  it('strategic merge patch applies or refuses with an API error', () => {
    fc.assert(
      // The target is a stored object; the patch is anything a client sends.
      fc.property(mutatedObject.filter(isObj), fc.oneof(anyObject, fc.jsonValue({ maxDepth: 4 })), (target, patch) => {
        onlyThrows(() => timed('strategicMergePatch', () => strategicMergePatch(structuredClone(target), patch, target.kind)), PatchError);
      }),
      opts,
    );
  });

  it('merge patch with itself leaves the object (minus its nulls: RFC 7386); a null removes a key', () => {
    fc.assert(
      fc.property(mutatedObject.filter(isObj), (obj) => {
        expect(jsonMergePatch(structuredClone(obj), structuredClone(obj))).toEqual(withoutNulls(obj));
        const out = jsonMergePatch(structuredClone(obj), { spec: null }) as any;
        expect(out.spec).toBeUndefined();
      }),
      opts,
    );
  });

  const pointer = fc.array(fc.oneof(fc.constantFrom('metadata', 'spec', 'labels', 'containers', '0', '1', '-', '~0', '~1', ''), fc.string({ maxLength: 4 })), { maxLength: 5 }).map((xs) => '/' + xs.join('/'));
  const op = fc.record({
    op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'),
    path: fc.oneof(pointer, fc.string({ maxLength: 10 })),
    from: fc.option(pointer, { nil: undefined }),
    value: fc.jsonValue({ maxDepth: 2 }),
  }, { requiredKeys: ['op', 'path'] });

  it('JSON patch applies or throws PatchError / an API error', () => {
    fc.assert(
      fc.property(mutatedObject, fc.array(op, { maxLength: 5 }), (doc, ops) => {
        onlyThrows(() => timed('applyJsonPatch', () => applyJsonPatch(structuredClone(doc), ops as any)), PatchError);
      }),
      opts,
    );
  });
});
