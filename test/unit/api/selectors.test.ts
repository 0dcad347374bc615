import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  SUPPORTED_FIELDS,
  SelectorError,
  escapeFieldValue,
  everything,
  isQualifiedName,
  isValidLabelValue,
  labelSelectorFromObject,
  matchNodeSelectorTerms,
  nodeSelectorTermsErrors,
  nothing,
  objectFields,
  parseFieldSelector,
  parseLabelSelector,
  selectorFromSet,
  selectorFromString,
  selectorToString,
  supportedFields,
  unescapeFieldValue,
  type LabelRequirement,
  type SelectorOperator,
} from '../../../core/api/selectors.ts';

describe('label selector strings (Kubernetes labels.Parse)', () => {
  it('parses and restrings the good strings of TestSelectorParse', () => {
    for (const s of ['x=a,y=b,z=c', '', 'x!=a,y=b', 'x=', 'x= ', 'x=,z= ', 'x= ,z= ', '!x', 'x>1', 'x>1,z<5']) {
      expect(selectorFromString(s).toString(), s).toBe(s.replaceAll(' ', ''));
    }
  });

  it('refuses the bad strings of TestSelectorParse and TestSetSelectorParser', () => {
    for (const s of [
      'x=a||y=b',
      'x==a==b',
      '!x=a',
      'x<a',
      'x,,y',
      ',x,y',
      'x nott in (y)',
      'a in (xyz),',
      'a in (xyz)b notin ()',
      'a in (xyz abc)',
      'a notin(',
      'a (',
      '(',
      'x>-1',
      'a/b/c',
      `${'a'.repeat(64)}=b`,
      `a=${'b'.repeat(64)}`,
    ]) {
      expect(() => selectorFromString(s), s).toThrow(SelectorError);
    }
  });

  it('parses set-based requirements (TestSetSelectorParser)', () => {
    const table: Array<[string, string]> = [
      ['\rx', 'x'],
      ['this-is-a-dns.domain.com/key-with-dash', 'this-is-a-dns.domain.com/key-with-dash'],
      ['this-is-another-dns.domain.com/key-with-dash in (so,what)', 'this-is-another-dns.domain.com/key-with-dash in (so,what)'],
      ['0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)', '0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)'],
      ['foo  in\t (abc)', 'foo in (abc)'],
      ['x notin\n (abc)', 'x notin (abc)'],
      ['x  notin\t\t\t(abc,def)', 'x notin (abc,def)'],
      ['x in (abc,def)', 'x in (abc,def)'],
      ['x in (abc,)', 'x in (,abc)'],
      ['x in ()', 'x in ()'],
      ['x notin (abc,def),bar,z in (),w', 'bar,w,x notin (abc,def),z in ()'],
      ['x,y in (a)', 'x,y in (a)'],
      ['x=a', 'x=a'],
      ['x>1', 'x>1'],
      ['x<7', 'x<7'],
      ['x=a,y!=b', 'x=a,y!=b'],
      ['x=a,y!=b,z in (h,i,j)', 'x=a,y!=b,z in (h,i,j)'],
      ['x notin ( )', 'x notin ()'],
      ['x notin (, a)', 'x notin (,a)'],
      ['a ', 'a'],
      ['a in (x,y,notin, z,in)', 'a in (in,notin,x,y,z)'],
      ['x in (foo,,baz),y,z notin ()', 'x in (,baz,foo),y,z notin ()'],
      ['in in (in),notin=notin', 'in in (in),notin=notin'],
      ['x in (b,a,b)', 'x in (a,b)'],
      ['x==a', 'x==a'],
      ['b=1,a=2', 'a=2,b=1'],
    ];
    for (const [input, out] of table) expect(selectorFromString(input).toString(), JSON.stringify(input)).toBe(out);
    expect(parseLabelSelector('x in (b,a),!y,z>3')).toEqual([
      { key: 'x', operator: 'in', values: ['a', 'b'] },
      { key: 'y', operator: '!', values: [] },
      { key: 'z', operator: 'gt', values: ['3'] },
    ]);
    expect(parseLabelSelector('')).toEqual([]);
    expect(parseLabelSelector('a')).toEqual([{ key: 'a', operator: 'exists', values: [] }]);
  });

  it('words errors as Kubernetes does, and says where', () => {
    const err = (s: string) => {
      try {
        selectorFromString(s);
      } catch (e) {
        expect(e).toBeInstanceOf(SelectorError);
        return e as SelectorError;
      }
      throw new Error(`${s} parsed`);
    };
    expect(err('a b').message).toBe('unable to parse requirement: found \'b\', expected: in, notin, =, ==, !=, gt, lt (at character 3)');
    expect(err('a b').position).toBe(2);
    expect(err('a in )').message).toBe("unable to parse requirement: found ')' expected: '(' (at character 6)");
    expect(err('a in (x').message).toMatch(/^unable to parse requirement: found '', expected: ',' or '\)'/);
    expect(err(',a').message).toBe("found ',', expected: !, identifier, or 'end of string' (at character 1)");
    expect(err('a,').message).toBe("found '', expected: identifier after ',' (at character 3)");
    expect(err('a=b c').message).toBe("found 'c', expected: ',' or 'end of string' (at character 5)");
    expect(err('-a').message).toMatch(/^unable to parse requirement: Invalid value: "-a": name part must consist of alphanumeric characters/);
    expect(err('a=b@').message).toMatch(/^unable to parse requirement: values\[0\]\[a\]: Invalid value: "b@": a valid label must be an empty string/);
    expect(err('a>x').message).toMatch(/for 'Gt', 'Lt' operators, the value must be an integer/);
  });

  it('matches (TestSelectorMatches, TestRequirementSelectorMatching)', () => {
    const yes: Array<[string, Record<string, string>]> = [
      ['', { x: 'y' }],
      ['x=y', { x: 'y' }],
      ['x=y,z=w', { x: 'y', z: 'w' }],
      ['x!=y,z!=w', { x: 'z', z: 'a' }],
      ['notin=in', { notin: 'in' }],
      ['x', { x: 'z' }],
      ['!x', { y: 'z' }],
      ['x>1', { x: '2' }],
      ['x<1', { x: '0' }],
      ['x<1', { x: '-3' }],
      ['foo=bar,baz=blah', { foo: 'bar', baz: 'blah' }],
      ['x in (foo),y notin (alpha)', { x: 'foo', y: 'baz' }],
      ['x notin (),y', { y: '' }],
      ['!x,y', { y: '' }],
      ['x=', { x: '' }],
      ['x!=a', {}],
    ];
    const no: Array<[string, Record<string, string> | undefined]> = [
      ['x=z', {}],
      ['x=y', { x: 'z' }],
      ['x=y,z=w', { x: 'w', z: 'w' }],
      ['x!=y,z!=w', { x: 'z', z: 'w' }],
      ['x', { y: 'z' }],
      ['!x', { x: 'z' }],
      ['x>1', { x: '0' }],
      ['x<1', { x: '2' }],
      ['x>1', { x: 'v2' }],
      ['x>1', {}],
      ['foo=bar,foobar=bar,baz=blah', { foo: 'bar', baz: 'blah' }],
      ['x in (foo),y in (alpha)', { x: 'foo', y: 'baz' }],
      ['x notin (),!y', { y: '' }],
      ['x in ()', { y: 'baz' }],
      ['x', undefined],
    ];
    for (const [s, l] of yes) expect(selectorFromString(s).matches(l), `${s} ~ ${JSON.stringify(l)}`).toBe(true);
    for (const [s, l] of no) expect(selectorFromString(s).matches(l), `${s} !~ ${JSON.stringify(l)}`).toBe(false);
    // labels inherited from Object.prototype are not labels
    expect(selectorFromString('constructor').matches({})).toBe(false);
  });

  it('is deterministic in key order (TestDeterministicParse)', () => {
    expect(selectorFromString('x=a,a=x').toString()).toBe(selectorFromString('a=x,x=a').toString());
  });

  it('knows exact matches', () => {
    const s = selectorFromString('a=1,b in (2),c in (3,4),d!=5');
    expect(s.requiresExactMatch('a')).toBe('1');
    expect(s.requiresExactMatch('b')).toBe('2');
    expect(s.requiresExactMatch('c')).toBeUndefined();
    expect(s.requiresExactMatch('d')).toBeUndefined();
    expect(s.requiresExactMatch('e')).toBeUndefined();
  });
});

