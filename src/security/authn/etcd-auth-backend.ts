/**
 * Authentication state shared by every control-plane node, in etcd (layout: etcd-auth-records.ts). Every
 * compare-and-set is one etcd txn (etcd-transaction.ts), so what one node does is what every node sees next:
 * a TOTP step or recovery code is accepted once across all nodes, failure counters count every node's attempts, and a
 * revocation or a deleted user is in force everywhere at once.
 *
 * A list is not itself guarded, so whatever a list must not miss rewrites a key that the lister guards: a new session
 * or token rewrites its user's record and its parent credential. Deleting a user, ending a session or revoking a
 * token then either sees the newcomer or fails its compare and runs again.
 */
import { timingSafeEqual } from "node:crypto";
import { AuthenticationError, NotFoundError } from "../../errors/index.ts";
import type { EtcdClient } from "../../store/index.ts";
import type { AuthBackend, CounterKey, CounterUpdate, SessionExpiry, SessionRow, TokenParent, TokenRow, UserChange, UserRow } from "./auth-backend.ts";
import * as records from "./etcd-auth-records.ts";
import { atomically, type EtcdTransaction } from "./etcd-transaction.ts";
import type { FailureCounter } from "./throttle.ts";

// One etcd txn holds at most --max-txn-ops (128 by default) writes: expired sessions are dropped in batches this size.
const EXPIRED_SESSIONS_PER_BATCH = 100;

/** The authentication state in the etcd cluster `client` talks to. The client stays the caller's to close. */
export function openEtcdAuthBackend(client: EtcdClient): AuthBackend {
  return new EtcdAuthBackend(client);
}

class EtcdAuthBackend implements AuthBackend {
  private readonly client: EtcdClient;

  constructor(client: EtcdClient) {
    this.client = client;
  }

  async findUser(username: string): Promise<UserRow | undefined> {
    const record = await this.userRecord(username);
    return record === undefined ? undefined : records.userRowOf(record);
  }

  async listUsers(): Promise<UserRow[]> {
    const { kvs } = await this.client.range({ key: records.USERS_PREFIX, prefix: true });
    return kvs.map((kv) => records.userRowOf(records.decodeUser(kv.value, kv.key))).sort((a, b) => (a.username < b.username ? -1 : 1));
  }

  async anyUser(): Promise<boolean> {
    return (await this.client.range({ key: records.USERS_PREFIX, prefix: true, countOnly: true })).count > 0;
  }

  insertUser(user: UserRow, recoveryCodeHashes: Buffer[]): Promise<boolean> {
    return atomically(this.client, async (tx) => {
      if ((await tx.get(records.userKey(user.username))) !== undefined) return false;
      tx.put(records.userKey(user.username), records.encodeUser(records.newUserRecord(user, recoveryCodeHashes)));
      return true;
    });
  }

  updateUser(username: string, change: UserChange, endSessionsAt?: number): Promise<void> {
    return atomically(this.client, async (tx) => {
      const user = await getUser(tx, username);
      if (user === undefined) return;
      const next = { ...user };
      if (change.passwordHash !== undefined) next.passwordHash = change.passwordHash;
      if (change.disabled !== undefined) next.disabled = change.disabled;
      if (change.mfa !== undefined) {
        next.totpSecret = change.mfa.totpSecret;
        next.recoveryCodes = change.mfa.recoveryCodeHashes.map((code) => ({ hash: code.toString("base64") }));
        delete next.totpLastStep;
      }
      tx.put(records.userKey(username), records.encodeUser(next));
      if (endSessionsAt !== undefined) await endUserSessions(tx, username, endSessionsAt);
    });
  }

  async replacePasswordHash(username: string, expected: string, next: string): Promise<void> {
    await this.changeUser(username, (user) => (user.passwordHash === expected ? { ...user, passwordHash: next } : undefined));
  }

  async recordLogin(username: string, at: number): Promise<void> {
    await this.changeUser(username, (user) => ({ ...user, lastLoginAt: at }));
  }

  deleteUser(username: string, at: number): Promise<void> {
    return atomically(this.client, async (tx) => {
      if ((await getUser(tx, username)) === undefined) return;
      await endUserSessions(tx, username, at);
      // The user's own tokens go; tokens made with them stop working once they are gone (credential-lineage.ts).
      for (const token of await listTokens(tx)) if (token.username === username) tx.delete(records.tokenKey(token.id));
      tx.delete(records.userKey(username));
    });
  }

  consumeTotpStep(username: string, step: number): Promise<boolean> {
    return this.changeUser(username, (user) => (user.totpLastStep !== undefined && user.totpLastStep >= step ? undefined : { ...user, totpLastStep: step }));
  }

