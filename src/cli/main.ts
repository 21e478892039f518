/** The `holdfast` command: dispatch to one module per command group. */
import { readFileSync } from "node:fs";
import { UsageError, boolFlag, hoistGlobalFlags, parseFlags } from "./args.ts";
import { clientOf, processContext } from "./context.ts";
import type { CliContext } from "./context.ts";
import { text } from "./fields.ts";
import { apiResourcesTable, resolveKind } from "./kinds.ts";
import { describeError } from "./output.ts";

export const USAGE = `holdfast: run databases declaratively, KubeBlocks-style, on this machine.

Usage:
  holdfast COMMAND [ARGS] [flags]

Server and access:
  init              Initialise a home: TLS, keys, roles, the first administrator (shown once)
  server            Run the control plane (server --detach, server stop, server status)
  login, logout     Start or end a session (password + TOTP)
  user              Users: create, list, disable, enable, reset-mfa, set-password, delete
  token             API tokens for automation: create, list, revoke
  auth              auth can-i VERB RESOURCE, auth whoami
  audit             The audit log: list, export, verify
  incident          Security incidents: list, describe, ack, contain, resolve
  secrets           Secret keys: keys, rotate-key, rewrap
  node              Control-plane nodes on etcd: join-command
  monitoring        Prometheus: prometheus-config, rules

Objects (kubectl habits):
  apply -f FILE     Create or update objects from YAML/JSON manifests
  get KIND [NAME]   List or show objects (-o wide|json|yaml|jsonpath=|custom-columns=, -l, -w, -A)
  describe KIND NAME  Show an object with its status, conditions and events
  delete KIND NAME  Delete objects (-f FILE, --wait)
  patch KIND NAME   Change fields with a merge, JSON or strategic merge patch (-p)
  label, annotate   Add, change (--overwrite) or remove (KEY-) labels or annotations
  create namespace NAME  Create a namespace
  wait KIND/NAME --for=phase=Running  Wait for a phase, a condition, or deletion
  api-resources     List the kinds the server offers

Databases (kbcli habits):
  cluster           create, list-instances, connect, restore, start, stop, restart, promote, hscale
  logs INSTANCE     A database instance's own log (-f, --tail N, --since D, -c exporter)
  backup            create, list, verify, delete (restore: holdfast cluster restore NEW --backup NAME)
  engines           list, install

Other:
  version           Show the client and server versions

Global flags:
  --server URL      API server (default: HOLDFAST_SERVER, <home>/server.json, https://127.0.0.1:7420)
  --home DIR        Holdfast home (default: HOLDFAST_HOME or ~/.holdfast)
  -n, --namespace   Namespace (default: default)
  -h, --help        Help for any command, e.g. holdfast get --help

Quick start:
  holdfast init                      (once; shows the administrator's password and TOTP secret)
  holdfast server --detach
  holdfast login --username admin
  holdfast cluster create pg --engine postgresql
  holdfast wait cluster/pg --for=phase=Running
  holdfast cluster connect pg
`;

const CREATE_HELP = `Create an object from the command line.

Usage:
  holdfast create namespace NAME

Example:
  holdfast create namespace demo
`;

type Handler = (ctx: CliContext, argv: readonly string[]) => Promise<number>;

/** The package version, read from package.json next to the sources. */
export function clientVersion(): string {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    const parsed = JSON.parse(text) as { version?: unknown };
    return typeof parsed.version === "string" ? parsed.version : "unknown";
  } catch {
    return "unknown";
  }
}

async function runVersion(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, {}, "version");
  ctx.io.out(`Client Version: ${clientVersion()}\n`);
  try {
    const answer = await clientOf(ctx, args.values).getJson("/version");
    const version = text(answer, "version") || text(answer, "gitVersion") || JSON.stringify(answer);
    ctx.io.out(`Server Version: ${version}\n`);
  } catch (error) {
    ctx.io.err(`Server Version: unavailable (${error instanceof Error ? error.message : String(error)})\n`);
  }
  return 0;
}

