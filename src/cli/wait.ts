/** `holdfast wait`: block until an object reaches a phase, has a condition, or is deleted. */
import type { KindInfo, Resource } from "../api/index.ts";
import { CliError, NAMESPACE_FLAGS, UsageError, boolFlag, namespaceOf, parseFlags, stringFlag, timeoutFlag } from "./args.ts";
import type { ApiClient } from "./client.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { eventsFor, latestWarning } from "./events.ts";
import { list, text } from "./fields.ts";
import { kindLabel, parseTarget } from "./kinds.ts";
import { humanDuration } from "./output.ts";
import { sleep } from "./sleep.ts";

export const WAIT_HELP = `Wait until an object reaches a phase, has a condition, or is deleted.

Usage:
  holdfast wait KIND/NAME --for=phase=PHASE|condition=TYPE[=STATUS]|delete [-n NAMESPACE] [--timeout=120s]

Examples:
  holdfast wait cluster/pg-cluster -n demo --for=phase=Running --timeout=180s
  holdfast wait ops/pg-restart -n demo --for=phase=Succeed
  holdfast wait cluster/pg-cluster -n demo --for=condition=Ready
  holdfast wait cluster/pg-cluster -n demo --for=delete

Exit status is 1 on timeout, with the last phase seen and the latest warning event.

Options:
      --for         phase=PHASE, condition=TYPE[=STATUS] (STATUS defaults to True), or delete
      --timeout     How long to wait (default 120s)
  -n, --namespace   Namespace (default: default)
      --server URL  API server;  --home DIR  Holdfast home
`;

/** What `--for` asks for. */
export type WaitFor = { kind: "phase"; phase: string } | { kind: "condition"; type: string; status: string } | { kind: "delete" };

/** Parse `--for`. */
export function parseWaitFor(raw: string): WaitFor {
  if (raw === "delete") return { kind: "delete" };
  const [what, ...rest] = raw.split("=");
  if (what === "phase" && rest.length === 1 && rest[0] !== "") return { kind: "phase", phase: rest[0] ?? "" };
  if (what === "condition" && (rest.length === 1 || rest.length === 2) && rest[0] !== "") {
    return { kind: "condition", type: rest[0] ?? "", status: rest[1] ?? "True" };
  }
  throw new UsageError(`invalid --for "${raw}": use phase=PHASE, condition=TYPE[=STATUS] or delete`, "wait");
}

/** Does the object satisfy a phase or condition wait? */
export function isSatisfied(object: Resource, waitFor: WaitFor): boolean {
  if (waitFor.kind === "delete") return false;
  if (waitFor.kind === "phase") return text(object, "status.phase").toLowerCase() === waitFor.phase.toLowerCase();
  const condition = list(object, "status.conditions").find((c) => text(c, "type").toLowerCase() === waitFor.type.toLowerCase());
  return condition !== undefined && text(condition, "status").toLowerCase() === waitFor.status.toLowerCase();
}

const FINAL_OPS_PHASES = ["Succeed", "Failed", "Cancelled", "Aborted"];

/** An OpsRequest that finished in another phase will never get there: stop waiting. */
export function isHopeless(object: Resource, waitFor: WaitFor): boolean {
  if (object.kind !== "OpsRequest" || waitFor.kind !== "phase") return false;
  const phase = text(object, "status.phase");
  return FINAL_OPS_PHASES.includes(phase) && phase.toLowerCase() !== waitFor.phase.toLowerCase();
}

interface WaitTarget {
  info: KindInfo;
  namespace: string | undefined;
  name: string;
}

/** Poll until satisfied; returns the last object seen (undefined once deleted) and whether it succeeded. */
async function poll(ctx: CliContext, client: ApiClient, target: WaitTarget, waitFor: WaitFor, timeoutMs: number): Promise<{ met: boolean; last: Resource | undefined }> {
  const started = Date.now();
  let last: Resource | undefined;
  let shownPhase: string | undefined;
  for (;;) {
    const live = waitFor.kind === "delete" ? await client.find(target.info, target.namespace, target.name) : await client.get(target.info, target.namespace, target.name);
    if (live === undefined) return { met: true, last };
    last = { ...live, kind: live.kind || target.info.kind };
    if (isSatisfied(last, waitFor)) return { met: true, last };
    if (isHopeless(last, waitFor)) return { met: false, last };
    const phase = text(last, "status.phase", "<none>");
    if (ctx.io.errIsTTY && phase !== shownPhase) {
      ctx.io.err(`${target.info.singular}/${target.name}: phase ${phase} (${humanDuration(Date.now() - started)})\n`);
      shownPhase = phase;
    }
    if (Date.now() - started >= timeoutMs) return { met: false, last };
    await sleep(Math.min(1000, Math.max(0, timeoutMs - (Date.now() - started))));
  }
}

function describeWaitFor(waitFor: WaitFor): string {
  if (waitFor.kind === "delete") return "be deleted";
  if (waitFor.kind === "phase") return `reach phase ${waitFor.phase}`;
  return `have condition ${waitFor.type}=${waitFor.status}`;
}

async function failureMessage(client: ApiClient, target: WaitTarget, waitFor: WaitFor, last: Resource | undefined, timeoutMs: number): Promise<string> {
  const phase = last === undefined ? "<none>" : text(last, "status.phase", "<none>");
  const finished = last !== undefined && isHopeless(last, waitFor);
  let message = finished
    ? `${target.info.singular}/${target.name} finished in phase ${phase} and will not ${describeWaitFor(waitFor)}`
    : `timed out after ${humanDuration(timeoutMs)} waiting for ${target.info.singular}/${target.name} to ${describeWaitFor(waitFor)}; last seen phase: ${phase}`;
  const warning = last === undefined ? undefined : latestWarning(await eventsFor(client, last).catch(() => []));
  if (warning !== undefined) message += `; latest warning: ${warning}`;
  const ns = target.namespace === undefined ? "" : ` -n ${target.namespace}`;
  return `${message}\nSee "holdfast describe ${target.info.singular} ${target.name}${ns}" for details.`;
}

/** Run `holdfast wait`. */
export async function runWait(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, { ...NAMESPACE_FLAGS, for: { type: "string" }, timeout: { type: "string" } }, "wait");
  if (boolFlag(args.values, "help")) {
    ctx.io.out(WAIT_HELP);
    return 0;
  }
  const rawFor = stringFlag(args.values, "for");
  if (rawFor === undefined) throw new UsageError("missing --for: e.g. --for=phase=Running", "wait");
  const waitFor = parseWaitFor(rawFor);
  const { info, names } = parseTarget(args.positionals, "wait");
  if (names.length !== 1) throw new UsageError("name exactly one object: holdfast wait KIND/NAME", "wait");
  const target = { info, namespace: info.namespaced ? namespaceOf(args.values) : undefined, name: names[0] ?? "" };
  const timeoutMs = timeoutFlag(args.values, 120_000, "wait");
  const client = clientOf(ctx, args.values);
  const { met, last } = await poll(ctx, client, target, waitFor, timeoutMs);
  if (!met) throw new CliError(await failureMessage(client, target, waitFor, last, timeoutMs));
  ctx.io.out(`${kindLabel(info)}/${target.name} ${waitFor.kind === "delete" ? "deleted" : "condition met"}\n`);
  return 0;
}