  consumeRecoveryCode(username: string, codeHash: Buffer, at: number): Promise<boolean> {
    return this.changeUser(username, (user) => {
      // Compare against every unused code in constant time, as the sqlite backend does.
      let matched = -1;
      user.recoveryCodes.forEach((code, index) => {
        const stored = Buffer.from(code.hash, "base64");
        const equal = code.usedAt === undefined && stored.length === codeHash.length && timingSafeEqual(stored, codeHash);
        if (equal && matched < 0) matched = index;
      });
      if (matched < 0) return undefined;
      return { ...user, recoveryCodes: user.recoveryCodes.map((code, index) => (index === matched ? { ...code, usedAt: at } : code)) };
    });
  }

  async rewrapTotpSecrets(rewrap: (username: string, ciphertext: string) => string | undefined): Promise<number> {
    let rewrapped = 0;
    for (const user of await this.listUsers()) {
      const changed = await this.changeUser(user.username, (current) => {
        const next = rewrap(current.username, current.totpSecret);
        return next === undefined ? undefined : { ...current, totpSecret: next };
      });
      if (changed) rewrapped += 1;
    }
    return rewrapped;
  }

  async insertSession(session: SessionRow, expiry: SessionExpiry): Promise<void> {
    await this.dropExpiredSessions(expiry);
    await atomically(this.client, async (tx) => {
      await touchUser(tx, session.username);
      tx.put(records.sessionKey(session.id), records.encodeSession(session));
    });
  }

  async findSession(id: string): Promise<SessionRow | undefined> {
    const { kvs } = await this.client.range({ key: records.sessionKey(id) });
    const kv = kvs[0];
    return kv === undefined ? undefined : records.decodeSession(kv.value, kv.key);
  }

  touchSession(id: string, at: number): Promise<void> {
    return atomically(this.client, async (tx) => {
      const session = await getSession(tx, id);
      if (session !== undefined) tx.put(records.sessionKey(id), records.encodeSession({ ...session, lastSeenAt: at }));
    });
  }

  deleteSession(id: string): Promise<void> {
    return atomically(this.client, async (tx) => {
      if ((await tx.get(records.sessionKey(id))) !== undefined) tx.delete(records.sessionKey(id));
    });
  }

  endSession(id: string, at: number): Promise<void> {
    return atomically(this.client, async (tx) => {
      await endOneSession(tx, id, await listTokens(tx), at);
    });
  }

  insertToken(token: TokenRow): Promise<void> {
    return atomically(this.client, async (tx) => {
      await touchUser(tx, token.username);
      if (token.parent !== undefined) await touchParent(tx, token.parent);
      tx.put(records.tokenKey(token.id), records.encodeToken(token));
    });
  }

  async findToken(id: string): Promise<TokenRow | undefined> {
    const { kvs } = await this.client.range({ key: records.tokenKey(id) });
    const kv = kvs[0];
    return kv === undefined ? undefined : records.decodeToken(kv.value, kv.key);
  }

