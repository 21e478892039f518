/** Checks shared by the engines' actions (ADR 0054): which arguments are given, and which may not be (pure). */
import type { ActionArgument, ActionProblem, ActionTarget, Engine, EngineAction } from "./types.ts";

type Args = Readonly<Record<string, ActionArgument>>;

/** Exactly one of `names` is given. */
export function exactlyOne(args: Args, names: readonly string[]): ActionProblem[] {
  const given = names.filter((n) => args[n] !== undefined);
  if (given.length === 1) return [];
  return [{ message: given.length === 0 ? `give one of ${names.join(", ")}` : `give only one of ${names.join(", ")} (got ${given.join(", ")})` }];
}

/** Every one of `names` is given. */
export function required(args: Args, names: readonly string[]): ActionProblem[] {
  return names.filter((n) => args[n] === undefined).map((parameter) => ({ parameter, message: "required" }));
}

/** The string argument `name`, when given. */
export function stringArg(args: Args, name: string): string | undefined {
  const value = args[name];
  return typeof value === "string" ? value : undefined;
}

/** The integer argument `name`, when given. */
export function integerArg(args: Args, name: string): number | undefined {
  const value = args[name];
  return typeof value === "number" && Number.isSafeInteger(value) ? value : undefined;
}

/** A user argument naming one of the engine's own accounts is refused: their sessions are Holdfast's. */
export function notSystemAccount(args: Args, name: string, accounts: readonly string[]): ActionProblem[] {
  const user = stringArg(args, name);
  return user !== undefined && accounts.includes(user) ? [{ parameter: name, message: `${user} is a system account of the engine: its sessions are Holdfast's own` }] : [];
}

/** An integer argument must be positive (a process or connection id). */
export function positive(args: Args, name: string): ActionProblem[] {
  const value = args[name];
  return value !== undefined && (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) ? [{ parameter: name, message: "must be a positive integer" }] : [];
}

/** A name argument (database, table, user) must be non-empty and at most `max` characters, without NUL. */
export function plainName(args: Args, name: string, max: number): ActionProblem[] {
  const value = args[name];
  if (value === undefined) return [];
  if (typeof value !== "string" || value === "" || value.length > max || value.includes("\0")) return [{ parameter: name, message: `must be a name of 1 to ${max} characters` }];
  return [];
}

/** The names of every account an engine makes for itself (system, replication, monitoring, arbiter accounts). */
export function engineAccountNames(engine: Pick<Engine, "systemAccounts" | "replication" | "exporter">): string[] {
  const extra = [engine.replication?.account, engine.replication?.arbiter?.account, engine.exporter?.account];
  return [...engine.systemAccounts, ...extra.filter((a) => a !== undefined)].map((a) => a.name);
}

/** The action `name` of `engine`'s allow-list, if it has one. */
export function engineAction(engine: Pick<Engine, "actions">, name: string): EngineAction | undefined {
  return engine.actions?.find((a) => a.name === name);
}

/** An action without parameters that runs on every instance: what it does is `run`'s. */
export function parameterlessAction(name: string, description: string, run: (target: ActionTarget) => Promise<string>): EngineAction {
  return { name, description, scope: "every", parameters: [], problems: () => [], run };
}
