/**
 * Redis' actions for `Custom` OpsRequests (ADR 0054): each one command of Redis' protocol, its arguments sent as
 * separate bulk strings (never parsed as a command line). `client-kill` looks the clients up first and kills them by
 * id, so the connections of the engine's own accounts (replication, Sentinel, the node agent's) are never cut.
 */
import { exactlyOne, notSystemAccount, parameterlessAction, plainName, stringArg } from "../action-arguments.ts";
import type { ActionArgument, ActionProblem, ActionTarget, EngineAction } from "../types.ts";
import { listedClients, type ListedClient } from "./client-list.ts";
import { commandRedis } from "./session.ts";
import { loopbackTarget } from "./socket.ts";

type Args = Readonly<Record<string, ActionArgument>>;

/** `host:port`, `[v6]:port`: what CLIENT LIST shows as `addr`. */
const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:.]+):\d{1,5}$/;

function targetOf(target: ActionTarget): ReturnType<typeof loopbackTarget> {
  return loopbackTarget(target.context.port, target.context.tls === undefined ? undefined : target.trust.caFile);
}

/** The clients `client-kill` ends (pure): those of `user` or at `addr`, never one of `systemAccounts`'. */
export function clientsToKill(clients: readonly ListedClient[], args: Args, systemAccounts: readonly string[]): ListedClient[] {
  const user = stringArg(args, "user");
  const addr = stringArg(args, "addr");
  return clients.filter((c) => (user === undefined ? c.addr === addr : c.user === user) && !systemAccounts.includes(c.user));
}

/** The commands that kill `clients` by id (pure). */
export function killCommands(clients: readonly ListedClient[]): string[][] {
  return clients.map((c) => ["CLIENT", "KILL", "ID", c.id]);
}

function clientKillProblems(args: Args, systemAccounts: readonly string[]): ActionProblem[] {
  const addr = stringArg(args, "addr");
  const badAddr = addr !== undefined && !ADDRESS.test(addr) ? [{ parameter: "addr", message: "must be an address and port as CLIENT LIST shows them, e.g. 127.0.0.1:52044" }] : [];
  return [...exactlyOne(args, ["user", "addr"]), ...plainName(args, "user", 128), ...notSystemAccount(args, "user", systemAccounts), ...badAddr];
}

async function killClients(target: ActionTarget, args: Args): Promise<string> {
  const server = targetOf(target);
  const [reply] = await commandRedis(server, target.admin, [["CLIENT", "LIST", "TYPE", "normal"]], target.timeoutMs);
  const chosen = clientsToKill(listedClients(typeof reply === "string" ? reply : ""), args, target.systemAccounts);
  if (chosen.length > 0) await commandRedis(server, target.admin, killCommands(chosen), target.timeoutMs);
  const addr = stringArg(args, "addr");
  if (addr !== undefined && chosen.length === 0) throw new Error(`no client at ${addr} to kill (Holdfast's own connections are left alone)`);
  return `${chosen.length} client(s) ${addr === undefined ? `of user ${stringArg(args, "user") ?? ""}` : `at ${addr}`} killed`;
}

function commandAction(name: string, description: string, command: readonly string[]): EngineAction {
  return parameterlessAction(name, description, async (target) => {
    const [reply] = await commandRedis(targetOf(target), target.admin, [command], target.timeoutMs);
    return `${command.join(" ")}: ${typeof reply === "string" ? reply : "OK"}`;
  });
}

/** Redis' allow-list. */
export const REDIS_ACTIONS: readonly EngineAction[] = [
  commandAction("bgsave", "save the dataset to disk in the background (BGSAVE SCHEDULE: after a running AOF rewrite)", ["BGSAVE", "SCHEDULE"]),
  commandAction("bgrewriteaof", "rewrite the append-only file in the background (BGREWRITEAOF)", ["BGREWRITEAOF"]),
  commandAction("memory-purge", "ask the allocator to release memory (MEMORY PURGE)", ["MEMORY", "PURGE"]),
  {
    name: "client-kill",
    description: "close the connections of a user, or the one at an address (CLIENT KILL ID, after CLIENT LIST)",
    scope: "every",
    parameters: [
      { name: "user", type: "string", description: "every connection of this ACL user" },
      { name: "addr", type: "string", description: "the connection at this address:port" },
    ],
    problems: clientKillProblems,
    run: killClients,
  },
];
