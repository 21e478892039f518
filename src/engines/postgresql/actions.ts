/**
 * PostgreSQL's actions for `Custom` OpsRequests (ADR 0054), each one fixed statement: values go as bound parameters
 * ($1, $2), names (database, schema, table) as quoted identifiers; sessions of the engine's own accounts and of
 * anything but a client backend are never ended.
 */
import { exactlyOne, integerArg, notSystemAccount, parameterlessAction, plainName, positive, stringArg } from "../action-arguments.ts";
import type { ActionArgument, ActionProblem, ActionTarget, EngineAction } from "../types.ts";
import { quoteIdentifier, withSession } from "./session.ts";

type Args = Readonly<Record<string, ActionArgument>>;

/** A statement and the values bound to it. */
export interface BoundStatement {
  text: string;
  values: unknown[];
}

/** PostgreSQL's limit on identifiers (NAMEDATALEN - 1). */
const NAME_MAX = 63;

/**
 * The statement that ends (terminate) or cancels the query of the client sessions chosen by `pid` or `user` (pure),
 * leaving this session and those of `systemAccounts` alone; it returns how many it signalled.
 */
export function backendStatement(signal: "terminate" | "cancel", args: Args, systemAccounts: readonly string[]): BoundStatement {
  const fn = signal === "terminate" ? "pg_catalog.pg_terminate_backend" : "pg_catalog.pg_cancel_backend";
  const pid = integerArg(args, "pid");
  const [column, value] = pid === undefined ? ["usename", stringArg(args, "user") ?? ""] : ["pid", pid];
  const text = `SELECT count(*) FILTER (WHERE ${fn}(pid))::int AS signalled FROM pg_catalog.pg_stat_activity WHERE ${column} = $1 AND backend_type = 'client backend' AND pid <> pg_catalog.pg_backend_pid() AND usename <> ALL($2::text[])`;
  return { text, values: [value, [...systemAccounts]] };
}

/** `VACUUM (ANALYZE)` of the database, or of one table (pure). */
export function vacuumStatement(args: Args): string {
  const table = stringArg(args, "table");
  if (table === undefined) return "VACUUM (ANALYZE)";
  const schema = stringArg(args, "schema");
  return `VACUUM (ANALYZE) ${schema === undefined ? "" : `${quoteIdentifier(schema)}.`}${quoteIdentifier(table)}`;
}

function backendProblems(args: Args, systemAccounts: readonly string[]): ActionProblem[] {
  return [...exactlyOne(args, ["pid", "user"]), ...positive(args, "pid"), ...plainName(args, "user", NAME_MAX), ...notSystemAccount(args, "user", systemAccounts)];
}

async function signalBackends(signal: "terminate" | "cancel", target: ActionTarget, args: Args): Promise<string> {
  const statement = backendStatement(signal, args, target.systemAccounts);
  const signalled = await withSession(target.context.port, target.admin, async (client) => {
    const result = await client.query<{ signalled: number }>(statement.text, statement.values);
    return result.rows[0]?.signalled ?? 0;
  }, { queryTimeoutMs: target.timeoutMs });
  const pid = integerArg(args, "pid");
  if (pid !== undefined && signalled === 0) throw new Error(`no client session with pid ${pid} to ${signal} (Holdfast's own sessions are left alone)`);
  const who = pid === undefined ? `of user ${stringArg(args, "user") ?? ""}` : `with pid ${pid}`;
  return signal === "terminate" ? `${signalled} session(s) ${who} terminated` : `the queries of ${signalled} session(s) ${who} cancelled`;
}

function backendAction(signal: "terminate" | "cancel"): EngineAction {
  return {
    name: `pg-${signal}-backend`,
    description: signal === "terminate" ? "end client sessions, chosen by pid or by user (pg_terminate_backend)" : "cancel the running query of client sessions, chosen by pid or by user (pg_cancel_backend)",
    scope: "every",
    parameters: [
      { name: "pid", type: "integer", description: "the process id of one session (pg_stat_activity.pid)" },
      { name: "user", type: "string", description: "every session of this user" },
    ],
    problems: backendProblems,
    run: (target, args) => signalBackends(signal, target, args),
  };
}

const VACUUM_ANALYZE: EngineAction = {
  name: "vacuum-analyze",
  description: "VACUUM (ANALYZE) a database, or one table of it",
  scope: "primary",
  parameters: [
    { name: "database", type: "string", description: "the database (default postgres)" },
    { name: "schema", type: "string", description: "the table's schema (default: the search path)" },
    { name: "table", type: "string", description: "one table (default: every table of the database)" },
  ],
  problems: (args) => [
    ...["database", "schema", "table"].flatMap((name) => plainName(args, name, NAME_MAX)),
    ...(args["schema"] !== undefined && args["table"] === undefined ? [{ parameter: "schema", message: "give table too: schema names the table's schema" }] : []),
  ],
  run: async (target, args) => {
    const database = stringArg(args, "database") ?? "postgres";
    const statement = vacuumStatement(args);
    await withSession(target.context.port, target.admin, (client) => client.query(statement), { queryTimeoutMs: target.timeoutMs, database });
    return `${statement} done in database ${database}`;
  },
};

function statementAction(name: string, description: string, statement: string): EngineAction {
  return parameterlessAction(name, description, async (target) => {
    await withSession(target.context.port, target.admin, (client) => client.query(statement), { queryTimeoutMs: target.timeoutMs });
    return `${statement} done`;
  });
}

/** PostgreSQL's allow-list. */
export const POSTGRESQL_ACTIONS: readonly EngineAction[] = [
  backendAction("terminate"),
  backendAction("cancel"),
  VACUUM_ANALYZE,
  statementAction("checkpoint", "force a checkpoint (a restartpoint on a replica)", "CHECKPOINT"),
  statementAction("reload", "reload the server's configuration files (pg_reload_conf)", "SELECT pg_catalog.pg_reload_conf()"),
];
