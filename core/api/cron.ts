/**
 * Cron schedules as Kubernetes' CronJob reads them (robfig/cron v3 `ParseStandard`): five fields
 * (minute hour day-of-month month day-of-week), `*`, `?`, ranges `a-b`, steps `*\/n` `a-b/n` `a/n`,
 * lists `a,b`, month and weekday names (JAN…DEC, SUN…SAT, any case), the descriptors @yearly
 * @annually @monthly @weekly @daily @midnight @hourly and `@every <duration>`, and an optional
 * `TZ=<zone>` / `CRON_TZ=<zone>` prefix. Day-of-month and day-of-week are ORed when both are
 * restricted, ANDed when either is `*` (Vixie cron semantics, as robfig). Weekdays are 0–6.
 *
 * Next fire times are computed on the wall clock of a time zone (UTC unless given): a wall time
 * skipped by a DST jump fires just after the jump, a repeated one fires once.
 */

export class CronError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronError';
  }
}

export interface CronSchedule {
  /** The spec as written. */
  readonly source: string;
  /** The zone of a `TZ=`/`CRON_TZ=` prefix, if the spec had one. */
  readonly timeZone?: string;
  /** The first fire time strictly after `after`, or null when there is none within five years. */
  next(after: Date, timeZone?: string): Date | null;
}

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FIELDS: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: Object.fromEntries(MONTHS.map((m, i) => [m, i + 1])) },
  { min: 0, max: 6, names: Object.fromEntries(DAYS.map((d, i) => [d, i])) },
];
const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface Field {
  set: boolean[];
  /** The field was `*` or `?` (a step of 1 keeps it so). */
  star: boolean;
}

