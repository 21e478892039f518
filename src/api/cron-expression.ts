/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week) as Kubernetes CronJobs read them, which
 * is how KubeBlocks runs BackupSchedules: numbers, `*`, `?`, ranges `a-b`, steps `*\/n` `a-b/n` `a/n`, lists, month
 * and weekday names (`jan`, `mon`), `7` for Sunday, and `@yearly` `@monthly` `@weekly` `@daily` `@hourly`. When both
 * day fields are restricted a day matching either fires. Times are UTC unless the expression starts with
 * `CRON_TZ=Zone` (or `TZ=Zone`), an IANA zone such as `CRON_TZ=Europe/Berlin 30 2 * * *`; in a zone, a wall-clock
 * time skipped by a daylight-saving change does not fire, and one repeated fires once.
 */

const MINUTE_MS = 60_000;
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
/** Nothing in eight years (29 February on a given weekday) means never; validation refuses most such cases first. */
const SEARCH_LIMIT_MS = 8 * 366 * 24 * 60 * MINUTE_MS;

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

interface FieldRule {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Offset of the first name's value (months count from 1). */
  nameBase?: number;
}

const FIELD_RULES: readonly FieldRule[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 },
  // 7 is Sunday too; it is folded onto 0 once parsed.
  { name: "day-of-week", min: 0, max: 7, names: WEEKDAY_NAMES, nameBase: 0 },
];

/** A wall-clock time in the schedule's zone. */
interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

/** A parsed cron expression. */
export interface CronSchedule {
  /** The expression as written. */
  readonly expression: string;
  /** IANA time zone the fields are read in. */
  readonly timeZone: string;
  /** The first time strictly after `after` (to the minute) when the schedule fires; undefined if none in eight years. */
  next(after: Date): Date | undefined;
}

/** Why `text` is not a cron expression (naming the field), or undefined when it is one. */
export function cronExpressionProblem(text: string): string | undefined {
  const parsed = parseCron(text);
  return "problem" in parsed ? parsed.problem : undefined;
}

/** Parse a cron expression; throws an Error naming the bad field. */
export function parseCronExpression(text: string): CronSchedule {
  const parsed = parseCron(text);
  if ("problem" in parsed) throw new Error(`cron expression ${JSON.stringify(text)}: ${parsed.problem}`);
  return parsed;
}

class ParsedCron implements CronSchedule {
  readonly expression: string;
  readonly timeZone: string;
  readonly #fields: readonly (readonly boolean[])[];
  readonly #domStar: boolean;
  readonly #dowStar: boolean;
  readonly #wall: (at: number) => WallClock;

  constructor(expression: string, timeZone: string, fields: readonly (readonly boolean[])[], stars: { dom: boolean; dow: boolean }) {
    this.expression = expression;
    this.timeZone = timeZone;
    this.#fields = fields;
    this.#domStar = stars.dom;
    this.#dowStar = stars.dow;
    this.#wall = wallClockIn(timeZone);
  }

  next(after: Date): Date | undefined {
    const start = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    const before = this.timeZone === "UTC" ? undefined : wallKey(this.#wall(after.getTime()));
    for (let t = start; t - start < SEARCH_LIMIT_MS; ) {
      const wall = this.#wall(t);
      const skip = this.#minutesToSkip(wall);
      // A repeated wall-clock hour (clocks going back) does not fire again what already fired.
      if (skip === 0 && (before === undefined || wallKey(wall) > before)) return new Date(t);
      t += Math.max(1, skip) * MINUTE_MS;
    }
    return undefined;
  }

  /** 0 when `wall` matches; otherwise how many minutes can be skipped without passing a match. */
  #minutesToSkip(wall: WallClock): number {
    const [minutes = [], hours = [], , months = []] = this.#fields;
    if (months[wall.month] !== true || !this.#dayMatches(wall)) return (23 - wall.hour) * 60 + (60 - wall.minute);
    if (hours[wall.hour] !== true) return 60 - wall.minute;
    if (minutes[wall.minute] === true) return 0;
    const nextMinute = minutes.findIndex((allowed, minute) => allowed && minute > wall.minute);
    return nextMinute === -1 ? 60 - wall.minute : nextMinute - wall.minute;
  }

  #dayMatches(wall: WallClock): boolean {
    const dom = this.#fields[2]?.[wall.day] ?? false;
    const dow = this.#fields[4]?.[wall.weekday] ?? false;
    return this.#domStar || this.#dowStar ? dom && dow : dom || dow;
  }
}

function parseCron(text: string): ParsedCron | { problem: string } {
  const zoned = splitTimeZone(text.trim());
  if ("problem" in zoned) return zoned;
  const body = MACROS[zoned.body.toLowerCase()] ?? zoned.body;
  if (body.startsWith("@")) return { problem: `unknown macro ${body}; use @yearly, @monthly, @weekly, @daily or @hourly, or five fields` };
  const parts = body.split(/\s+/).filter((p) => p !== "");
  if (parts.length !== 5) return { problem: `has ${parts.length} field${parts.length === 1 ? "" : "s"}; it needs five: minute hour day-of-month month day-of-week, such as '0 18 * * *'` };
  const fields = parseFields(parts);
  if ("problem" in fields) return fields;
  const stars = { dom: isStar(parts[2]), dow: isStar(parts[4]) };
  const impossible = stars.dow ? impossibleDays(fields.tables[2] ?? [], fields.tables[3] ?? []) : undefined;
  if (impossible !== undefined) return { problem: impossible };
  return new ParsedCron(text, zoned.timeZone, fields.tables, stars);
}