describe('label keys and values', () => {
  it('validates keys as qualified names', () => {
    for (const k of ['a', 'A.b_c-9', 'example.com/app', 'a'.repeat(63), `${'a'.repeat(63)}.b/c`, '1234']) {
      expect(isQualifiedName(k), k).toEqual([]);
    }
    expect(isQualifiedName('a'.repeat(64))).toEqual(['name part must be no more than 63 characters']);
    expect(isQualifiedName('/a')).toEqual(['prefix part must be non-empty']);
    expect(isQualifiedName('Example.com/a')[0]).toMatch(/^prefix part a lowercase RFC 1123 subdomain/);
    expect(isQualifiedName(`${'a'.repeat(254)}/a`)[0]).toBe('prefix part must be no more than 253 characters');
    expect(isQualifiedName('a/')).toEqual(['name part must be non-empty', expect.stringMatching(/^name part must consist/)]);
    expect(isQualifiedName('a/b/c')[0]).toMatch(/^a qualified name must consist/);
    expect(isQualifiedName('-a')).toHaveLength(1);
  });

  it('validates values', () => {
    for (const v of ['', 'a', 'A-b_c.9', 'v'.repeat(63)]) expect(isValidLabelValue(v), v).toEqual([]);
    expect(isValidLabelValue('v'.repeat(64))).toEqual(['must be no more than 63 characters']);
    for (const v of ['-a', 'a-', 'a b', 'a/b', 'é']) expect(isValidLabelValue(v), v).toHaveLength(1);
  });
});

