/** `holdfast cluster`: create, list-instances and connect, kbcli's everyday cluster commands. */
import { isIP } from "node:net";
import { findKind } from "../api/index.ts";
import { builtinEngines, LOOPBACK } from "../engines/index.ts";
import { NAMESPACE_FLAGS, UsageError, boolFlag, expectPositionals, intFlag, namespaceOf, parseFlags, stringFlag } from "./args.ts";
import type { FlagValues, ParsedArgs } from "./args.ts";
import { buildClusterManifest } from "./cluster-create.ts";
import { connectionTrust, resolveConnection } from "./cluster-connect.ts";
import { HSCALE_HELP, OPS_FLAGS, PROMOTE_HELP, RESTART_HELP, START_HELP, STOP_HELP, runOpsShortcut } from "./cluster-ops.ts";
import { RESTORE_FLAGS, RESTORE_HELP, runRestore } from "./cluster-restore.ts";
import { runClientProcess } from "./client-process.ts";
import { ROTATE_PASSWORD_FLAGS, ROTATE_PASSWORD_HELP, runRotatePassword } from "./cluster-rotate-password.ts";
import { clientOf, homeOf, serverUrlOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { text } from "./fields.ts";
import { lagCell } from "./lag.ts";
import { qualifiedName } from "./manifest.ts";
import { formatAge, formatTable, toYaml } from "./output.ts";

export const CLUSTER_HELP = `Manage database clusters.

Usage:
  holdfast cluster create NAME --engine postgresql|redis [flags]
  holdfast cluster list-instances NAME [-n NAMESPACE]
  holdfast cluster connect NAME [-n NAMESPACE] [--component C] [--account A] [--show-uri]
  holdfast cluster restore NEW --backup NAME [-n NAMESPACE]
  holdfast cluster rotate-password NAME [-n NAMESPACE] [--account A]...
  holdfast cluster start|stop NAME [-n NAMESPACE] [--wait]
  holdfast cluster restart NAME [--component C]... [--wait]
  holdfast cluster promote NAME [--component C] [--instance CANDIDATE] [--wait]
  holdfast cluster hscale NAME --replicas N [--component C] [--wait]

start, stop, restart, promote and hscale create OpsRequests, as kbcli does.
Run "holdfast cluster SUBCOMMAND --help" for the flags of each.
`;

const CREATE_HELP = `Create a cluster of a built-in engine.

Usage:
  holdfast cluster create NAME --engine postgresql|redis [--version V] [--replicas N]
    [--topology T] [--termination-policy P] [--cpu 1] [--memory 1Gi] [-n NAMESPACE] [--dry-run]

Examples:
  holdfast cluster create pg --engine postgresql -n demo
  holdfast cluster create cache --engine redis --version 7 --memory 512Mi
  holdfast cluster create pg --engine postgresql --dry-run > pg.yaml

Options:
      --engine               Engine (see "holdfast engines list")
      --version              Engine version (serviceVersion); default: the newest installed
      --replicas             Replicas of the first component (default: its minimum)
      --topology             Topology of the engine's cluster definition (default: its default)
      --termination-policy   DoNotTerminate, Delete (default) or WipeOut
      --cpu, --memory        Resource limits and requests, e.g. --cpu 0.5 --memory 1Gi
      --dry-run              Print the Cluster manifest as YAML instead of creating it
  -n, --namespace            Namespace (default: default)
`;

const LIST_INSTANCES_HELP = `List the instances (database processes) of a cluster.

Usage:
  holdfast cluster list-instances NAME [-n NAMESPACE]

Example:
  holdfast cluster list-instances pg -n demo
`;

const CONNECT_HELP = `Open the engine's client (psql, redis-cli) on a cluster.

A replicated component is reached through its read-write endpoint, a fixed port
that always leads to the current primary (status.endpoints); other components
through a ready instance. The password is read from the account's Secret and
passed through a private file or the client's own environment variable, never
on the command line. TLS is verified (verify-full) against the cluster CA, or,
for a component with issuer UserProvided, against the CA of its Secret, copied
to <home>/client-ca/<namespace>.<cluster>.<component>.crt.

Usage:
  holdfast cluster connect NAME [-n NAMESPACE] [--component C] [--account A] [--show-uri]

Examples:
  holdfast cluster connect pg -n demo
  holdfast cluster connect pg -n demo --show-uri     # prints the URI, password included
  holdfast cluster connect cache -n demo --show-uri  # rediss://… (Redis speaks TLS only: give your client the CA)

Options:
      --component   Component to connect to (default: the first)
      --account     System account or managed user (DatabaseUser) (default: the engine's administrator)
      --show-uri    Print the connection URI (it contains the password) and exit
`;

async function runCreate(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name = ""] = expectPositionals(args, ["NAME"], "cluster create");
  const engineName = stringFlag(args.values, "engine");
  const engines = builtinEngines();
  if (engineName === undefined) throw new UsageError(`missing --engine: one of ${engines.map((e) => e.name).join(", ")}`, "cluster create");
  const engine = engines.find((e) => e.name === engineName);
  if (engine === undefined) throw new UsageError(`unknown engine "${engineName}": use one of ${engines.map((e) => e.name).join(", ")}`, "cluster create");
  const optional = (flag: string): Record<string, string> => {
    const value = stringFlag(args.values, flag);
    return value === undefined ? {} : { [flag]: value };
  };
  const manifest = buildClusterManifest(engine, {
    name,
    namespace: namespaceOf(args.values),
    terminationPolicy: stringFlag(args.values, "termination-policy") ?? "Delete",
    ...optional("version"),
    ...optional("topology"),
    ...optional("cpu"),
    ...optional("memory"),
    ...(stringFlag(args.values, "replicas") === undefined ? {} : { replicas: intFlag(args.values, "replicas", 1, "cluster create") }),
  });
  if (boolFlag(args.values, "dry-run")) {
    ctx.io.out(toYaml(manifest));
    return 0;
  }
  const info = findKind("Cluster");
  if (!info) throw new Error("kind Cluster is not registered");
  await clientOf(ctx, args.values).create(info, manifest.metadata.namespace, manifest);
  ctx.io.out(`${qualifiedName(info, name)} created\n`);
  ctx.io.err(`Follow it with: holdfast wait cluster/${name} -n ${namespaceOf(args.values)} --for=phase=Running\n`);
  return 0;
}

