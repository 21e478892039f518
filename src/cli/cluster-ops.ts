/**
 * kbcli's day-2 shortcuts: `holdfast cluster start|stop|restart|promote|hscale NAME` each create the OpsRequest
 * kbcli would (same type and fields), print its name, and optionally wait for it to end.
 */
import { randomBytes } from "node:crypto";
import type { Cluster, OpsRequest, Resource } from "../api/index.ts";
import { UsageError, boolFlag, expectPositionals, intFlag, namespaceOf, stringFlag, timeoutFlag } from "./args.ts";
import type { FlagValues, ParsedArgs } from "./args.ts";
import type { ApiClient } from "./client.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { resolveKind } from "./kinds.ts";
import { humanDuration } from "./output.ts";
import { sleep } from "./sleep.ts";

type ShortcutType = "Start" | "Stop" | "Restart" | "Switchover" | "HorizontalScaling";

const WAIT_FLAGS = { wait: { type: "boolean" }, timeout: { type: "string" } } as const;
const POLL_MS = 1000;
const DONE = new Set(["Succeed", "Failed", "Cancelled", "Aborted"]);

function help(verb: string, what: string, extra: string, example: string): string {
  return `${what}

Creates an OpsRequest (operations.kubeblocks.io/v1alpha1), as kbcli does, and prints its name.

Usage:
  holdfast cluster ${verb} NAME [-n NAMESPACE]${extra} [--wait [--timeout 600s]]

Example:
  ${example}

Options:
  -n, --namespace   Namespace (default: default)
      --wait        Wait until the OpsRequest ends; exit 1 unless it Succeeds
      --timeout     How long --wait waits (default 600s)
`;
}

export const START_HELP = help("start", "Start a stopped cluster.", "", "holdfast cluster start pg -n demo --wait");
export const STOP_HELP = help("stop", "Stop a cluster: its processes end, its data stays.", "", "holdfast cluster stop pg -n demo");
export const RESTART_HELP = help("restart", "Restart a cluster's instances, one at a time (replicas first).", " [--component C]...", "holdfast cluster restart pg -n demo --component postgresql");
export const PROMOTE_HELP = help("promote", "Switch the primary of a component over to another instance (a Switchover).", " [--component C] [--instance CANDIDATE]", "holdfast cluster promote pg -n demo --instance pg-postgresql-1");
export const HSCALE_HELP = help("hscale", "Change the number of replicas of a component (HorizontalScaling).", " --replicas N [--component C]", "holdfast cluster hscale pg -n demo --replicas 3");

export const OPS_FLAGS = {
  start: WAIT_FLAGS,
  stop: WAIT_FLAGS,
  restart: { ...WAIT_FLAGS, component: { type: "string", multiple: true } },
  promote: { ...WAIT_FLAGS, component: { type: "string" }, instance: { type: "string" } },
  hscale: { ...WAIT_FLAGS, component: { type: "string" }, replicas: { type: "string" } },
} as const;

async function clusterOf(client: ApiClient, namespace: string, name: string): Promise<Cluster> {
  return (await client.get(resolveKind("Cluster", "cluster"), namespace, name)) as unknown as Cluster;
}

function componentNames(cluster: Cluster): string[] {
  return cluster.spec.componentSpecs.map((c) => c.name);
}

/** The component a flag names (it must exist), or the cluster's first. */
function componentOf(cluster: Cluster, named: string | undefined, command: string): string {
  const names = componentNames(cluster);
  if (named === undefined) return names[0] ?? "";
  if (!names.includes(named)) throw new UsageError(`cluster ${cluster.metadata.name} has no component "${named}"; its components: ${names.join(", ")}`, command);
  return named;
}

function listFlag(values: FlagValues, name: string): string[] {
  const raw = values[name];
  return (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === "string");
}