describe('object selectors (metav1.LabelSelector)', () => {
  it('null selects nothing, {} selects everything', () => {
    expect(labelSelectorFromObject(null).matches({ a: 'b' })).toBe(false);
    expect(labelSelectorFromObject(undefined).matches({})).toBe(false);
    expect(labelSelectorFromObject(null).empty()).toBe(false);
    expect(labelSelectorFromObject({}).matches({ a: 'b' })).toBe(true);
    expect(labelSelectorFromObject({ matchLabels: {}, matchExpressions: [] }).empty()).toBe(true);
    expect(everything().matches(undefined)).toBe(true);
    expect(everything().empty()).toBe(true);
    expect(everything().toString()).toBe('');
    expect(nothing().matches({})).toBe(false);
    expect(nothing().toString()).toBe('');
    expect(nothing().requirements()).toBeNull();
    expect(everything().requirements()).toEqual([]);
  });

  it('matches and prints matchLabels and matchExpressions together, sorted by key', () => {
    const sel = labelSelectorFromObject({
      matchLabels: { tier: 'web', app: 'shop' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'canary', 'prod'] },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'app', operator: 'Exists' },
        { key: 'zone', operator: 'NotIn', values: ['b'] },
      ],
    });
    expect(sel.toString()).toBe('app=shop,app,env in (canary,prod),!legacy,tier=web,zone notin (b)');
    expect(sel.matches({ app: 'shop', tier: 'web', env: 'prod' })).toBe(true);
    expect(sel.matches({ app: 'shop', tier: 'web', env: 'prod', zone: 'b' })).toBe(false);
    expect(sel.matches({ app: 'shop', tier: 'web', env: 'prod', legacy: '' })).toBe(false);
    expect(sel.matches({ app: 'shop', tier: 'web', env: 'dev' })).toBe(false);
    expect(selectorToString({ matchLabels: { b: '1', a: '2' } })).toBe('a=2,b=1');
    expect(selectorToString({})).toBe('');
    expect(selectorToString(null)).toBe('');
    // the string form parses back to the same selector
    expect(selectorFromString(sel.toString()).toString()).toBe(sel.toString());
  });

  it('refuses invalid requirements, naming each field', () => {
    const bad = (sel: Parameters<typeof labelSelectorFromObject>[0]) => {
      try {
        labelSelectorFromObject(sel);
      } catch (e) {
        expect(e).toBeInstanceOf(SelectorError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ matchExpressions: [{ key: 'a', operator: 'In' }] })).toBe(
      "matchExpressions[0].values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty",
    );
    expect(bad({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] })).toMatch(/values set can't be empty/);
    expect(bad({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })).toBe(
      'matchExpressions[0].values: Invalid value: ["x"]: values set must be empty for exists and does not exist',
    );
    expect(bad({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }] })).toMatch(/must be empty/);
    expect(bad({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] })).toBe(
      'matchExpressions[0].operator: "Gt" is not a valid label selector operator',
    );
    expect(bad({ matchLabels: { 'bad key': 'x' } })).toMatch(/^matchLabels\[bad key\]\.key: Invalid value: "bad key": name part/);
    expect(bad({ matchLabels: { a: 'bad value' } })).toMatch(/^matchLabels\[a\]\.values\[0\]\[a\]: Invalid value: "bad value"/);
    // every problem listed
    expect(bad({ matchExpressions: [{ key: 'a', operator: 'In' }, { key: 'b', operator: 'Exists', values: ['x'] }] })).toMatch(
      /^\[matchExpressions\[0\]\.values: .*, matchExpressions\[1\]\.values: .*\]$/,
    );
  });

  it('builds a selector from a set without validating (SelectorFromSet)', () => {
    expect(selectorFromSet({ foo: 'bar', baz: 'blah' }).toString()).toBe('baz=blah,foo=bar');
    expect(selectorFromSet({ foo: 'bar' }).matches({ foo: 'bar', baz: 'blah' })).toBe(true);
    expect(selectorFromSet({ foo: 'bar' }).matches({ baz: 'blah' })).toBe(false);
    expect(selectorFromSet({}).empty()).toBe(true);
    expect(selectorFromSet(undefined).matches({ a: 'b' })).toBe(true);
    expect(selectorFromSet(null).empty()).toBe(true);
  });
});