async function runListInstances(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name = ""] = expectPositionals(args, ["NAME"], "cluster list-instances");
  const clusterInfo = findKind("Cluster");
  const instanceInfo = findKind("Instance");
  if (!clusterInfo || !instanceInfo) throw new Error("kinds Cluster and Instance must be registered");
  const client = clientOf(ctx, args.values);
  const namespace = namespaceOf(args.values);
  await client.get(clusterInfo, namespace, name);
  const instances = (await client.list(instanceInfo, namespace, { labelSelector: `app.kubernetes.io/instance=${name}` })).items;
  if (instances.length === 0) {
    ctx.io.err(`No instances yet for cluster ${name} in namespace ${namespace}.\n`);
    return 0;
  }
  const rows = [...instances]
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((i) => [
      i.metadata.name,
      text(i, "status.role") || text(i, "spec.role"),
      text(i, "status.phase", "Pending"),
      text(i, "spec.port"),
      lagCell(i),
      text(i, "status.restartCount", "0"),
      formatAge(i.metadata.creationTimestamp, ctx.now()),
    ]);
  ctx.io.out(formatTable(["NAME", "ROLE", "STATUS", "PORT", "LAG", "RESTARTS", "AGE"], rows));
  return 0;
}

/** Every node serves the clusters' endpoints on its own address (ADR 0025): the one this CLI talks to. */
function endpointHost(ctx: CliContext, values: FlagValues): string {
  const host = new URL(serverUrlOf(ctx, values)).hostname.replace(/^\[(.*)\]$/, "$1");
  return isIP(host) === 0 || host === "0.0.0.0" || host === "::" ? LOOPBACK : host;
}

