/**
 * MariaDB's actions for `Custom` OpsRequests (ADR 0054): fixed statements run by the mariadb client on the instance's
 * loopback port, on its stdin; names as backtick-quoted identifiers, a user as an escaped string literal, an id as an
 * integer. Queries of the engine's own accounts are never killed.
 */
import { exactlyOne, integerArg, notSystemAccount, parameterlessAction, plainName, positive, required, stringArg } from "../action-arguments.ts";
import type { ActionArgument, ActionProblem, ActionTarget, EngineAction } from "../types.ts";
import { sqlString } from "./accounts-sql.ts";
import { runMariadbScript } from "./client.ts";
import { localTarget } from "./server-control.ts";
import { quoteIdentifier } from "./users.ts";

type Args = Readonly<Record<string, ActionArgument>>;

/** MariaDB's limit on database and table names, and on user names. */
const NAME_MAX = 64;
const USER_MAX = 128;

/** `ANALYZE TABLE` of one table (pure). */
export function analyzeStatement(args: Args): string {
  return `ANALYZE TABLE ${quoteIdentifier(stringArg(args, "database") ?? "")}.${quoteIdentifier(stringArg(args, "table") ?? "")};`;
}

/** The statement listing the ids of the connections `kill-query` is to reach (pure): by id or by user, never a system account's. */
export function killTargetsStatement(args: Args, systemAccounts: readonly string[]): string {
  const id = integerArg(args, "id");
  const chosen = id === undefined ? `USER = ${sqlString(stringArg(args, "user") ?? "")}` : `ID = ${Math.trunc(id)}`;
  const own = systemAccounts.map(sqlString).join(", ");
  return `SELECT ID FROM information_schema.PROCESSLIST WHERE ${chosen} AND ID <> CONNECTION_ID()${own === "" ? "" : ` AND USER NOT IN (${own})`};`;
}

/** The statements killing the running query of each connection (pure): ids are digits only. */
export function killQueryStatements(ids: readonly string[]): string {
  return ids.filter((id) => /^\d+$/u.test(id)).map((id) => `KILL QUERY ${id};`).join("\n");
}

async function run(target: ActionTarget, script: string): Promise<string[][]> {
  return runMariadbScript(localTarget(target.context), target.admin, `${script}\n`, target.timeoutMs);
}

async function analyze(target: ActionTarget, args: Args): Promise<string> {
  const rows = await run(target, analyzeStatement(args));
  // Table, Op, Msg_type, Msg_text: an error is a row, not a failed statement.
  const failed = rows.find((row) => row[2] === "error" || row[2] === "Error");
  if (failed !== undefined) throw new Error(`ANALYZE TABLE: ${failed[3] ?? "failed"}`);
  return `ANALYZE TABLE ${stringArg(args, "database") ?? ""}.${stringArg(args, "table") ?? ""}: ${rows.map((row) => row[3] ?? "").join("; ") || "OK"}`;
}

async function killQuery(target: ActionTarget, args: Args): Promise<string> {
  const ids = (await run(target, killTargetsStatement(args, target.systemAccounts))).map((row) => row[0] ?? "");
  const id = integerArg(args, "id");
  if (id !== undefined && ids.length === 0) throw new Error(`no connection with id ${id} to kill the query of (Holdfast's own connections are left alone)`);
  // A connection that ended meanwhile makes KILL fail ("Unknown thread id"): it has no query left to kill.
  for (const one of ids) await run(target, killQueryStatements([one])).catch(() => undefined);
  return `the queries of ${ids.length} connection(s) ${id === undefined ? `of user ${stringArg(args, "user") ?? ""}` : `with id ${id}`} killed`;
}

function killProblems(args: Args, systemAccounts: readonly string[]): ActionProblem[] {
  return [...exactlyOne(args, ["id", "user"]), ...positive(args, "id"), ...plainName(args, "user", USER_MAX), ...notSystemAccount(args, "user", systemAccounts)];
}

/** MariaDB's allow-list. */
export const MARIADB_ACTIONS: readonly EngineAction[] = [
  parameterlessAction("flush-logs", "close and reopen the server's log files, starting a new binary log (FLUSH LOCAL LOGS: not replicated)", async (target) => {
    await run(target, "FLUSH LOCAL LOGS;");
    return "FLUSH LOCAL LOGS done";
  }),
  {
    name: "analyze-table",
    description: "update the index statistics of one table (ANALYZE TABLE; replicated, so run on the primary)",
    scope: "primary",
    parameters: [
      { name: "database", type: "string", description: "the table's database" },
      { name: "table", type: "string", description: "the table" },
    ],
    problems: (args): ActionProblem[] => [...required(args, ["database", "table"]), ...plainName(args, "database", NAME_MAX), ...plainName(args, "table", NAME_MAX)],
    run: analyze,
  },
  {
    name: "kill-query",
    description: "stop the running statement of a connection, chosen by id or by user, keeping the connection (KILL QUERY)",
    scope: "every",
    parameters: [
      { name: "id", type: "integer", description: "the connection id (information_schema.PROCESSLIST.ID)" },
      { name: "user", type: "string", description: "every connection of this user" },
    ],
    problems: killProblems,
    run: killQuery,
  },
];