describe('node selector terms (NodeAffinity)', () => {
  const labels = { 'kubernetes.io/hostname': 'n1', zone: 'a', cores: '8', gpu: '' };
  const fields = { 'metadata.name': 'n1' };
  const term = (...matchExpressions: Array<{ key: string; operator: string; values?: string[] }>) => ({ matchExpressions });

  it('supports In, NotIn, Exists, DoesNotExist, Gt and Lt', () => {
    const yes = [
      term({ key: 'zone', operator: 'In', values: ['a', 'b'] }),
      term({ key: 'zone', operator: 'NotIn', values: ['b'] }),
      term({ key: 'missing', operator: 'NotIn', values: ['b'] }),
      term({ key: 'gpu', operator: 'Exists' }),
      term({ key: 'missing', operator: 'DoesNotExist' }),
      term({ key: 'cores', operator: 'Gt', values: ['4'] }),
      term({ key: 'cores', operator: 'Lt', values: ['16'] }),
      term({ key: 'zone', operator: 'In', values: ['a'] }, { key: 'cores', operator: 'Gt', values: ['7'] }),
    ];
    for (const t of yes) expect(matchNodeSelectorTerms([t], labels, fields), JSON.stringify(t)).toBe(true);
    const no = [
      term({ key: 'zone', operator: 'In', values: ['b'] }),
      term({ key: 'zone', operator: 'NotIn', values: ['a'] }),
      term({ key: 'missing', operator: 'Exists' }),
      term({ key: 'gpu', operator: 'DoesNotExist' }),
      term({ key: 'cores', operator: 'Gt', values: ['8'] }),
      term({ key: 'cores', operator: 'Lt', values: ['8'] }),
      term({ key: 'zone', operator: 'Gt', values: ['1'] }),
      term({ key: 'missing', operator: 'Lt', values: ['1'] }),
      term({ key: 'zone', operator: 'In', values: ['a'] }, { key: 'cores', operator: 'Gt', values: ['8'] }),
    ];
    for (const t of no) expect(matchNodeSelectorTerms([t], labels, fields), JSON.stringify(t)).toBe(false);
  });

  it('ORs terms; empty terms and empty lists match nothing', () => {
    const a = term({ key: 'zone', operator: 'In', values: ['b'] });
    const b = term({ key: 'zone', operator: 'In', values: ['a'] });
    expect(matchNodeSelectorTerms([a, b], labels)).toBe(true);
    expect(matchNodeSelectorTerms([a], labels)).toBe(false);
    expect(matchNodeSelectorTerms([], labels)).toBe(false);
    expect(matchNodeSelectorTerms(undefined, labels)).toBe(false);
    expect(matchNodeSelectorTerms([{}], labels)).toBe(false);
    expect(matchNodeSelectorTerms([{ matchExpressions: [] }, b], labels)).toBe(true);
  });

  it('matches fields on metadata.name (In/NotIn with one value)', () => {
    const byName = (operator: string, v: string) => ({ matchFields: [{ key: 'metadata.name', operator, values: [v] }] });
    expect(matchNodeSelectorTerms([byName('In', 'n1')], labels, fields)).toBe(true);
    expect(matchNodeSelectorTerms([byName('In', 'n2')], labels, fields)).toBe(false);
    expect(matchNodeSelectorTerms([byName('NotIn', 'n2')], labels, fields)).toBe(true);
    expect(matchNodeSelectorTerms([byName('NotIn', 'n1')], labels, fields)).toBe(false);
    // both parts of a term must hold
    expect(
      matchNodeSelectorTerms([{ ...byName('In', 'n1'), matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }], labels, fields),
    ).toBe(false);
    // with no node fields known, field requirements do not constrain (as Kubernetes)
    expect(matchNodeSelectorTerms([byName('In', 'n2')], labels, {})).toBe(true);
  });

  it('does not match with an invalid term, and reports why', () => {
    const bad = [
      term({ key: 'cores', operator: 'Gt', values: ['4', '5'] }),
      term({ key: 'cores', operator: 'Gt', values: ['x'] }),
      term({ key: 'zone', operator: 'In' }),
      term({ key: 'zone', operator: 'Exists', values: ['a'] }),
      term({ key: 'zone', operator: 'Like', values: ['a'] }),
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1', 'n2'] }] },
      { matchFields: [{ key: 'metadata.name', operator: 'Exists' }] },
    ];
    for (const t of bad) expect(matchNodeSelectorTerms([t], labels, fields), JSON.stringify(t)).toBe(false);
    const errs = nodeSelectorTermsErrors(bad);
    expect(errs).toHaveLength(bad.length);
    expect(errs[0]).toBe(
      `nodeSelectorTerms[0].matchExpressions[0].values: Invalid value: ["4","5"]: for 'Gt', 'Lt' operators, exactly one value is required`,
    );
    expect(errs[4]).toBe('nodeSelectorTerms[4].matchExpressions[0].operator: Unsupported value: "Like"');
    expect(errs[5]).toMatch(/^nodeSelectorTerms\[5\]\.matchFields\[0\]\.values: Invalid value: \["n1","n2"\]: must have one element$/);
    expect(nodeSelectorTermsErrors([term({ key: 'zone', operator: 'In', values: ['a'] })])).toEqual([]);
    // a valid term still matches next to an invalid one
    expect(matchNodeSelectorTerms([bad[0]!, term({ key: 'zone', operator: 'In', values: ['a'] })], labels)).toBe(true);
  });
});

