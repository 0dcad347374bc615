import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CronError, cronSpecError, mostRecentScheduleTime, nextFireTime, parseCron } from '../../../core/api/cron.ts';

const at = (iso: string) => new Date(iso);
/** The next `n` fire times after `from`, as ISO strings. */
function fires(spec: string, from: string, n = 1, tz?: string): string[] {
  const s = parseCron(spec);
  const out: string[] = [];
  let t: Date | null = at(from);
  for (let i = 0; i < n; i++) {
    t = s.next(t!, tz);
    if (!t) break;
    out.push(t.toISOString().replace('.000Z', 'Z'));
  }
  return out;
}

describe('cron: next fire times', () => {
  it('fires strictly after the given time, on the minute', () => {
    expect(fires('* * * * *', '2024-01-01T10:00:00Z', 2)).toEqual(['2024-01-01T10:01:00Z', '2024-01-01T10:02:00Z']);
    expect(fires('* * * * *', '2024-01-01T10:00:30.500Z')).toEqual(['2024-01-01T10:01:00Z']);
  });

  it('crosses month ends, skipping months without the day', () => {
    expect(fires('0 0 31 * *', '2024-01-31T00:00:00Z', 3)).toEqual(['2024-03-31T00:00:00Z', '2024-05-31T00:00:00Z', '2024-07-31T00:00:00Z']);
    expect(fires('30 2 * * *', '2024-01-31T23:59:00Z')).toEqual(['2024-02-01T02:30:00Z']);
    expect(fires('0 0 29 2 *', '2023-03-01T00:00:00Z')).toEqual(['2024-02-29T00:00:00Z']);
    expect(fires('59 23 31 12 *', '2024-12-31T23:59:00Z')).toEqual(['2025-12-31T23:59:00Z']);
  });

  it('never fires on an impossible date (null after five years)', () => {
    expect(nextFireTime('0 0 30 2 *', at('2024-01-01T00:00:00Z'))).toBeNull();
  });

  it('ORs day-of-month and day-of-week when both are restricted', () => {
    // 13th of the month OR a Friday. 2024-09-06 and 2024-09-20 are Fridays; 2024-09-13 is both.
    expect(fires('0 0 13 * 5', '2024-09-01T00:00:00Z', 4)).toEqual([
      '2024-09-06T00:00:00Z', '2024-09-13T00:00:00Z', '2024-09-20T00:00:00Z', '2024-09-27T00:00:00Z',
    ]);
    // Days 1–7 OR Mondays: Jan 8 2024 is a Monday outside 1–7.
    expect(fires('0 0 1-7 * 1', '2024-01-07T00:00:00Z', 2)).toEqual(['2024-01-08T00:00:00Z', '2024-01-15T00:00:00Z']);
  });

  it('ANDs them when either is *, and a step > 1 makes a field restricted (robfig)', () => {
    expect(fires('0 0 * * 1', '2024-01-01T00:00:00Z', 2)).toEqual(['2024-01-08T00:00:00Z', '2024-01-15T00:00:00Z']);
    expect(fires('0 0 13 * ?', '2024-01-14T00:00:00Z')).toEqual(['2024-02-13T00:00:00Z']);
    // */2 in day-of-month is not a star: odd days OR Mondays. Jan 2024: Mon 1, Wed 3, …, Mon 8.
    expect(fires('0 0 */2 * 1', '2024-01-05T00:00:00Z', 3)).toEqual(['2024-01-07T00:00:00Z', '2024-01-08T00:00:00Z', '2024-01-09T00:00:00Z']);
    // */1 stays a star.
    expect(fires('0 0 */1 * 1', '2024-01-01T00:00:00Z')).toEqual(['2024-01-08T00:00:00Z']);
  });

  it('understands steps, ranges, lists and names', () => {
    expect(fires('*/15 * * * *', '2024-01-01T10:07:00Z', 2)).toEqual(['2024-01-01T10:15:00Z', '2024-01-01T10:30:00Z']);
    expect(fires('5-20/5 * * * *', '2024-01-01T10:20:00Z')).toEqual(['2024-01-01T11:05:00Z']);
    expect(fires('10/20 * * * *', '2024-01-01T10:10:00Z', 3)).toEqual(['2024-01-01T10:30:00Z', '2024-01-01T10:50:00Z', '2024-01-01T11:10:00Z']);
    expect(fires('0 9,17 * * MON-FRI', '2024-01-05T17:00:00Z', 2)).toEqual(['2024-01-08T09:00:00Z', '2024-01-08T17:00:00Z']);
    expect(fires('0 0 1 jan,Jul *', '2024-02-01T00:00:00Z', 2)).toEqual(['2024-07-01T00:00:00Z', '2025-01-01T00:00:00Z']);
    expect(fires('0 12 * * sun', '2024-01-01T00:00:00Z')).toEqual(['2024-01-07T12:00:00Z']);
  });

  it('expands the descriptors', () => {
    expect(fires('@daily', '2024-02-29T12:00:00Z')).toEqual(['2024-03-01T00:00:00Z']);
    expect(fires('@midnight', '2024-02-29T12:00:00Z')).toEqual(['2024-03-01T00:00:00Z']);
    expect(fires('@hourly', '2024-01-01T10:00:00Z')).toEqual(['2024-01-01T11:00:00Z']);
    expect(fires('@weekly', '2024-01-01T00:00:00Z')).toEqual(['2024-01-07T00:00:00Z']);
    expect(fires('@monthly', '2024-12-15T00:00:00Z')).toEqual(['2025-01-01T00:00:00Z']);
    expect(fires('@yearly', '2024-06-01T00:00:00Z')).toEqual(['2025-01-01T00:00:00Z']);
    expect(fires('@annually', '2024-06-01T00:00:00Z')).toEqual(['2025-01-01T00:00:00Z']);
    expect(fires('@every 90m', '2024-01-01T10:00:00.700Z', 2)).toEqual(['2024-01-01T11:30:00Z', '2024-01-01T13:00:00Z']);
    expect(fires('@every 1h30m10s', '2024-01-01T10:00:00Z')).toEqual(['2024-01-01T11:30:10Z']);
  });

  it('rejects bad specs with robfig/cron wording', () => {
    expect(cronSpecError('* * * *')).toBe('expected exactly 5 fields, found 4: [* * * *]');
    expect(cronSpecError('0 0 * * * *')).toBe('expected exactly 5 fields, found 6: [0 0 * * * *]');
    expect(cronSpecError('60 * * * *')).toBe('end of range (60) above maximum (59): 60');
    expect(cronSpecError('* * * * 7')).toBe('end of range (7) above maximum (6): 7');
    expect(cronSpecError('* * 0 * *')).toBe('beginning of range (0) below minimum (1): 0');
    expect(cronSpecError('5-1 * * * *')).toBe('beginning of range (5) beyond end of range (1): 5-1');
    expect(cronSpecError('*/0 * * * *')).toBe('step of range should be a positive number: */0');
    expect(cronSpecError('1-2-3 * * * *')).toBe('too many hyphens: 1-2-3');
    expect(cronSpecError('1/2/3 * * * *')).toBe('too many slashes: 1/2/3');
    expect(cronSpecError('abc * * * *')).toMatch(/^failed to parse int from abc/);
    expect(cronSpecError('* * * foo *')).toMatch(/^failed to parse int from foo/);
    expect(cronSpecError('@fortnightly')).toBe('unrecognized descriptor: @fortnightly');
    expect(cronSpecError('@every soon')).toMatch(/^failed to parse duration soon/);
    expect(cronSpecError('')).toBe('empty spec string');
    expect(cronSpecError('TZ=Mars/Olympus 0 * * * *')).toMatch(/^provided bad location Mars\/Olympus/);
    expect(() => parseCron('61 * * * *')).toThrow(CronError);
    expect(cronSpecError('0 */6 * * 1-5')).toBeUndefined();
  });

  it('evaluates on the wall clock of a time zone, across DST changes', () => {
    // 09:00 in New York: 14:00Z in winter, 13:00Z once DST starts on 2024-03-10.
    expect(fires('0 9 * * *', '2024-03-09T00:00:00Z', 2, 'America/New_York')).toEqual(['2024-03-09T14:00:00Z', '2024-03-10T13:00:00Z']);
    // 02:30 does not exist on 2024-03-10 in New York: it fires right after the jump (03:30 EDT).
    expect(fires('30 2 * * *', '2024-03-10T05:00:00Z', 2, 'America/New_York')).toEqual(['2024-03-10T07:30:00Z', '2024-03-11T06:30:00Z']);
    // 01:30 happens twice on 2024-11-03: it fires once.
    expect(fires('30 1 * * *', '2024-11-03T04:00:00Z', 2, 'America/New_York')).toEqual(['2024-11-03T05:30:00Z', '2024-11-04T06:30:00Z']);
    // A TZ= prefix in the spec works too; an explicit zone argument wins.
    expect(fires('TZ=Europe/Berlin 0 8 * * *', '2024-07-01T00:00:00Z')).toEqual(['2024-07-01T06:00:00Z']);
    expect(parseCron('CRON_TZ=Asia/Tokyo @daily').timeZone).toBe('Asia/Tokyo');
    expect(fires('0 8 * * *', '2024-07-01T00:00:00Z', 1, 'UTC')).toEqual(['2024-07-01T08:00:00Z']);
  });

  it('property: next() is the first matching minute after t (checked by brute force)', () => {
    const field = (max: number, min = 0) =>
      fc.oneof(
        fc.constant('*'),
        fc.integer({ min, max }).map(String),
        fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
        fc.integer({ min: 2, max: 7 }).map((s) => `*/${s}`),
        fc.uniqueArray(fc.integer({ min, max }), { minLength: 2, maxLength: 4 }).map((xs) => xs.join(',')),
      );
    const expand = (f: string, min: number, max: number): Set<number> => {
      const s = new Set<number>();
      for (const part of f.split(',')) {
        if (part === '*') for (let i = min; i <= max; i++) s.add(i);
        else if (part.startsWith('*/')) for (let i = min; i <= max; i += Number(part.slice(2))) s.add(i);
        else if (part.includes('-')) {
          const [a, b] = part.split('-').map(Number);
          for (let i = a!; i <= b!; i++) s.add(i);
        } else s.add(Number(part));
      }
      return s;
    };
    fc.assert(
      fc.property(field(59), field(23), field(6), fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }), (mi, h, dow, t) => {
        const spec = `${mi} ${h} * * ${dow}`;
        const got = nextFireTime(spec, new Date(t))!;
        const [ms, hs, ds] = [expand(mi, 0, 59), expand(h, 0, 23), expand(dow, 0, 6)];
        let want = Math.floor(t / 60_000) * 60_000 + 60_000;
        for (;;) {
          const d = new Date(want);
          if (ms.has(d.getUTCMinutes()) && hs.has(d.getUTCHours()) && ds.has(d.getUTCDay())) break;
          want += 60_000;
        }
        expect(got.getTime()).toBe(want);
      }),
      { numRuns: 150 },
    );
  });
});

