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

/** The time a log line starts with (PostgreSQL's, Redis', MariaDB's or the exporters' logfmt), or undefined when it has none. */
export function lineTime(line: string): number | undefined {
  const mariadb = MARIADB_ERROR.exec(line) ?? MARIADB_AUDIT.exec(line);
  if (mariadb !== null) return localTime(mariadb);
  const logfmt = LOGFMT.exec(line);
  if (logfmt !== null) {
    const parsed = Date.parse(logfmt[1] ?? "");
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  const iso = ISO_LIKE.exec(line);
  if (iso !== null) {
    const parsed = Date.parse(`${iso[1] ?? ""}T${iso[2] ?? ""}${isoZone(iso[3])}`);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  const redis = REDIS_LINE.exec(line);
  if (redis === null) return undefined;
  const month = MONTHS.indexOf(redis[2] ?? "") + 1;
  if (month === 0) return undefined;
  const parsed = Date.parse(`${redis[3] ?? ""}-${String(month).padStart(2, "0")}-${redis[1] ?? ""}T${redis[4] ?? ""}Z`);
  return Number.isNaN(parsed) ? undefined : parsed;
}