async function runCreate(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, {}, "create");
  if (boolFlag(args.values, "help")) {
    ctx.io.out(CREATE_HELP);
    return 0;
  }
  const [kind, name, extra] = args.positionals;
  if (kind === undefined || resolveKind(kind, "create").kind !== "Namespace") {
    throw new UsageError(`only "create namespace NAME" is supported; create other objects with "holdfast apply -f" or "holdfast cluster create"`, "create");
  }
  if (name === undefined) throw new UsageError("missing NAME: holdfast create namespace NAME", "create");
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`, "create");
  const info = resolveKind("Namespace", "create");
  await clientOf(ctx, args.values).create(info, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  ctx.io.out(`namespace/${name} created\n`);
  return 0;
}

function runApiResources(ctx: CliContext, argv: readonly string[]): Promise<number> {
  parseFlags(argv, {}, "api-resources");
  ctx.io.out(apiResourcesTable());
  return Promise.resolve(0);
}

// Command modules load on first use, so a short command does not pay for the server, the engines or YAML.
const COMMANDS: Record<string, Handler> = {
  server: async (ctx, argv) => (await import("./server.ts")).runServerCommand(ctx, argv),
  apply: async (ctx, argv) => (await import("./apply.ts")).runApply(ctx, argv),
  get: async (ctx, argv) => (await import("./get.ts")).runGet(ctx, argv),
  describe: async (ctx, argv) => (await import("./describe.ts")).runDescribe(ctx, argv),
  delete: async (ctx, argv) => (await import("./delete.ts")).runDelete(ctx, argv),
  patch: async (ctx, argv) => (await import("./patch.ts")).runPatch(ctx, argv),
  label: async (ctx, argv) => (await import("./patch.ts")).runLabel(ctx, argv, "labels"),
  annotate: async (ctx, argv) => (await import("./patch.ts")).runLabel(ctx, argv, "annotations"),
  create: runCreate,
  init: async (ctx, argv) => (await import("./init.ts")).runInit(ctx, argv),
  login: async (ctx, argv) => (await import("./auth.ts")).runLogin(ctx, argv),
  logout: async (ctx, argv) => (await import("./auth.ts")).runLogout(ctx, argv),
  secrets: async (ctx, argv) => (await import("./secrets.ts")).runSecrets(ctx, argv),
  user: async (ctx, argv) => (await import("./user.ts")).runUser(ctx, argv),
  token: async (ctx, argv) => (await import("./token.ts")).runToken(ctx, argv),
  incident: async (ctx, argv) => (await import("./incident.ts")).runIncident(ctx, argv),
  logs: async (ctx, argv) => (await import("./logs.ts")).runLogs(ctx, argv),
  auth: async (ctx, argv) => (await import("./auth-can-i.ts")).runAuth(ctx, argv),
  audit: async (ctx, argv) => (await import("./audit.ts")).runAudit(ctx, argv),
  node: async (ctx, argv) => (await import("./node.ts")).runNode(ctx, argv),
  monitoring: async (ctx, argv) => (await import("./monitoring.ts")).runMonitoring(ctx, argv),
  wait: async (ctx, argv) => (await import("./wait.ts")).runWait(ctx, argv),
  cluster: async (ctx, argv) => (await import("./cluster.ts")).runCluster(ctx, argv),
  backup: async (ctx, argv) => (await import("./backup.ts")).runBackup(ctx, argv),
  engines: async (ctx, argv) => (await import("./engines.ts")).runEngines(ctx, argv),
  version: runVersion,
  "api-resources": runApiResources,
};

/** Run one command line; returns the exit code (0 ok, 1 error, 2 usage). Errors are printed, never thrown. */
export async function main(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  const [command, ...rest] = hoistGlobalFlags(argv);
  try {
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      ctx.io.out(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === "--version") return await runVersion(ctx, rest);
    const handler = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (handler === undefined) throw new UsageError(`unknown command "${command}"`);
    return await handler(ctx, rest);
  } catch (error) {
    const { text, exitCode } = describeError(error);
    ctx.io.err(text);
    return exitCode;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}


