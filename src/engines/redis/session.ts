/** Authenticated commands against one Redis server or Sentinel (127.0.0.1 unless a host is given). */
import { UnavailableError } from "../../errors/index.ts";
import type { Credentials } from "../types.ts";
import { describeTarget, RespError, respExchange, type RedisTarget, type RespValue } from "./resp.ts";

/** Default deadline of one exchange. */
export const COMMAND_TIMEOUT_MS = 2000;

/**
 * AUTH as `account`, then `commands`, pipelined on one connection; resolves with one reply per command (error
 * replies as RespError values). Throws UnavailableError when the server cannot be reached or refuses AUTH.
 */
export async function askRedis(target: RedisTarget, account: Credentials, commands: readonly (readonly string[])[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<RespValue[]> {
  let replies: RespValue[];
  try {
    replies = await respExchange(target, [["AUTH", account.username, account.password], ...commands], timeoutMs);
  } catch (error) {
    throw new UnavailableError(`Redis on ${describeTarget(target)} did not answer: ${error instanceof Error ? error.message : String(error)}; check that it runs`, { cause: error });
  }
  const [login, ...rest] = replies;
  if (login !== "OK") {
    const reason = login instanceof RespError ? login.message : "unexpected reply";
    throw new UnavailableError(`Redis on ${describeTarget(target)} refused user ${account.username}: ${reason}; check the account's password`);
  }
  return rest;
}

/** Like askRedis, but an error reply to any command throws UnavailableError naming the command. */
export async function commandRedis(target: RedisTarget, account: Credentials, commands: readonly (readonly string[])[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<RespValue[]> {
  const replies = await askRedis(target, account, commands, timeoutMs);
  replies.forEach((reply, index) => {
    if (reply instanceof RespError) {
      // Only the command's name: arguments may hold secrets.
      const name = commands[index]?.slice(0, 2).join(" ") ?? "?";
      throw new UnavailableError(`Redis on ${describeTarget(target)} refused ${name}: ${reply.message}`);
    }
  });
  return replies;
}