describe('cron: most recent schedule time (for the CronJob controller)', () => {
  const hourly = parseCron('0 * * * *');

  it('counts what fell in (earliest, now] and returns the latest', () => {
    expect(mostRecentScheduleTime(hourly, at('2024-01-01T10:00:00Z'), at('2024-01-01T13:30:00Z'))).toEqual({
      mostRecent: at('2024-01-01T13:00:00Z'),
      missed: 3,
      tooMany: false,
    });
  });

  it('returns nothing before the first fire time', () => {
    expect(mostRecentScheduleTime(hourly, at('2024-01-01T10:00:00Z'), at('2024-01-01T10:59:59Z'))).toEqual({ mostRecent: null, missed: 0, tooMany: false });
  });

  it('stays cheap and exact about the latest after a long sleep', () => {
    const r = mostRecentScheduleTime(parseCron('* * * * *'), at('2023-01-01T00:00:00Z'), at('2024-01-02T00:00:30Z'));
    expect(r.tooMany).toBe(true);
    expect(r.missed).toBe(101);
    expect(r.mostRecent).toEqual(at('2024-01-02T00:00:00Z'));
    const yearly = mostRecentScheduleTime(parseCron('0 0 1 1 *'), at('1990-06-01T00:00:00Z'), at('2024-03-01T00:00:00Z'), { maxMissed: 5 });
    expect(yearly).toEqual({ mostRecent: at('2024-01-01T00:00:00Z'), missed: 6, tooMany: true });
  });
});
