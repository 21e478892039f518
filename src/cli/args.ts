/** Flag parsing shared by every command: `node:util` parseArgs, usage errors, durations, namespaces. */
import { parseArgs } from "node:util";
import type { ParseArgsOptionsConfig } from "node:util";

/** A command line the user got wrong: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  readonly command: string;

  constructor(message: string, command = "") {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** A failure the user can act on (not a usage mistake, not a server Status): exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** Values of parsed flags. */
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Flags and positional arguments of one command. */
export interface ParsedArgs {
  values: FlagValues;
  positionals: string[];
}

/** `--server`, `--home` and `--help`, accepted by every command. */
export const COMMON_FLAGS: ParseArgsOptionsConfig = {
  server: { type: "string" },
  home: { type: "string" },
  help: { type: "boolean", short: "h" },
};

/** `-n/--namespace` and `-A/--all-namespaces`. */
export const NAMESPACE_FLAGS: ParseArgsOptionsConfig = {
  namespace: { type: "string", short: "n" },
  "all-namespaces": { type: "boolean", short: "A" },
};

/** Parse a command's arguments; unknown flags and missing values become a UsageError. */
export function parseFlags(argv: readonly string[], options: ParseArgsOptionsConfig, command: string): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...COMMON_FLAGS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message, command);
  }
}

/** A string flag's value, or undefined. */
export function stringFlag(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/** A boolean flag's value (false when absent). */
export function boolFlag(values: FlagValues, name: string): boolean {
  return values[name] === true;
}

/** A positive integer flag, or the fallback when absent. */
export function intFlag(values: FlagValues, name: string, fallback: number, command: string): number {
  const raw = stringFlag(values, name);
  if (raw === undefined) return fallback;
  if (!/^[0-9]+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, got "${raw}"`, command);
  return Number(raw);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse a duration like `300s`, `5m`, `1h30m`, `1500ms` or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string): number {
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  const part = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match !== null; match = part.exec(text)) {
    total += Number(match[1]) * (DURATION_UNITS[match[2] ?? ""] ?? 0);
    consumed = part.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new UsageError(`invalid duration "${text}": use a number with a unit, such as 30s, 5m or 1h`);
  }
  return total;
}

/** The `--timeout` flag in milliseconds. */
export function timeoutFlag(values: FlagValues, fallbackMs: number, command: string): number {
  const raw = stringFlag(values, "timeout");
  if (raw === undefined) return fallbackMs;
  try {
    return parseDuration(raw);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), command);
  }
}

/** The namespace a command works in: `-n`, else `default`. */
export function namespaceOf(values: FlagValues): string {
  return stringFlag(values, "namespace") ?? "default";
}

/** Exactly `count` positionals, else a usage error naming what is missing. */
export function expectPositionals(args: ParsedArgs, names: readonly string[], command: string): string[] {
  const given = args.positionals;
  if (given.length < names.length) {
    throw new UsageError(`missing ${names.slice(given.length).join(" and ")}`, command);
  }
  if (given.length > names.length) {
    throw new UsageError(`unexpected argument "${given[names.length] ?? ""}"`, command);
  }
  return given;
}

const GLOBAL_WITH_VALUE = new Set(["--server", "--home", "--namespace", "-n"]);

/**
 * Move global flags written before the command (`holdfast -n demo get clusters`) after it,
 * so each command's parser sees them.
 */
export function hoistGlobalFlags(argv: readonly string[]): string[] {
  const leading: string[] = [];
  let index = 0;
  while (index < argv.length) {
    const arg = argv[index] ?? "";
    const name = arg.split("=")[0] ?? "";
    if (!GLOBAL_WITH_VALUE.has(name)) break;
    const takesNext = !arg.includes("=");
    leading.push(...argv.slice(index, index + (takesNext ? 2 : 1)));
    index += takesNext ? 2 : 1;
  }
  const rest = argv.slice(index);
  const words = rest.findIndex((arg) => arg.startsWith("-"));
  const commandWords = words === -1 ? rest : rest.slice(0, words);
  const tail = words === -1 ? [] : rest.slice(words);
  return [...commandWords, ...leading, ...tail];
}