describe('field selectors', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'shop' },
    spec: { nodeName: 'n1', restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default' },
    status: { phase: 'Running', podIPs: [{ ip: '10.0.0.5' }], podIP: '10.0.0.5' },
  };

  it('parses =, == and !=, ANDed, sorted, and prints = for ==', () => {
    const s = parseFieldSelector('status.phase!=Failed,metadata.name==web-1,spec.nodeName=n1');
    expect(s.toString()).toBe('metadata.name=web-1,spec.nodeName=n1,status.phase!=Failed');
    expect(s.requirements).toEqual([
      { field: 'metadata.name', operator: '=', value: 'web-1' },
      { field: 'spec.nodeName', operator: '=', value: 'n1' },
      { field: 'status.phase', operator: '!=', value: 'Failed' },
    ]);
    expect(s.matches(pod)).toBe(true);
    expect(parseFieldSelector('spec.nodeName=n2').matches(pod)).toBe(false);
    expect(parseFieldSelector('spec.nodeName!=n2').matches(pod)).toBe(true);
    expect(parseFieldSelector('spec.nodeName=').matches({ ...pod, spec: {} })).toBe(true);
    expect(s.requiresExactMatch('spec.nodeName')).toBe('n1');
    expect(s.requiresExactMatch('status.phase')).toBeUndefined();
  });

  it('treats "" and empty terms as everything', () => {
    expect(parseFieldSelector('').empty()).toBe(true);
    expect(parseFieldSelector('').matches({ kind: 'Whatever' })).toBe(true);
    expect(parseFieldSelector(',,').empty()).toBe(true);
    expect(parseFieldSelector('a=b,').toString()).toBe('a=b');
  });

  it('escapes , = and \\ in values', () => {
    const s = parseFieldSelector('metadata.name=a\\,b\\=c\\\\d,spec.nodeName=x');
    expect(s.requirements[0]).toEqual({ field: 'metadata.name', operator: '=', value: 'a,b=c\\d' });
    expect(s.toString()).toBe('metadata.name=a\\,b\\=c\\\\d,spec.nodeName=x');
    expect(escapeFieldValue('a,b=c\\d')).toBe('a\\,b\\=c\\\\d');
    expect(unescapeFieldValue('a\\,b')).toBe('a,b');
    expect(() => parseFieldSelector('a=b\\x')).toThrow('invalid field selector: invalid escape sequence: \\x');
    expect(() => parseFieldSelector('a=b\\')).toThrow('invalid field selector: invalid escape sequence: \\');
    expect(() => parseFieldSelector('a=b=c')).toThrow('invalid field selector: unescaped character in value: =');
    expect(() => parseFieldSelector('foo')).toThrow("invalid selector: 'foo'; can't understand 'foo'");
  });

  it("knows each kind's selectable fields and refuses others", () => {
    expect(() => parseFieldSelector('spec.containers=x', 'Pod')).toThrow('field label not supported: spec.containers');
    expect(() => parseFieldSelector('spec.containers=x', 'Pod')).toThrow(SelectorError);
    expect(() => parseFieldSelector('metadata.namespace=x', 'Node')).toThrow('field label not supported: metadata.namespace');
    expect(() => parseFieldSelector('metadata.namespace=x', 'ClusterRole')).toThrow(SelectorError);
    expect(parseFieldSelector('metadata.namespace=x', 'ConfigMap').toString()).toBe('metadata.namespace=x');
    expect(parseFieldSelector('metadata.name=x', 'SomeCustomKind').toString()).toBe('metadata.name=x');
    // the old spec.host becomes spec.nodeName, as the API server converts it
    expect(parseFieldSelector('spec.host=n1', 'Pod').toString()).toBe('spec.nodeName=n1');
    // without a kind given, the object's kind is used when matching
    expect(() => parseFieldSelector('spec.bogus=1').matches(pod)).toThrow('field label not supported: spec.bogus');
    expect(SUPPORTED_FIELDS.Pod).toContain('status.podIP');
    expect(SUPPORTED_FIELDS.Event).toContain('involvedObject.name');
    expect(supportedFields('Node')).toEqual(['metadata.name', 'spec.unschedulable']);
    expect(supportedFields('ConfigMap')).toEqual(['metadata.name', 'metadata.namespace']);
    expect(supportedFields('Namespace')).toEqual(['metadata.name', 'status.phase']);
  });

  it('extracts the field sets of pods, events, nodes, secrets', () => {
    expect(objectFields(pod)).toEqual({
      'metadata.name': 'web-1',
      'metadata.namespace': 'shop',
      'spec.nodeName': 'n1',
      'spec.restartPolicy': 'Always',
      'spec.schedulerName': 'default-scheduler',
      'spec.serviceAccountName': 'default',
      'spec.hostNetwork': 'false',
      'status.phase': 'Running',
      'status.podIP': '10.0.0.5',
      'status.nominatedNodeName': '',
    });
    const event = {
      kind: 'Event',
      metadata: { name: 'web-1.1', namespace: 'shop' },
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'shop', uid: 'u1' },
      reason: 'Scheduled',
      type: 'Normal',
      source: { component: 'default-scheduler' },
    };
    expect(parseFieldSelector('involvedObject.kind=Pod,involvedObject.name=web-1,reason=Scheduled,type=Normal', 'Event').matches(event)).toBe(
      true,
    );
    expect(parseFieldSelector('source=default-scheduler', 'Event').matches(event)).toBe(true);
    expect(parseFieldSelector('source=kubelet', 'Event').matches({ ...event, source: {}, reportingComponent: 'kubelet' })).toBe(true);
    const node = { kind: 'Node', metadata: { name: 'n1' }, spec: { unschedulable: true } };
    expect(parseFieldSelector('spec.unschedulable=true', 'Node').matches(node)).toBe(true);
    expect(parseFieldSelector('spec.unschedulable=false', 'Node').matches({ ...node, spec: {} })).toBe(true);
    const secret = { kind: 'Secret', metadata: { name: 's', namespace: 'shop' }, type: 'kubernetes.io/tls' };
    expect(parseFieldSelector('type=kubernetes.io/tls', 'Secret').matches(secret)).toBe(true);
    expect(parseFieldSelector('status.replicas=0', 'ReplicaSet').matches({ kind: 'ReplicaSet', metadata: { name: 'r' } })).toBe(true);
    expect(parseFieldSelector('status.successful=2', 'Job').matches({ kind: 'Job', metadata: { name: 'j' }, status: { succeeded: 2 } })).toBe(
      true,
    );
    expect(parseFieldSelector('spec.hostNetwork=true', 'Pod').matches({ ...pod, spec: { hostNetwork: true } })).toBe(true);
    expect(parseFieldSelector('metadata.name=n1').matchesFields({ 'metadata.name': 'n1' })).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const KEYS = ['a', 'b', 'app', 'in', 'example.com/tier', 'x.y/z-1'];
const VALUES = ['', 'x', 'y', 'v1', 'in', 'notin', '1', '5', '10', 'a.b_c-d'];
const INTS = ['0', '1', '5', '10', '0010', '9223372036854775807'];
const OPS: SelectorOperator[] = ['=', '==', '!=', 'in', 'notin', 'exists', '!', 'gt', 'lt'];

const requirementArb: fc.Arbitrary<LabelRequirement> = fc
  .tuple(fc.constantFrom(...KEYS), fc.constantFrom(...OPS), fc.uniqueArray(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 4 }), fc.constantFrom(...INTS))
  .map(([key, operator, vals, n]) => {
    switch (operator) {
      case 'in':
      case 'notin':
        return { key, operator, values: vals };
      case 'exists':
      case '!':
        return { key, operator, values: [] };
      case 'gt':
      case 'lt':
        return { key, operator, values: [n] };
      default:
        return { key, operator, values: [vals[0]!] };
    }
  });

