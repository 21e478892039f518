/** The authentication state of a single machine: its own sqlite file (auth-database.ts), apart from the resource store. */
import type { DatabaseSync } from "node:sqlite";
import { scrubDatabase } from "../../util/index.ts";
import { inTransaction, openAuthDatabase, text } from "./auth-database.ts";
import type { AuthBackend, CounterKey, CounterUpdate, SessionExpiry, SessionRow, TokenRow, UserChange, UserRow } from "./auth-backend.ts";
import { readCounter, writeCounter } from "./login-failures-table.ts";
import { deleteExpiredSessions, deleteSession, findSession, insertSession, sessionIdsOf, touchSession } from "./sessions-table.ts";
import type { FailureCounter } from "./throttle.ts";
import { findToken, insertToken, listTokenRows, markTokenRevoked, revokeDescendants, touchToken } from "./tokens-table.ts";
import * as users from "./users-table.ts";

/** Open (creating if needed, 0600) the authentication database at `path`. */
export function openSqliteAuthBackend(path: string): AuthBackend {
  return new SqliteAuthBackend(openAuthDatabase(path));
}

/** Every step runs in one IMMEDIATE transaction, so compare-and-set is atomic across processes sharing the file. */
class SqliteAuthBackend implements AuthBackend {
  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  findUser(username: string): Promise<UserRow | undefined> {
    return attempt(() => users.findUser(this.db, username));
  }

  listUsers(): Promise<UserRow[]> {
    return attempt(() => users.allUsers(this.db));
  }

  anyUser(): Promise<boolean> {
    return attempt(() => users.anyUser(this.db));
  }

  insertUser(user: UserRow, recoveryCodeHashes: Buffer[]): Promise<boolean> {
    return attempt(() => users.insertUser(this.db, user, recoveryCodeHashes));
  }

  updateUser(username: string, change: UserChange, endSessionsAt?: number): Promise<void> {
    return attempt(() =>
      inTransaction(this.db, () => {
        if (change.passwordHash !== undefined) users.updatePasswordHash(this.db, username, change.passwordHash);
        if (change.disabled !== undefined) users.updateDisabled(this.db, username, change.disabled);
        if (change.mfa !== undefined) users.replaceMfa(this.db, username, change.mfa.totpSecret, change.mfa.recoveryCodeHashes);
        if (endSessionsAt !== undefined) this.endUserSessions(username, endSessionsAt);
      }),
    );
  }

  replacePasswordHash(username: string, expected: string, next: string): Promise<void> {
    return attempt(() => users.replacePasswordHashIf(this.db, username, expected, next));
  }

  recordLogin(username: string, at: number): Promise<void> {
    return attempt(() => users.updateLastLogin(this.db, username, at));
  }

  deleteUser(username: string, at: number): Promise<void> {
    return attempt(() =>
      inTransaction(this.db, () => {
        this.endUserSessions(username, at);
        // Recovery codes, sessions and tokens go with the row (ON DELETE CASCADE); tokens made with the user's own
        // tokens stop working once those rows are gone (credential-lineage.ts).
        users.deleteUserRow(this.db, username);
      }),
    );
  }

  consumeTotpStep(username: string, step: number): Promise<boolean> {
    return attempt(() => users.consumeTotpStep(this.db, username, step));
  }

  consumeRecoveryCode(username: string, codeHash: Buffer, at: number): Promise<boolean> {
    return attempt(() => users.consumeRecoveryCode(this.db, username, codeHash, at));
  }

  rewrapTotpSecrets(rewrap: (username: string, ciphertext: string) => string | undefined): Promise<number> {
    return attempt(() =>
      inTransaction(this.db, () => {
        const update = this.db.prepare("UPDATE users SET totp_secret = ? WHERE username = ? AND totp_secret = ?");
        let rewrapped = 0;
        for (const row of this.db.prepare("SELECT username, totp_secret FROM users ORDER BY username").all()) {
          const username = text(row, "username");
          const current = text(row, "totp_secret");
          const next = rewrap(username, current);
          if (next !== undefined) rewrapped += Number(update.run(next, username, current).changes);
        }
        return rewrapped;
      }),
    );
  }

  insertSession(session: SessionRow, expiry: SessionExpiry): Promise<void> {
    return attempt(() => {
      deleteExpiredSessions(this.db, expiry.now, expiry.idleMillis, expiry.absoluteMillis);
      insertSession(this.db, session);
    });
  }

  findSession(id: string): Promise<SessionRow | undefined> {
    return attempt(() => findSession(this.db, id));
  }

  touchSession(id: string, at: number): Promise<void> {
    return attempt(() => touchSession(this.db, id, at));
  }

  deleteSession(id: string): Promise<void> {
    return attempt(() => deleteSession(this.db, id));
  }

  endSession(id: string, at: number): Promise<void> {
    return attempt(() => inTransaction(this.db, () => this.endOneSession(id, at)));
  }

  insertToken(token: TokenRow): Promise<void> {
    return attempt(() => insertToken(this.db, token));
  }

  findToken(id: string): Promise<TokenRow | undefined> {
    return attempt(() => findToken(this.db, id));
  }

  listTokens(username: string | undefined): Promise<TokenRow[]> {
    return attempt(() => listTokenRows(this.db, username));
  }

  touchToken(id: string, at: number): Promise<void> {
    return attempt(() => touchToken(this.db, id, at));
  }

  revokeToken(id: string, at: number): Promise<void> {
    return attempt(() =>
      inTransaction(this.db, () => {
        markTokenRevoked(this.db, id, at);
        revokeDescendants(this.db, { kind: "token", id }, at);
      }),
    );
  }

  updateFailureCounters<T>(keys: readonly CounterKey[], decide: (counters: (FailureCounter | undefined)[]) => CounterUpdate<T>): Promise<T> {
    return attempt(() =>
      inTransaction(this.db, () => {
        const update = decide(keys.map((key) => readCounter(this.db, key)));
        update.write?.forEach((counter, index) => {
          const key = keys[index];
          if (key !== undefined) writeCounter(this.db, key, counter);
        });
        return update.result;
      }),
    );
  }

  scrubDeletedData(): Promise<void> {
    return attempt(() => scrubDatabase(this.db, "authentication database"));
  }

  close(): void {
    this.db.close();
  }

  private endOneSession(id: string, at: number): void {
    deleteSession(this.db, id);
    revokeDescendants(this.db, { kind: "session", id }, at);
  }

  private endUserSessions(username: string, at: number): void {
    for (const id of sessionIdsOf(this.db, username)) this.endOneSession(id, at);
  }
}

/** Run synchronous work as a promise, so a throw becomes a rejection like the async methods'. */
function attempt<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
