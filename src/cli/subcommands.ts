/** Command groups with subcommands (`holdfast user create`, `holdfast audit verify`): dispatch, help and `-o`. */
import type { ParseArgsOptionsConfig } from "node:util";
import { UsageError, boolFlag, parseFlags, stringFlag } from "./args.ts";
import type { FlagValues, ParsedArgs } from "./args.ts";
import type { CliContext } from "./context.ts";

/** One subcommand: its help, its own flags (the common ones are added) and what it does. */
export interface Subcommand {
  help: string;
  flags: ParseArgsOptionsConfig;
  run(ctx: CliContext, args: ParsedArgs): Promise<number>;
}

/** A command group: its name, its overview help and its subcommands. */
export interface CommandGroup {
  name: string;
  help: string;
  subcommands: Record<string, Subcommand>;
}

/** Run `holdfast GROUP SUBCOMMAND [flags]`; no subcommand prints the group's help (exit 2), `--help` exits 0. */
export async function runGroup(ctx: CliContext, argv: readonly string[], group: CommandGroup): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    ctx.io.out(group.help);
    return name === undefined ? 2 : 0;
  }
  const subcommand = Object.hasOwn(group.subcommands, name) ? group.subcommands[name] : undefined;
  if (subcommand === undefined) {
    const known = Object.keys(group.subcommands).join(", ");
    throw new UsageError(`unknown ${group.name} subcommand "${name}": use one of ${known}`, group.name);
  }
  const command = `${group.name} ${name}`;
  const args = parseFlags(rest, subcommand.flags, command);
  if (boolFlag(args.values, "help")) {
    ctx.io.out(subcommand.help);
    return 0;
  }
  return subcommand.run(ctx, args);
}

/** The `-o` flag among `allowed` (absent: "table"), else a usage error listing them. */
export function outputOf<T extends string>(values: FlagValues, allowed: readonly T[], command: string): T | "table" {
  const raw = stringFlag(values, "output");
  if (raw === undefined) return "table";
  const format = allowed.find((candidate) => candidate === raw);
  if (format === undefined) throw new UsageError(`unknown output format "${raw}"; use ${allowed.join(" or ")}`, command);
  return format;
}

/** `-o/--output`, for the subcommands that take it. */
export const OUTPUT_FLAG: ParseArgsOptionsConfig = { output: { type: "string", short: "o" } };