function parseFields(parts: readonly string[]): { tables: boolean[][] } | { problem: string } {
  const tables: boolean[][] = [];
  for (const [index, rule] of FIELD_RULES.entries()) {
    const field = parseField(parts[index] ?? "", rule);
    if (typeof field === "string") return { problem: `${rule.name} field ${JSON.stringify(parts[index])}: ${field}` };
    tables.push(field);
  }
  const weekdays = tables[4] ?? [];
  if (weekdays[7] === true) weekdays[0] = true;
  weekdays.length = 7;
  return { tables };
}

function isStar(field: string | undefined): boolean {
  return field === "*" || field === "?";
}

function splitTimeZone(text: string): { timeZone: string; body: string } | { problem: string } {
  const match = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(text);
  if (match === null) return { timeZone: "UTC", body: text };
  const timeZone = match[1] ?? "";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    return { problem: `unknown time zone ${JSON.stringify(timeZone)}; use an IANA name such as UTC or Europe/Berlin` };
  }
  return { timeZone, body: match[2] ?? "" };
}

/** The values a field allows, as a table indexed by value; or what is wrong with it. */
function parseField(field: string, rule: FieldRule): boolean[] | string {
  const allowed = new Array<boolean>(rule.max + 1).fill(false);
  for (const term of field.split(",")) {
    const range = parseTerm(term, rule);
    if (typeof range === "string") return range;
    for (let value = range.from; value <= range.to; value += range.step) allowed[value] = true;
  }
  return allowed;
}

function parseTerm(term: string, rule: FieldRule): { from: number; to: number; step: number } | string {
  const [span = "", stepText, extra] = term.split("/");
  if (extra !== undefined || span === "") return `${JSON.stringify(term)} is not a value, range or step`;
  const step = parseStep(stepText);
  if (typeof step === "string") return step;
  const range = parseSpan(span, rule, stepText !== undefined);
  return typeof range === "string" ? range : { ...range, step };
}

/** `*`, `?`, `a` or `a-b`; `a` with a step means from a to the end. */
function parseSpan(span: string, rule: FieldRule, stepped: boolean): { from: number; to: number } | string {
  if (span === "*" || span === "?") return everyValue(span, rule);
  const [fromText = "", toText, more] = span.split("-");
  if (more !== undefined) return `${JSON.stringify(span)} is not a range a-b`;
  const from = valueOf(fromText, rule);
  if (typeof from === "string") return from;
  const to = toText === undefined ? (stepped ? rule.max : from) : valueOf(toText, rule);
  if (typeof to === "string") return to;
  return to < from ? `range ${span} runs backwards; write it as ${toText ?? ""}-${fromText} or as a list` : { from, to };
}

function everyValue(span: string, rule: FieldRule): { from: number; to: number } | string {
  const isDay = rule.name === "day-of-month" || rule.name === "day-of-week";
  if (span === "?" && !isDay) return "? is only allowed in day-of-month and day-of-week";
  return { from: rule.min, to: rule.name === "day-of-week" ? 6 : rule.max };
}

function parseStep(text: string | undefined): number | string {
  if (text === undefined) return 1;
  const step = Number(text);
  return /^[0-9]+$/.test(text) && step >= 1 ? step : `step ${JSON.stringify(text)} must be a whole number of at least 1`;
}

function valueOf(text: string, rule: FieldRule): number | string {
  const named = rule.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named !== -1) return named + (rule.nameBase ?? 0);
  if (!/^[0-9]+$/.test(text)) return `${JSON.stringify(text)} is not a number${rule.names ? ` or a name (${rule.names.join(", ")})` : ""}`;
  const value = Number(text);
  if (value < rule.min || value > rule.max) return `${value} is outside ${rule.min}-${rule.max}`;
  return value;
}

/** With any weekday allowed, a day-of-month no allowed month has never comes. */
function impossibleDays(days: readonly boolean[], months: readonly boolean[]): string | undefined {
  const longest = Math.max(...MONTH_DAYS.filter((_, i) => months[i + 1] === true));
  const first = days.findIndex((allowed) => allowed);
  return first > longest ? `day-of-month ${first} never occurs in the months of the month field` : undefined;
}

function wallKey(wall: WallClock): number {
  return ((((wall.year * 13 + wall.month) * 32 + wall.day) * 24 + wall.hour) * 60) + wall.minute;
}

function wallClockIn(timeZone: string): (at: number) => WallClock {
  if (timeZone === "UTC") {
    return (at) => {
      const d = new Date(at);
      return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), weekday: d.getUTCDay() };
    };
  }
  const format = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", weekday: "short" });
  return (at) => {
    const parts: Record<string, string> = {};
    for (const part of format.formatToParts(at)) parts[part.type] = part.value;
    const weekday = WEEKDAY_NAMES.indexOf((parts["weekday"] ?? "").toLowerCase());
    return { year: Number(parts["year"]), month: Number(parts["month"]), day: Number(parts["day"]), hour: Number(parts["hour"]), minute: Number(parts["minute"]), weekday };
  };
}
