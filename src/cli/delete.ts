/** `holdfast delete`: remove objects, optionally waiting until they are gone. */
import type { KindInfo } from "../api/index.ts";
import { NAMESPACE_FLAGS, UsageError, boolFlag, namespaceOf, parseFlags, stringFlag, timeoutFlag, type ParsedArgs } from "./args.ts";
import { filenames, loadManifests } from "./apply.ts";
import { ApiError } from "./client.ts";
import type { ApiClient } from "./client.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { text } from "./fields.ts";
import { kindLabel, parseTarget } from "./kinds.ts";
import { describeError, humanDuration } from "./output.ts";
import { sleep } from "./sleep.ts";

export const DELETE_HELP = `Delete objects by kind and name.

Deleting a Cluster stops its instances; what happens to the data follows the
cluster's terminationPolicy (DoNotTerminate refuses, Delete and WipeOut remove it).

Usage:
  holdfast delete KIND NAME... [-n NAMESPACE] [--wait] [--timeout 300s] [--ignore-not-found]
  holdfast delete -f FILE|DIR|- [-n NAMESPACE] [--wait] [--ignore-not-found]

Examples:
  holdfast delete cluster pg-cluster -n demo
  holdfast delete cluster/pg-cluster -n demo --wait
  holdfast delete ops pg-restart -n demo
  holdfast delete -f cluster.yaml -n demo --wait

Options:
  -f, --filename    Delete the objects these manifests name (as "holdfast apply -f" reads them)
      --ignore-not-found  An object that does not exist is not an error
  -n, --namespace   Namespace (default: default)
      --wait        Wait until the objects are gone (finalizers done)
      --timeout     How long --wait waits (default 300s)
      --server URL  API server;  --home DIR  Holdfast home
`;

const POLL_MS = 1000;

/** Poll until GET answers 404; false on timeout. Progress goes to stderr. */
export async function waitUntilGone(ctx: CliContext, client: ApiClient, target: { info: KindInfo; namespace: string | undefined; name: string }, timeoutMs: number): Promise<boolean> {
  const started = Date.now();
  let lastPhase = "";
  while (Date.now() - started < timeoutMs) {
    const live = await client.find(target.info, target.namespace, target.name);
    if (live === undefined) return true;
    const phase = text(live, "status.phase", "Deleting");
    if (phase !== lastPhase) {
      ctx.io.err(`waiting for ${kindLabel(target.info)} "${target.name}" to be deleted (${phase}, ${humanDuration(Date.now() - started)})\n`);
      lastPhase = phase;
    }
    await sleep(POLL_MS);
  }
  return false;
}

interface Target {
  info: KindInfo;
  namespace: string | undefined;
  name: string;
}

async function deleteOne(ctx: CliContext, client: ApiClient, target: Target, ignoreNotFound: boolean): Promise<"deleted" | "absent" | "failed"> {
  try {
    await client.delete(target.info, target.namespace, target.name);
    ctx.io.out(`${kindLabel(target.info)} "${target.name}" deleted\n`);
    return "deleted";
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (ignoreNotFound && error.code === 404) return "absent";
    ctx.io.err(describeError(error).text);
    return "failed";
  }
}

/** The objects named on the command line, or by the manifests of -f. */
async function targetsOf(args: ParsedArgs): Promise<Target[]> {
  const files = filenames(args.values);
  if (files.length > 0) {
    if (args.positionals.length > 0) throw new UsageError("give either -f FILE or KIND NAME, not both", "delete");
    const explicit = stringFlag(args.values, "namespace") !== undefined;
    const manifests = await loadManifests(files, namespaceOf(args.values), explicit);
    return manifests.map((m) => ({ info: m.info, namespace: m.object.metadata.namespace, name: m.object.metadata.name }));
  }
  const { info, names } = parseTarget(args.positionals, "delete");
  if (names.length === 0) throw new UsageError(`missing NAME: holdfast delete ${info.singular} NAME (or -f FILE)`, "delete");
  const namespace = info.namespaced ? namespaceOf(args.values) : undefined;
  return names.map((name) => ({ info, namespace, name }));
}

const DELETE_FLAGS = {
  ...NAMESPACE_FLAGS,
  wait: { type: "boolean" },
  timeout: { type: "string" },
  filename: { type: "string", short: "f", multiple: true },
  "ignore-not-found": { type: "boolean" },
} as const;

/** Run `holdfast delete`. */
export async function runDelete(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, DELETE_FLAGS, "delete");
  if (boolFlag(args.values, "help")) {
    ctx.io.out(DELETE_HELP);
    return 0;
  }
  const targets = await targetsOf(args);
  const timeoutMs = timeoutFlag(args.values, 300_000, "delete");
  const client = clientOf(ctx, args.values);
  let ok = true;
  for (const target of targets) {
    const outcome = await deleteOne(ctx, client, target, boolFlag(args.values, "ignore-not-found"));
    if (outcome !== "deleted") {
      ok &&= outcome === "absent";
      continue;
    }
    if (boolFlag(args.values, "wait") && !(await waitUntilGone(ctx, client, target, timeoutMs))) {
      ctx.io.err(`error: timed out after ${humanDuration(timeoutMs)} waiting for ${kindLabel(target.info)} "${target.name}" to be deleted; "holdfast describe ${target.info.singular} ${target.name}${target.namespace === undefined ? "" : ` -n ${target.namespace}`}" shows what it waits for\n`);
      ok = false;
    }
  }
  return ok ? 0 : 1;
}