const ws = fc.constantFrom('', ' ', '  ', '\t');

/** Spell a requirement by hand, with random whitespace, the way a user might. */
function spell(r: LabelRequirement, pad: string): string {
  const vals = r.values.join(`,${pad}`);
  switch (r.operator) {
    case 'exists':
      return `${pad}${r.key}${pad}`;
    case '!':
      return `${pad}!${pad}${r.key}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator}${pad} (${pad}${vals}${pad})`;
    case 'gt':
      return `${r.key}${pad}>${pad}${vals}`;
    case 'lt':
      return `${r.key}${pad}<${pad}${vals}`;
    default:
      return `${r.key}${pad}${r.operator}${pad}${vals}`;
  }
}

/** An independent reading of the semantics. */
function reference(reqs: LabelRequirement[], labels: Record<string, string>): boolean {
  return reqs.every((r) => {
    const present = r.key in labels;
    const v = labels[r.key];
    if (r.operator === 'exists') return present;
    if (r.operator === '!') return !present;
    if (r.operator === 'in' || r.operator === '=' || r.operator === '==') return present && r.values.includes(v!);
    if (r.operator === 'notin' || r.operator === '!=') return !present || !r.values.includes(v!);
    if (!present || !/^-?\d+$/.test(v!)) return false;
    return r.operator === 'gt' ? BigInt(v!) > BigInt(r.values[0]!) : BigInt(v!) < BigInt(r.values[0]!);
  });
}