/** The spec fields of the OpsRequest one shortcut creates. */
function specFor(type: ShortcutType, cluster: Cluster, values: FlagValues, command: string): Record<string, unknown> {
  switch (type) {
    case "Start":
    case "Stop":
      return {};
    case "Restart": {
      const named = listFlag(values, "component");
      const components = named.length === 0 ? componentNames(cluster) : named.map((n) => componentOf(cluster, n, command));
      return { restart: components.map((componentName) => ({ componentName })) };
    }
    case "Switchover":
      return switchoverSpec(cluster, values, command);
    case "HorizontalScaling": {
      if (stringFlag(values, "replicas") === undefined) throw new UsageError("missing --replicas N", command);
      const replicas = intFlag(values, "replicas", 0, command);
      return { horizontalScaling: [{ componentName: componentOf(cluster, stringFlag(values, "component"), command), replicas }] };
    }
  }
}

export function switchoverSpec(cluster: Cluster, values: FlagValues, command: string): Record<string, unknown> {
  const componentName = componentOf(cluster, stringFlag(values, "component"), command);
  const primary = cluster.status?.replication?.[componentName]?.currentPrimary;
  if (primary === undefined) throw new UsageError(`component ${componentName} of ${cluster.metadata.name} has no primary to switch over from (is it replicated and Running?)`, command);
  const candidate = stringFlag(values, "instance");
  if (candidate === primary) throw new UsageError(`${candidate} is already the primary of ${componentName}`, command);
  return { switchover: [{ componentName, instanceName: primary, ...(candidate === undefined ? {} : { candidateName: candidate }) }] };
}

/** kbcli's names: `<cluster>-<type>-<5 random characters>`. */
function opsName(cluster: string, type: ShortcutType): string {
  const suffix = randomBytes(4).toString("hex").slice(0, 5);
  const word = type === "HorizontalScaling" ? "horizontalscaling" : type.toLowerCase();
  return `${cluster}-${word}-${suffix}`.slice(0, 63);
}

async function waitForEnd(ctx: CliContext, client: ApiClient, namespace: string, name: string, timeoutMs: number): Promise<number> {
  const info = resolveKind("OpsRequest", "cluster");
  const started = Date.now();
  let last = "";
  while (Date.now() - started < timeoutMs) {
    const ops = (await client.get(info, namespace, name)) as unknown as OpsRequest;
    const phase = ops.status?.phase ?? "Pending";
    const line = `${phase}${ops.status?.progress === undefined ? "" : ` ${ops.status.progress}`}${ops.status?.message === undefined ? "" : `: ${ops.status.message}`}`;
    if (line !== last) ctx.io.err(`opsrequest/${name} ${line} (${humanDuration(Date.now() - started)})\n`);
    last = line;
    if (DONE.has(phase)) return phase === "Succeed" ? 0 : 1;
    await sleep(POLL_MS);
  }
  ctx.io.err(`error: timed out after ${humanDuration(timeoutMs)} waiting for opsrequest/${name}; "holdfast describe ops ${name} -n ${namespace}" shows where it is\n`);
  return 1;
}

/** Run one shortcut: create its OpsRequest, print it, wait when asked. */
export async function runOpsShortcut(ctx: CliContext, args: ParsedArgs, type: ShortcutType, command: string): Promise<number> {
  const [clusterName = ""] = expectPositionals(args, ["NAME"], command);
  const namespace = namespaceOf(args.values);
  const client = clientOf(ctx, args.values);
  const cluster = await clusterOf(client, namespace, clusterName);
  const spec = specFor(type, cluster, args.values, command);
  const ops: Resource = {
    apiVersion: "operations.kubeblocks.io/v1alpha1",
    kind: "OpsRequest",
    metadata: { name: opsName(clusterName, type), namespace },
    spec: { clusterName, type, ...spec },
  };
  const created = await client.create(resolveKind("OpsRequest", command), namespace, ops);
  ctx.io.out(`opsrequest.operations.kubeblocks.io/${created.metadata.name} created\n`);
  if (!boolFlag(args.values, "wait")) {
    ctx.io.err(`follow it with: holdfast get ops ${created.metadata.name} -n ${namespace} -w\n`);
    return 0;
  }
  return waitForEnd(ctx, client, namespace, created.metadata.name, timeoutFlag(args.values, 600_000, command));
}
