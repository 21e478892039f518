/**
 * The node agent's part of `Custom` OpsRequests (ADR 0054): on a ready instance whose spec carries a request it has not
 * carried out (`spec.customAction`, by id), run its steps in order through the engine's allow-listed actions, in the
 * background, as the administrator on the instance's own loopback port, and report in `status.customAction`: Running,
 * then Succeeded or Failed with what each step did or the engine's message. Each id runs once: a run cut short by a
 * restart of the agent is reported Failed (it may or may not have taken effect), never run again.
 */
import { now, type CustomActionRequest, type CustomActionStatus, type Instance } from "../api/index.ts";
import { errorMessage } from "../errors/index.ts";
import { engineAccountNames, engineAction, type ClientTrust, type Credentials, type Engine, type InstanceContext } from "../engines/index.ts";
import type { InstanceTrust } from "./instance-tls.ts";

/** Messages are kept short in the instance's status. */
const MESSAGE_MAX = 500;

/** What the agent does about spec.customAction now (pure). */
export type CustomActionDecision = "none" | "start" | "lost";

/**
 * Whether to start the request, report it lost (it ran when this agent's predecessor stopped), or do nothing. A
 * request past its time is never started: its OpsRequest has failed by then, and an instance whose status was reset
 * (rebuilt on another node) must not run again what was asked of it long ago.
 */
export function customActionDecision(instance: Instance, startedHere: boolean, nowMs = Date.now()): CustomActionDecision {
  const wanted = instance.spec.customAction;
  if (wanted === undefined || startedHere) return "none";
  const seen = instance.status?.customAction;
  if (seen?.id === wanted.id) return seen.result === "Running" ? "lost" : "none";
  const expired = Date.parse(wanted.requestedAt) + wanted.timeoutSeconds * 1000 < nowMs;
  return expired ? "none" : "start";
}

/** `text`, flattened and cut to MESSAGE_MAX (pure). */
export function shortMessage(text: string): string {
  const flat = text.replaceAll(/\s+/g, " ").trim();
  return flat.length > MESSAGE_MAX ? `${flat.slice(0, MESSAGE_MAX - 1)}…` : flat;
}

/** A running instance of this node, as its actions see it. */
export interface ActionHolder {
  instance: Instance;
  engine: Engine;
  context: InstanceContext;
  admin: Credentials;
}

/** How the agent reports: the instance's status (its latest version), and events on it and its cluster. */
export interface ActionReporter {
  setStatus(status: CustomActionStatus): Promise<void>;
  record(type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
}

/** Run the steps of `request` in order; the outcome (pure of I/O but the engine's actions). */
export async function runCustomSteps(h: ActionHolder, request: CustomActionRequest, trust: ClientTrust): Promise<{ ok: boolean; message: string }> {
  const done: string[] = [];
  const accounts = engineAccountNames(h.engine);
  const target = { context: h.context, admin: h.admin, trust, systemAccounts: accounts, timeoutMs: request.timeoutSeconds * 1000 };
  for (const step of request.steps) {
    const action = engineAction(h.engine, step.action);
    const problems = action?.problems(step.arguments, accounts) ?? [];
    let outcome: string;
    let failed = true;
    if (action === undefined) outcome = `${step.action} is not an action of engine ${h.engine.name}`;
    else if (problems.length > 0) outcome = problems.map((p) => `${p.parameter ?? ""} ${p.message}`.trim()).join("; ");
    else {
      try {
        outcome = await action.run(target, step.arguments);
        failed = false;
      } catch (error) {
        outcome = errorMessage(error);
      }
    }
    done.push(`${step.action}: ${failed ? "failed: " : ""}${outcome}`);
    if (failed && step.failurePolicy !== "Ignore") return { ok: false, message: shortMessage(done.join("; ")) };
  }
  return { ok: true, message: shortMessage(done.join("; ")) };
}

/** What tells one run apart: the instance (its uid) and the request's id. */
function runKey(instance: Instance): string {
  return `${instance.metadata.uid ?? instance.metadata.name}/${instance.spec.customAction?.id ?? ""}`;
}

/** The Custom requests this node's instances carry out, at most one per instance at a time. */
export class CustomActions {
  /**
   * Every run this agent started, finished ones included: a reconcile that still holds the instance as it was while
   * a run went on (status Running) must not take a run that ended meanwhile for one its predecessor left behind.
   */
  readonly #started = new Set<string>();
  readonly #trust: InstanceTrust;

  constructor(trust: InstanceTrust) {
    this.#trust = trust;
  }

  /** Is there anything to do about the request the instance carries (before its credentials are read)? */
  due(instance: Instance): boolean {
    return customActionDecision(instance, this.#started.has(runKey(instance))) !== "none";
  }

  /** Start, or report lost, the request the instance carries; returns at once (the steps run in the background). */
  async tend(h: ActionHolder, reporter: ActionReporter): Promise<void> {
    const request = h.instance.spec.customAction;
    const key = runKey(h.instance);
    const decision = customActionDecision(h.instance, this.#started.has(key));
    if (request === undefined || decision === "none") return;
    const startedAt = h.instance.status?.customAction?.startedAt ?? now();
    if (decision === "lost") {
      const message = "the node agent restarted while the actions ran: they may or may not have taken effect; check, and create a new OpsRequest if needed";
      await reporter.setStatus({ id: request.id, result: "Failed", message, startedAt, finishedAt: now() });
      return;
    }
    this.#started.add(key);
    await reporter.setStatus({ id: request.id, result: "Running", message: `running ${request.steps.map((s) => s.action).join(", ")}`, startedAt });
    void this.#run(h, request, reporter, startedAt);
  }

  async #run(h: ActionHolder, request: CustomActionRequest, reporter: ActionReporter, startedAt: string): Promise<void> {
    const { ok, message } = await runCustomSteps(h, request, this.#trust(h.instance));
    try {
      await reporter.setStatus({ id: request.id, result: ok ? "Succeeded" : "Failed", message, startedAt, finishedAt: now() });
      await reporter.record(ok ? "Normal" : "Warning", ok ? "CustomActionSucceeded" : "CustomActionFailed", `${request.opsRequest}: ${message}`);
    } catch {
      // The instance is gone or its status cannot be written: the OpsRequest times out, naming the instance.
    }
  }
}
