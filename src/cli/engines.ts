/** `holdfast engines`: which database engines this host can run, and installing them. */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { EngineCatalog, builtinEngines } from "../engines/index.ts";
import type { Engine } from "../engines/index.ts";
import { CliError, UsageError, boolFlag, parseFlags, stringFlag } from "./args.ts";
import type { ParsedArgs } from "./args.ts";
import type { CliContext } from "./context.ts";
import { formatTable, toJson } from "./output.ts";
import { LOCAL_RUNTIME_PACKAGES } from "../runtime/index.ts";

export const ENGINES_HELP = `List the built-in database engines and install their packages.

Usage:
  holdfast engines list [-o table|json]
  holdfast engines install [ENGINE...]

Examples:
  holdfast engines list
  holdfast engines install postgresql      # as root on Debian: apt-get install -y postgresql postgresql-client prometheus-postgres-exporter
`;

/** One row of `engines list`. */
export interface EngineSummary {
  name: string;
  versions: string[];
  topologies: string[];
  defaultTopology: string | undefined;
  installed: boolean;
  packages: string[];
}

/** What every engine offers and which versions are installed here. */
export async function summarizeEngines(engines: readonly Engine[]): Promise<EngineSummary[]> {
  const catalog = new EngineCatalog(engines);
  return Promise.all(
    catalog.list().map(async (engine) => {
      const versions = await catalog.versions(engine.name).catch(() => []);
      return {
        name: engine.name,
        versions: versions.map((v) => v.version),
        topologies: engine.definition.topologies.map((t) => t.name),
        defaultTopology: engine.definition.topologies.find((t) => t.default)?.name,
        installed: versions.length > 0,
        packages: [...engine.packages],
      };
    }),
  );
}

async function runList(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const format = stringFlag(args.values, "output") ?? "table";
  if (format !== "table" && format !== "json") throw new UsageError(`unknown output format "${format}"; use table or json`, "engines list");
  const summaries = await summarizeEngines(builtinEngines());
  if (format === "json") {
    ctx.io.out(toJson(summaries));
    return 0;
  }
  const rows = summaries.map((s) => [s.name, s.versions.join(",") || "-", s.topologies.map((t) => (t === s.defaultTopology ? `${t} (default)` : t)).join(","), s.installed ? "yes" : "no"]);
  ctx.io.out(formatTable(["ENGINE", "VERSION(S)", "TOPOLOGIES", "INSTALLED"], rows));
  if (summaries.some((s) => !s.installed)) ctx.io.err(`Install missing engines with: holdfast engines install\n`);
  return 0;
}

/** The Debian packages for the named engines (all when none are named), their exporters' included, without duplicates. */
export function packagesFor(engines: readonly Engine[], names: readonly string[]): string[] {
  const chosen = names.length === 0 ? engines : names.map((name) => {
    const engine = engines.find((e) => e.name === name);
    if (engine === undefined) throw new UsageError(`unknown engine "${name}": use one of ${engines.map((e) => e.name).join(", ")}`, "engines install");
    return engine;
  });
  return [...new Set(chosen.flatMap((engine) => [...engine.packages, ...(engine.exporter === undefined ? [] : [engine.exporter.package])]))];
}

function runAptGet(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn("apt-get", args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

async function runInstall(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const packages = [...packagesFor(builtinEngines(), args.positionals), ...LOCAL_RUNTIME_PACKAGES];
  const command = `apt-get install -y ${packages.join(" ")}`;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !existsSync("/etc/debian_version")) {
    const why = isRoot ? "this host is not Debian-based" : "installing packages needs root";
    throw new CliError(`${why}; run as root:\n  ${command}\n(on other systems, install the equivalent packages with the system's package manager)`);
  }
  ctx.io.err(`Running: ${command}\n`);
  if ((await runAptGet(["install", "-y", ...packages])) === 0) return 0;
  ctx.io.err("Install failed; refreshing the package lists (apt-get update) and trying again\n");
  if ((await runAptGet(["update"])) !== 0) throw new CliError("apt-get update failed; check the network and /etc/apt/sources.list");
  if ((await runAptGet(["install", "-y", ...packages])) !== 0) throw new CliError(`"${command}" failed; see the apt-get output above`);
  return 0;
}

/** Run `holdfast engines SUBCOMMAND`. */
export async function runEngines(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    ctx.io.out(ENGINES_HELP);
    return name === undefined ? 2 : 0;
  }
  if (name !== "list" && name !== "install") throw new UsageError(`unknown engines subcommand "${name}": use list or install`, "engines");
  const args = parseFlags(rest, name === "list" ? { output: { type: "string", short: "o" } } : {}, `engines ${name}`);
  if (boolFlag(args.values, "help")) {
    ctx.io.out(ENGINES_HELP);
    return 0;
  }
  if (name === "list") {
    if (args.positionals.length > 0) throw new UsageError("engines list takes no arguments", "engines list");
    return runList(ctx, args);
  }
  return runInstall(ctx, args);
}
