/**
 * Online password changes of Redis (ADR 0038, "Since"). An ACL user holds several passwords at once, so a rotation
 * refuses no client at any step: every server of the account adds the next password (`ACL SETUSER u #<sha256>`,
 * the plaintext never reaches the server); then each instance moves its own connections to it (a member's `masterauth`,
 * a Sentinel's `auth-pass` and `sentinel-pass`); once the next password is the one in effect, every other is removed
 * (`resetpass`). ACL users are not shared between instances, so every instance changes its own. redis.conf and
 * sentinel.conf are written from the account Secrets and the instance's status before each start, so a restart keeps
 * what the instance accepts.
 */
import { UnavailableError } from "../../errors/index.ts";
import type { ClientTrust, Credentials, EnginePasswords, HostAccess, InstanceContext, PasswordSession } from "../types.ts";
import { aclPasswordHash } from "./config.ts";
import { RespError, loopbackTarget, type RedisTarget } from "./resp.ts";
import { REDIS_REPLICATION_ACCOUNT, REDIS_SENTINEL_ACCOUNT, checkPlaintextPassword } from "./replication-accounts.ts";
import { askRedis, commandRedis } from "./session.ts";

function targetOf(context: InstanceContext, trust: ClientTrust): RedisTarget {
  return loopbackTarget(context.port, context.tls === undefined ? undefined : trust.caFile);
}

/** `ACL SETUSER` of `username` with `rules`, if the user exists (a monitoring user not set up yet is created with the password in effect). */
async function setUserIfPresent(target: RedisTarget, admin: Credentials, username: string, rules: readonly string[]): Promise<void> {
  const [found] = await commandRedis(target, admin, [["ACL", "GETUSER", username]]);
  if (found === null) return;
  await commandRedis(target, admin, [["ACL", "SETUSER", username, ...rules]]);
}

/**
 * The `ACL SETUSER` rules of a rotation's steps (pure): `add` gives the user one more password and keeps the others
 * (no `resetpass`: a client still logging in with the previous one is not refused); `retire` leaves it this one alone.
 */
export function passwordRules(step: "add" | "retire", password: string): string[] {
  return step === "add" ? [aclPasswordHash(password)] : ["resetpass", aclPasswordHash(password)];
}

/** Add `account.password` to the passwords its user accepts, keeping the others. */
async function change(context: InstanceContext, admin: Credentials, account: Credentials, trust: ClientTrust): Promise<void> {
  await setUserIfPresent(targetOf(context, trust), admin, account.username, passwordRules("add", account.password));
}

/** Make `account.password` the only password its user accepts, in one command. */
async function retire(context: InstanceContext, admin: Credentials, account: Credentials, trust: ClientTrust): Promise<void> {
  await setUserIfPresent(targetOf(context, trust), admin, account.username, passwordRules("retire", account.password));
}

/** The master names a Sentinel watches (`ROLE`: `sentinel`, then its masters); undefined when the server is no Sentinel (pure). */
export function sentinelMasters(role: unknown): string[] | undefined {
  if (!Array.isArray(role) || role[0] !== "sentinel") return undefined;
  const masters: unknown = role[1];
  return Array.isArray(masters) ? masters.filter((name): name is string => typeof name === "string") : [];
}

/**
 * The commands that make the server's own connections log in as `account` with its password: a member's replication
 * link (`masterauth`), a Sentinel's links to the instances (`auth-pass`) and to the other Sentinels (`sentinel-pass`).
 * Redis keeps these arguments out of its slow log, its MONITOR stream and its log (pure).
 */
export function ownConnectionCommands(account: Credentials, masters: readonly string[] | undefined): string[][] {
  if (masters === undefined) return account.username === REDIS_REPLICATION_ACCOUNT.name ? [["CONFIG", "SET", "masterauth", account.password]] : [];
  if (account.username !== REDIS_SENTINEL_ACCOUNT.name) return [];
  return [...masters.map((name) => ["SENTINEL", "SET", name, "auth-pass", account.password]), ["SENTINEL", "CONFIG", "SET", "sentinel-pass", account.password]];
}

async function useForOwnConnections(context: InstanceContext, account: Credentials, _host: HostAccess, session: PasswordSession): Promise<void> {
  if (account.username !== REDIS_REPLICATION_ACCOUNT.name && account.username !== REDIS_SENTINEL_ACCOUNT.name) return;
  checkPlaintextPassword(account, `accounts.${account.username}.password`);
  const target = targetOf(context, session.trust);
  const [role] = await askRedis(target, session.admin, [["ROLE"]]);
  if (role instanceof RespError) throw new UnavailableError(`Redis on port ${context.port} did not say its role: ${role.message}`);
  const commands = ownConnectionCommands(account, sentinelMasters(role));
  if (commands.length > 0) await commandRedis(target, session.admin, commands);
}

/** Redis' online password changes. */
export const REDIS_PASSWORDS: EnginePasswords = {
  scope: "every",
  keepsPrevious: true,
  refuses: () => undefined,
  change,
  retire,
  useForOwnConnections,
};
