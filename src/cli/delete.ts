/** `holdfast delete`: remove objects, optionally waiting until they are gone. */
import type { KindInfo } from "../api/index.ts";
import { NAMESPACE_FLAGS, UsageError, boolFlag, namespaceOf, parseFlags, timeoutFlag } from "./args.ts";
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
  holdfast delete KIND NAME... [-n NAMESPACE] [--wait] [--timeout 300s]

Examples:
  holdfast delete cluster pg-cluster -n demo
  holdfast delete cluster/pg-cluster -n demo --wait
  holdfast delete ops pg-restart -n demo

Options:
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

async function deleteOne(ctx: CliContext, client: ApiClient, target: { info: KindInfo; namespace: string | undefined; name: string }): Promise<boolean> {
  try {
    await client.delete(target.info, target.namespace, target.name);
    ctx.io.out(`${kindLabel(target.info)} "${target.name}" deleted\n`);
    return true;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    ctx.io.err(describeError(error).text);
    return false;
  }
}

/** Run `holdfast delete`. */
export async function runDelete(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, { ...NAMESPACE_FLAGS, wait: { type: "boolean" }, timeout: { type: "string" } }, "delete");
  if (boolFlag(args.values, "help")) {
    ctx.io.out(DELETE_HELP);
    return 0;
  }
  const { info, names } = parseTarget(args.positionals, "delete");
  if (names.length === 0) throw new UsageError(`missing NAME: holdfast delete ${info.singular} NAME`, "delete");
  const timeoutMs = timeoutFlag(args.values, 300_000, "delete");
  const client = clientOf(ctx, args.values);
  const namespace = info.namespaced ? namespaceOf(args.values) : undefined;
  let ok = true;
  for (const name of names) {
    const target = { info, namespace, name };
    if (!(await deleteOne(ctx, client, target))) {
      ok = false;
      continue;
    }
    if (boolFlag(args.values, "wait") && !(await waitUntilGone(ctx, client, target, timeoutMs))) {
      ctx.io.err(`error: timed out after ${humanDuration(timeoutMs)} waiting for ${kindLabel(info)} "${name}" to be deleted; "holdfast describe ${info.singular} ${name}${namespace === undefined ? "" : ` -n ${namespace}`}" shows what it waits for\n`);
      ok = false;
    }
  }
  return ok ? 0 : 1;
}
