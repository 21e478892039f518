/** Rendering for people and scripts: kubectl-style tables and ages, JSON/YAML, and error messages. */
import { stringify } from "yaml";
import { HoldfastError } from "../errors/index.ts";
import { CliError, UsageError } from "./args.ts";
import { ApiError, ServerUnreachableError } from "./client.ts";

export { formatAge, humanDuration } from "../api/index.ts";

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