async function runConnect(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name = ""] = expectPositionals(args, ["NAME"], "cluster connect");
  const component = stringFlag(args.values, "component");
  const account = stringFlag(args.values, "account");
  const connection = await resolveConnection(clientOf(ctx, args.values), builtinEngines(), {
    cluster: name,
    namespace: namespaceOf(args.values),
    endpointHost: endpointHost(ctx, args.values),
    ...(component === undefined ? {} : { component }),
    ...(account === undefined ? {} : { account }),
  });
  const trust = connectionTrust(connection, homeOf(ctx, args.values));
  if (boolFlag(args.values, "show-uri")) {
    ctx.io.out(connection.engine.connectionUri(connection.host, connection.port, connection.credentials, trust) + "\n");
    return 0;
  }
  ctx.io.err(`Connecting to ${connection.target} (${connection.host}:${connection.port}) as ${connection.credentials.username}, TLS verified against ${trust.caFile}\n`);
  const command = connection.engine.clientCommand(connection.host, connection.port, connection.credentials, trust);
  return runClientProcess(command, `install it with "holdfast engines install ${connection.engine.name}"`);
}

const SUBCOMMANDS = {
  create: {
    help: CREATE_HELP,
    flags: {
      engine: { type: "string" },
      version: { type: "string" },
      replicas: { type: "string" },
      topology: { type: "string" },
      "termination-policy": { type: "string" },
      memory: { type: "string" },
      cpu: { type: "string" },
      "dry-run": { type: "boolean" },
    },
    run: runCreate,
  },
  "list-instances": { help: LIST_INSTANCES_HELP, flags: {}, run: runListInstances },
  connect: {
    help: CONNECT_HELP,
    flags: { component: { type: "string" }, account: { type: "string" }, "show-uri": { type: "boolean" } },
    run: runConnect,
  },
  restore: { help: RESTORE_HELP, flags: RESTORE_FLAGS, run: runRestore },
  "rotate-password": { help: ROTATE_PASSWORD_HELP, flags: ROTATE_PASSWORD_FLAGS, run: runRotatePassword },
  start: { help: START_HELP, flags: OPS_FLAGS.start, run: (ctx: CliContext, args: ParsedArgs) => runOpsShortcut(ctx, args, "Start", "cluster start") },
  stop: { help: STOP_HELP, flags: OPS_FLAGS.stop, run: (ctx: CliContext, args: ParsedArgs) => runOpsShortcut(ctx, args, "Stop", "cluster stop") },
  restart: { help: RESTART_HELP, flags: OPS_FLAGS.restart, run: (ctx: CliContext, args: ParsedArgs) => runOpsShortcut(ctx, args, "Restart", "cluster restart") },
  promote: { help: PROMOTE_HELP, flags: OPS_FLAGS.promote, run: (ctx: CliContext, args: ParsedArgs) => runOpsShortcut(ctx, args, "Switchover", "cluster promote") },
  hscale: { help: HSCALE_HELP, flags: OPS_FLAGS.hscale, run: (ctx: CliContext, args: ParsedArgs) => runOpsShortcut(ctx, args, "HorizontalScaling", "cluster hscale") },
} as const;

/** Run `holdfast cluster SUBCOMMAND`. */
export async function runCluster(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    ctx.io.out(CLUSTER_HELP);
    return name === undefined ? 2 : 0;
  }
  const subcommand = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name as keyof typeof SUBCOMMANDS] : undefined;
  if (subcommand === undefined) throw new UsageError(`unknown cluster subcommand "${name}": use ${Object.keys(SUBCOMMANDS).join(", ")}`, "cluster");
  const args = parseFlags(rest, { ...NAMESPACE_FLAGS, ...subcommand.flags }, `cluster ${name}`);
  if (boolFlag(args.values, "help")) {
    ctx.io.out(subcommand.help);
    return 0;
  }
  return subcommand.run(ctx, args);
}