  async listTokens(username: string | undefined): Promise<TokenRow[]> {
    const { kvs } = await this.client.range({ key: records.TOKENS_PREFIX, prefix: true });
    const tokens = kvs.map((kv) => records.decodeToken(kv.value, kv.key)).filter((token) => username === undefined || token.username === username);
    return tokens.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  touchToken(id: string, at: number): Promise<void> {
    return atomically(this.client, async (tx) => {
      const text = await tx.get(records.tokenKey(id));
      if (text !== undefined) tx.put(records.tokenKey(id), records.encodeToken({ ...records.decodeToken(text, records.tokenKey(id)), lastUsedAt: at }));
    });
  }

  revokeToken(id: string, at: number): Promise<void> {
    return atomically(this.client, async (tx) => {
      const tokens = await listTokens(tx);
      const named = tokens.find((candidate) => candidate.id === id);
      if (named !== undefined) markRevoked(tx, named, at);
      revokeDescendants(tx, tokens, { kind: "token", id }, at);
    });
  }

  updateFailureCounters<T>(keys: readonly CounterKey[], decide: (counters: (FailureCounter | undefined)[]) => CounterUpdate<T>): Promise<T> {
    return atomically(this.client, async (tx) => {
      const counters: (FailureCounter | undefined)[] = [];
      for (const key of keys) {
        const text = await tx.get(records.counterKey(key));
        counters.push(text === undefined ? undefined : records.decodeCounter(text, records.counterKey(key)));
      }
      const update = decide(counters);
      update.write?.forEach((counter, index) => {
        const key = keys[index];
        if (key === undefined) return;
        if (counter === undefined) tx.delete(records.counterKey(key));
        else tx.put(records.counterKey(key), records.encodeCounter(counter));
      });
      return update.result;
    });
  }

  /** etcd keeps superseded values until its history is compacted: compact to now and defragment every member. */
  async scrubDeletedData(): Promise<void> {
    const { revision } = await this.client.range({ key: records.AUTH_PREFIX, prefix: true, countOnly: true });
    await this.client.compact(revision);
    await this.client.defragment();
  }

  close(): void {
    // The client belongs to whoever opened it (it is shared with the store).
  }

  private async userRecord(username: string): Promise<records.UserRecord | undefined> {
    const { kvs } = await this.client.range({ key: records.userKey(username) });
    const kv = kvs[0];
    return kv === undefined ? undefined : records.decodeUser(kv.value, kv.key);
  }

  /** Compare-and-set one user record: `change` returns the new record, or undefined to leave it; true when written. */
  private changeUser(username: string, change: (user: records.UserRecord) => records.UserRecord | undefined): Promise<boolean> {
    return atomically(this.client, async (tx) => {
      const user = await getUser(tx, username);
      const next = user === undefined ? undefined : change(user);
      if (next === undefined) return false;
      tx.put(records.userKey(username), records.encodeUser(next));
      return true;
    });
  }

  private async dropExpiredSessions(expiry: SessionExpiry): Promise<void> {
    await atomically(this.client, async (tx) => {
      const expired = (await tx.list(records.SESSIONS_PREFIX))
        .map((entry) => records.decodeSession(entry.value, entry.key))
        .filter((session) => session.lastSeenAt + expiry.idleMillis <= expiry.now || session.createdAt + expiry.absoluteMillis <= expiry.now);
      for (const session of expired.slice(0, EXPIRED_SESSIONS_PER_BATCH)) tx.delete(records.sessionKey(session.id));
    });
  }
}

async function getUser(tx: EtcdTransaction, username: string): Promise<records.UserRecord | undefined> {
  const text = await tx.get(records.userKey(username));
  return text === undefined ? undefined : records.decodeUser(text, records.userKey(username));
}

async function getSession(tx: EtcdTransaction, id: string): Promise<SessionRow | undefined> {
  const text = await tx.get(records.sessionKey(id));
  return text === undefined ? undefined : records.decodeSession(text, records.sessionKey(id));
}

/** Rewrite the user's record unchanged, so a concurrent deletion of the user fails its compare (see the header). */
async function touchUser(tx: EtcdTransaction, username: string): Promise<void> {
  const text = await tx.get(records.userKey(username));
  if (text === undefined) throw new NotFoundError(`user "${username}" not found; list users to see who exists`, { subject: { kind: "User", name: username } });
  tx.put(records.userKey(username), text);
}

/** Rewrite the parent credential unchanged, so ending or revoking it concurrently sees the new token. */
async function touchParent(tx: EtcdTransaction, parent: TokenParent): Promise<void> {
  const key = parent.kind === "session" ? records.sessionKey(parent.id) : records.tokenKey(parent.id);
  const text = await tx.get(key);
  if (text === undefined) throw new AuthenticationError(`the ${parent.kind === "session" ? "session" : "API token"} this request was made with is no longer valid; sign in again`);
  tx.put(key, text);
}

async function listTokens(tx: EtcdTransaction): Promise<TokenRow[]> {
  return (await tx.list(records.TOKENS_PREFIX)).map((entry) => records.decodeToken(entry.value, entry.key));
}

async function endUserSessions(tx: EtcdTransaction, username: string, at: number): Promise<void> {
  const sessions = (await tx.list(records.SESSIONS_PREFIX)).map((entry) => records.decodeSession(entry.value, entry.key)).filter((session) => session.username === username);
  if (sessions.length === 0) return;
  const tokens = await listTokens(tx);
  for (const session of sessions) await endOneSession(tx, session.id, tokens, at);
}

async function endOneSession(tx: EtcdTransaction, id: string, tokens: readonly TokenRow[], at: number): Promise<void> {
  // Read through get, so the session is guarded: a token made in it meanwhile rewrote it and the commit fails.
  if ((await tx.get(records.sessionKey(id))) !== undefined) tx.delete(records.sessionKey(id));
  revokeDescendants(tx, tokens, { kind: "session", id }, at);
}

/** Revoke every token made with `parent`, and the tokens those made, to any depth, in this one transaction. */
function revokeDescendants(tx: EtcdTransaction, tokens: readonly TokenRow[], parent: TokenParent, at: number): void {
  const pending: TokenParent[] = [parent];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const from = next;
    for (const child of tokens.filter((token) => token.parent?.kind === from.kind && token.parent.id === from.id)) {
      markRevoked(tx, child, at);
      pending.push({ kind: "token", id: child.id });
    }
  }
}

/** Revoke one token; an earlier revocation's time is kept, and rewriting it still guards against a new child. */
function markRevoked(tx: EtcdTransaction, token: TokenRow, at: number): void {
  tx.put(records.tokenKey(token.id), records.encodeToken({ ...token, revokedAt: token.revokedAt ?? at }));
}