const labelsArb = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES, ...INTS, '-3'), { maxKeys: 6 });

describe('properties', () => {
  it('string form round-trips through parse and toString', () => {
    fc.assert(
      fc.property(fc.array(requirementArb, { maxLength: 6 }), ws, (reqs, pad) => {
        const text = reqs.map((r) => spell(r, pad)).join(`${pad},${pad}`);
        const sel = selectorFromString(text);
        const again = selectorFromString(sel.toString());
        expect(again.toString()).toBe(sel.toString());
        expect(again.requirements()).toEqual(sel.requirements());
        expect(sel.requirements()).toHaveLength(reqs.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('matching agrees with a reference implementation', () => {
    fc.assert(
      fc.property(fc.array(requirementArb, { maxLength: 5 }), labelsArb, (reqs, labels) => {
        const text = reqs.map((r) => spell(r, ' ')).join(',');
        expect(selectorFromString(text).matches(labels)).toBe(reference(reqs, labels));
      }),
      { numRuns: 2000 },
    );
  });

  it('object selectors agree with their string form', () => {
    const exprArb = fc.tuple(
      fc.constantFrom(...KEYS),
      fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'),
      fc.uniqueArray(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 3 }),
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 3 }),
        fc.array(exprArb, { maxLength: 4 }),
        labelsArb,
        (matchLabels, exprs, labels) => {
          const obj = {
            matchLabels,
            matchExpressions: exprs.map(([key, operator, values]) =>
              operator === 'Exists' || operator === 'DoesNotExist' ? { key, operator } : { key, operator, values },
            ),
          };
          const sel = labelSelectorFromObject(obj);
          const str = selectorToString(obj);
          expect(str).toBe(sel.toString());
          expect(selectorFromString(str).matches(labels)).toBe(sel.matches(labels));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('field selectors round-trip values with escapes', () => {
    const value = fc.string({ unit: fc.constantFrom('a', 'b', ',', '=', '\\', '!', ' '), maxLength: 8 });
    const field = fc.constantFrom('metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase');
    fc.assert(
      fc.property(fc.array(fc.tuple(field, fc.constantFrom('=', '!='), value), { maxLength: 4 }), (terms) => {
        const text = terms.map(([f, op, v]) => `${f}${op}${escapeFieldValue(v)}`).join(',');
        const sel = parseFieldSelector(text, 'Pod');
        expect(parseFieldSelector(sel.toString(), 'Pod').toString()).toBe(sel.toString());
        const got = sel.requirements.map((r) => `${r.field}|${r.operator}|${r.value}`).sort();
        const want = terms.map(([f, op, v]) => `${f}|${op}|${v}`).sort();
        expect(got).toEqual(want);
        expect(unescapeFieldValue(escapeFieldValue(terms[0]?.[2] ?? 'x'))).toBe(terms[0]?.[2] ?? 'x');
      }),
      { numRuns: 1000 },
    );
  });
});