function parseNumber(expr: string, b: Bounds): number {
  const key = expr.toLowerCase();
  if (b.names && Object.hasOwn(b.names, key)) return b.names[key]!;
  if (!/^[+-]?\d+$/.test(expr)) throw new CronError(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`);
  const n = Number(expr);
  if (n < 0) throw new CronError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseRange(expr: string, b: Bounds, f: Field): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    if (lowAndHigh.length > 1) throw new CronError(`too many hyphens: ${expr}`);
    [start, end, star] = [b.min, b.max, true];
  } else {
    start = parseNumber(lowAndHigh[0]!, b);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseNumber(lowAndHigh[1]!, b);
    else throw new CronError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = parseNumber(rangeAndStep[1]!, { min: 0, max: 0 });
    if (lowAndHigh.length === 1) end = b.max; // "N/step" means "N-max/step"
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) throw new CronError(`too many slashes: ${expr}`);
  if (start < b.min) throw new CronError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronError(`step of range should be a positive number: ${expr}`);
  for (let i = start; i <= end; i += step) f.set[i] = true;
  if (star) f.star = true;
}

function parseField(text: string, b: Bounds): Field {
  const f: Field = { set: [], star: false };
  for (const expr of text.split(',').filter((e) => e !== '')) parseRange(expr, b, f);
  return f;
}

// ---- Go durations, for @every ------------------------------------------------------------------------

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseGoDuration(s: string): number {
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(s);
  if (!m) throw new CronError(`failed to parse duration ${s}: time: invalid duration ${JSON.stringify(s)}`);
  let ms = 0;
  for (const part of m[2]!.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) ms += Number(part[1]) * UNIT_MS[part[2]!]!;
  return m[1] === '-' ? -ms : ms;
}

// ---- time zones -----------------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Whether `tz` names an IANA time zone this runtime knows. */
export function isValidTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

const isUTC = (tz: string | undefined): boolean => !tz || tz === 'UTC' || tz === 'Etc/UTC';

/** The wall clock of instant `ms` in `tz`, as a UTC-based millisecond count. */
function toWall(ms: number, tz: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + (((ms % 1000) + 1000) % 1000);
}

/**
 * The first instant after `after` whose wall clock in `tz` is `w`; a skipped wall time maps to the
 * instant just past the jump. Null when `w`'s first occurrence is not after `after`.
 */
function fromWall(w: number, tz: string, after: number): number | null {
  const offsets = new Set([w - 86_400_000, w, w + 86_400_000].map((t) => toWall(t, tz) - t));
  const candidates = [...offsets].map((o) => w - o);
  const exact = candidates.filter((c) => toWall(c, tz) === w);
  if (exact.length) {
    const first = Math.min(...exact);
    return first > after ? first : null;
  }
  const later = candidates.filter((c) => toWall(c, tz) > w && c > after);
  return later.length ? Math.min(...later) : null;
}

// ---- schedules ---------------------------------------------------------------------------------------

class SpecSchedule implements CronSchedule {
  constructor(
    readonly source: string,
    private readonly f: Field[],
    readonly timeZone?: string,
  ) {}

  private dayMatches(t: Date): boolean {
    const dom = this.f[2]!;
    const dow = this.f[4]!;
    const domMatch = dom.set[t.getUTCDate()] === true;
    const dowMatch = dow.set[t.getUTCDay()] === true;
    return dom.star || dow.star ? domMatch && dowMatch : domMatch || dowMatch;
  }

  /** The first wall time (UTC-based ms) strictly after `wall` that matches, robfig's search. */
  nextWall(wall: number): number | null {
    let t = Math.floor(wall / 60_000) * 60_000 + 60_000;
    const yearLimit = new Date(t).getUTCFullYear() + 5;
    const [minute, hour, , month] = this.f as [Field, Field, Field, Field, Field];
    for (;;) {
      const d = new Date(t);
      const [y, mo, day, h] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()];
      if (y > yearLimit) return null;
      if (!month.set[mo + 1]) t = Date.UTC(y, mo + 1, 1);
      else if (!this.dayMatches(d)) t = Date.UTC(y, mo, day + 1);
      else if (!hour.set[h]) t = Date.UTC(y, mo, day, h + 1);
      else if (!minute.set[d.getUTCMinutes()]) t += 60_000;
      else return t;
    }
  }

  next(after: Date, timeZone?: string): Date | null {
    const tz = timeZone ?? this.timeZone;
    const a = after.getTime();
    if (isUTC(tz)) {
      const w = this.nextWall(a);
      return w === null ? null : new Date(w);
    }
    let wall = toWall(a, tz!);
    for (let guard = 0; guard < 10_000; guard++) {
      const w = this.nextWall(wall);
      if (w === null) return null;
      const inst = fromWall(w, tz!, a);
      if (inst !== null) return new Date(inst);
      wall = w;
    }
    return null;
  }
}

class EverySchedule implements CronSchedule {
  constructor(
    readonly source: string,
    private readonly delayMs: number,
    readonly timeZone?: string,
  ) {}
  next(after: Date): Date {
    const t = after.getTime();
    return new Date(t - (((t % 1000) + 1000) % 1000) + this.delayMs);
  }
}

/** Parse a schedule; throws CronError with robfig/cron's wording. */
export function parseCron(spec: string): CronSchedule {
  if (typeof spec !== 'string' || spec.length === 0) throw new CronError('empty spec string');
  let rest = spec;
  let timeZone: string | undefined;
  if (rest.startsWith('TZ=') || rest.startsWith('CRON_TZ=')) {
    const sp = rest.indexOf(' ');
    const zone = rest.slice(rest.indexOf('=') + 1, sp < 0 ? undefined : sp);
    if (!isValidTimeZone(zone)) throw new CronError(`provided bad location ${zone}: unknown time zone ${zone}`);
    timeZone = zone;
    rest = sp < 0 ? '' : rest.slice(sp).trim();
  }
  if (rest.startsWith('@')) {
    if (rest.startsWith('@every ')) {
      const ms = parseGoDuration(rest.slice('@every '.length).trim());
      const delay = Math.max(1000, ms - (ms % 1000));
      return new EverySchedule(spec, delay, timeZone);
    }
    const expanded = Object.hasOwn(DESCRIPTORS, rest) ? DESCRIPTORS[rest] : undefined;
    if (!expanded) throw new CronError(`unrecognized descriptor: ${rest}`);
    rest = expanded;
  }
  const fields = rest.split(/\s+/).filter((x) => x !== '');
  if (fields.length !== 5) throw new CronError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  return new SpecSchedule(spec, fields.map((text, i) => parseField(text, FIELDS[i]!)), timeZone);
}

/** What is wrong with a spec, or undefined when it parses. */
export function cronSpecError(spec: string): string | undefined {
  try {
    parseCron(spec);
    return undefined;
  } catch (e) {
    if (e instanceof CronError) return e.message;
    throw e;
  }
}

/** The first fire time of `spec` after `after` (null if none within five years). Throws CronError. */
export function nextFireTime(spec: string, after: Date, timeZone?: string): Date | null {
  return parseCron(spec).next(after, timeZone);
}

export interface MostRecent {
  /** The latest fire time in (earliest, now], or null when none is due. */
  mostRecent: Date | null;
  /** How many fire times fell in (earliest, now], counted up to `maxMissed + 1`. */
  missed: number;
  /** More than `maxMissed` were missed (the CronJob controller then warns "too many missed start times"). */
  tooMany: boolean;
}

/**
 * The CronJob controller's question: which scheduled times fell after `earliest` (last schedule
 * time, or creation) and at or before `now`? Cheap even after a long sleep.
 */
export function mostRecentScheduleTime(
  schedule: CronSchedule,
  earliest: Date,
  now: Date,
  opts: { timeZone?: string; maxMissed?: number } = {},
): MostRecent {
  const max = opts.maxMissed ?? 100;
  let missed = 0;
  let last: Date | null = null;
  for (let t = schedule.next(earliest, opts.timeZone); t && t <= now; t = schedule.next(t, opts.timeZone)) {
    last = t;
    if (++missed > max) break;
  }
  if (missed <= max) return { mostRecent: last, missed, tooMany: false };
  // Too many to walk: look back from now over growing windows for the latest one.
  for (const windowMs of [3_600_000, 86_400_000, 32 * 86_400_000, 367 * 86_400_000, 6 * 367 * 86_400_000]) {
    const from = new Date(Math.max(earliest.getTime(), now.getTime() - windowMs));
    let t = schedule.next(from, opts.timeZone);
    if (!t || t > now) continue;
    for (let n = schedule.next(t, opts.timeZone); n && n <= now; n = schedule.next(n, opts.timeZone)) t = n;
    return { mostRecent: t, missed, tooMany: true };
  }
  return { mostRecent: last, missed, tooMany: true };
}
