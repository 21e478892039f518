/**
 * The ACL users of a replicated Redis and what each may do. Each has only the commands its job needs, as the
 * Redis documentation lists them for replicas and for Sentinel.
 */
import { InvalidError } from "../../errors/index.ts";
import { hasControlCharacters } from "../config-text.ts";
import type { Credentials, SystemAccount } from "../types.ts";

/** The account replicas authenticate to their master with (`masteruser`/`masterauth`). */
export const REDIS_REPLICATION_ACCOUNT: SystemAccount = { name: "replicator", purpose: "replication: replicas connect to the master with it" };

/** The account Sentinels authenticate with, to the Redis instances and to each other. */
export const REDIS_SENTINEL_ACCOUNT: SystemAccount = { name: "sentinel", purpose: "Sentinel: monitors the instances and reconfigures them on failover" };

/** The accounts replication work needs. */
export interface RedisReplicationAccounts {
  /** The `default` user: all commands; Holdfast's probes and switchover use it, on instances and Sentinels. */
  admin: Credentials;
  /** Replicas connect to their master with it. */
  replication: Credentials;
  /** Sentinels connect to the instances and to each other with it. */
  sentinel: Credentials;
}

/** On an instance, the replication user: only the commands of the replication handshake and stream. */
export const REPLICATION_PERMISSIONS = "resetchannels -@all +psync +replconf +ping";

/** On an instance, the Sentinel user (the Redis documentation's list): monitor, publish hellos, reconfigure. */
export const SENTINEL_PERMISSIONS =
  "allchannels -@all +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill";

/**
 * On a Sentinel, the user other Sentinels connect as: they ping, set their connection name, publish their
 * hello and ask for votes (`SENTINEL is-master-down-by-addr`), nothing else.
 */
export const SENTINEL_PEER_PERMISSIONS = "resetchannels &__sentinel__:hello -@all +auth +client|setname +ping +publish +sentinel|is-master-down-by-addr";

/**
 * Passwords that appear in plaintext in a config file (`masterauth`, `sentinel auth-pass`) must keep to one
 * quoted token: Redis has no other way to hand a client password to the server.
 */
export function checkPlaintextPassword(account: Credentials, field: string): void {
  if (account.password.length === 0 || hasControlCharacters(account.password)) {
    throw new InvalidError(`the password of Redis user ${account.username} must be non-empty without control characters: set a new one`, {
      causes: [{ field, message: "must be non-empty and free of control characters" }],
    });
  }
}
