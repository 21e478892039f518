/** When a line of a database's or an exporter's own log was written, from the time it starts with. */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
// PostgreSQL: `2026-12-06 09:00:00.123 UTC [123] LOG: …`
const ISO_LIKE = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?) ?(UTC|GMT|Z|[+-]\d{2}:?(?:\d{2})?)?/;
// Redis: `1234:M 06 Dec 2026 09:00:00.123 * …`
const REDIS_LINE = /^\d{1,10}:[A-Z] (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)/;
// The exporters (logfmt): `ts=2026-12-06T09:00:00.123Z caller=…` (postgres_exporter), `time="2026-12-06T09:00:00Z" level=…` (redis_exporter)
const LOGFMT = /^(?:ts|time)="?(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))"?\s/;
// MariaDB's error log, in the server's local time, the hour not padded: `2026-12-07  2:16:18 0 [Note] …`
const MARIADB_ERROR = /^(\d{4})-(\d{2})-(\d{2}) {1,2}(\d{1,2}):(\d{2}):(\d{2}) \d{1,20} \[/;
// MariaDB's audit log (server_audit), local time: `20261207 02:16:27,host,user,…`
const MARIADB_AUDIT = /^(\d{4})(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2}),/;

/** A zone as ISO 8601 writes it: `Z`, or `+01:00` for `+01`, `+0100` or `+01:00`. */
function isoZone(zone: string | undefined): string {
  if (zone === undefined || zone === "UTC" || zone === "GMT" || zone === "Z") return "Z";
  const digits = zone.slice(1).replace(":", "");
  return `${zone.slice(0, 1)}${digits.slice(0, 2)}:${digits.slice(2).padEnd(2, "0")}`;
}

/** A local time from its year, month, day, hour, minute and second (a match's groups 1 to 6). */
function localTime(match: RegExpExecArray): number | undefined {
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const time = new Date(year ?? 0, (month ?? 1) - 1, day, hour, minute, second).getTime();
  return Number.isNaN(time) ? undefined : time;
}

/** A time Date.parse reads, or undefined. */
function parsed(text: string): number | undefined {
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

function redisTime(match: RegExpExecArray): number | undefined {
  const month = MONTHS.indexOf(match[2] ?? "") + 1;
  return month === 0 ? undefined : parsed(`${match[3] ?? ""}-${String(month).padStart(2, "0")}-${match[1] ?? ""}T${match[4] ?? ""}Z`);
}

/** Each format a line may start with, and how its match becomes a time; the first that matches decides. */
const FORMATS: ReadonlyArray<readonly [RegExp, (match: RegExpExecArray) => number | undefined]> = [
  [MARIADB_ERROR, localTime],
  [MARIADB_AUDIT, localTime],
  [LOGFMT, (match) => parsed(match[1] ?? "")],
  [ISO_LIKE, (match) => parsed(`${match[1] ?? ""}T${match[2] ?? ""}${isoZone(match[3])}`)],
  [REDIS_LINE, redisTime],
];

/** The time a log line starts with (PostgreSQL's, Redis', MariaDB's or the exporters' logfmt), or undefined when it has none. */
export function lineTime(line: string): number | undefined {
  for (const [format, timeOf] of FORMATS) {
    const match = format.exec(line);
    if (match !== null) return timeOf(match);
  }
  return undefined;
}
