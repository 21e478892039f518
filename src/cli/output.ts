/** Rendering for people and scripts: kubectl-style tables and ages, JSON/YAML, and error messages. */
import { stringify } from "yaml";
import { HoldfastError } from "../errors/index.ts";
import { CliError, UsageError } from "./args.ts";
import { ApiError, ServerUnreachableError } from "./client.ts";

/** A cell on one line: a multi-line message would break the table's columns. */
export function oneLine(cell: string): string {
  return cell.includes("\n") ? cell.replace(/\s*\n\s*/g, " ") : cell;
}

/** Pad columns to their widest cell, three spaces apart, as kubectl does. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((row) => row.map(oneLine));
  const widths = columnWidths(headers, cells);
  return [headers, ...cells].map((row) => formatRow(row, widths)).join("\n") + "\n";
}

/** Widest cell of every column. */
export function columnWidths(headers: readonly string[], rows: readonly (readonly string[])[]): number[] {
  return headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
}

/** One table row padded to `widths`; the last column is not padded. */
export function formatRow(row: readonly string[], widths: readonly number[]): string {
  return row
    .map(oneLine)
    .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? cell.length)))
    .join("   ")
    .trimEnd();
}

/** kubectl's HumanDuration: `45s`, `5m30s`, `42m`, `3h20m`, `20h`, `2d4h`, `90d`, `2y30d`. */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.trunc(milliseconds / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return withRemainder(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withRemainder(hours, "h", minutes % 60, "m");
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return withRemainder(days, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return withRemainder(years, "y", days % 365, "d");
  return `${years}y`;
}

function withRemainder(major: number, majorUnit: string, minor: number, minorUnit: string): string {
  return minor === 0 ? `${major}${majorUnit}` : `${major}${majorUnit}${minor}${minorUnit}`;
}

/** Age of a timestamp relative to `now`; `<unknown>` when absent. */
export function formatAge(timestamp: string | undefined, now: Date): string {
  if (timestamp === undefined || timestamp === "") return "<unknown>";
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) return "<unknown>";
  return humanDuration(now.getTime() - then);
}

/** Pretty JSON with a trailing newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** YAML as kubectl prints it (no line folding). */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/** The message shown for an error, kubectl-style, and the process exit code it calls for. */
export function describeError(error: unknown): { text: string; exitCode: number } {
  if (error instanceof UsageError) {
    const help = error.command === "" ? "holdfast --help" : `holdfast ${error.command} --help`;
    return { text: `error: ${error.message}\nSee '${help}' for usage.\n`, exitCode: 2 };
  }
  if (error instanceof ApiError) return { text: formatApiError(error), exitCode: 1 };
  if (error instanceof ServerUnreachableError || error instanceof CliError || error instanceof HoldfastError) {
    return { text: `error: ${error.message}\n`, exitCode: 1 };
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { text: `error: unexpected failure: ${message}\n`, exitCode: 1 };
}

/** `Error from server (Invalid): <message>` and one line per field cause. */
export function formatApiError(error: ApiError): string {
  const lines = [`Error from server (${error.reason}): ${error.message}`];
  for (const cause of error.causes) {
    lines.push(cause.field === undefined || cause.field === "" ? `  ${cause.message}` : `  ${cause.field}: ${cause.message}`);
  }
  return lines.join("\n") + "\n";
}
