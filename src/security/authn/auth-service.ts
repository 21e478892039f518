/** AuthService: users, passwords, TOTP, recovery codes, sessions and API tokens, kept in their own sqlite file. */
import type { DatabaseSync } from "node:sqlite";
import { scrubDatabase } from "../../util/index.ts";
import { InternalError } from "../../errors/index.ts";
import { AUTHENTICATED_GROUP, type Identity } from "../identity.ts";
import type { Requester } from "../rbac/index.ts";
import type { Keyring } from "../secrets/index.ts";
import { createToken, listTokens, revokeToken, type NewToken, type NewTokenInput, type TokenSummary } from "./api-tokens.ts";
import { openAuthDatabase } from "./auth-database.ts";
import { authenticateBearer, endSession } from "./bearer.ts";
import type { AuthContext } from "./context.ts";
import { login, type LoginInput, type LoginResult } from "./login.ts";
import type { MfaSecrets } from "./mfa.ts";
import { loadCommonPasswords } from "./password-policy.ts";
import { resolveAuthPolicy, type AuthPolicy } from "./policy.ts";
import { rewrapTotpSeeds } from "./totp-rewrap.ts";
import * as users from "./user-admin.ts";
import { findUser, anyUser } from "./users-table.ts";
import { normalizeUsername } from "./validation.ts";

/** How to build an AuthService. */
export interface AuthServiceOptions {
  /** The database file, e.g. `<home>/auth.db`; created 0600. */
  path: string;
  /** Encrypts TOTP seeds at rest. */
  keyring: Keyring;
  /** Unix milliseconds; tests pass a controllable clock. */
  now?: () => number;
  /** Overrides of the default (production) policy. */
  policy?: Partial<AuthPolicy>;
  /** Issuer shown in authenticator apps; default `Holdfast`. */
  issuer?: string;
}

/** Authentication: log in with password and TOTP, authenticate bearer tokens, and administer users and tokens. */
export class AuthService {
  readonly policy: AuthPolicy;
  private readonly ctx: AuthContext;

  private constructor(db: DatabaseSync, options: AuthServiceOptions) {
    this.policy = resolveAuthPolicy(options.policy);
    let common: ReadonlySet<string> | undefined;
    this.ctx = {
      db,
      keyring: options.keyring,
      policy: this.policy,
      now: options.now ?? Date.now,
      issuer: options.issuer ?? "Holdfast",
      // Loaded on first use: the list is large and most processes never set a password.
      commonPasswords: () => (common ??= loadCommonPasswords()),
    };
  }

  /** Open (creating if needed) the database at `options.path`. */
  static open(options: AuthServiceOptions): Promise<AuthService> {
    return attempt(() => {
      resolveAuthPolicy(options.policy);
      return new AuthService(openAuthDatabase(options.path), options);
    });
  }

  /** Create a user; the returned password (generated when not given), TOTP seed and recovery codes are shown once. */
  createUser(input: users.NewUserInput): Promise<users.NewUserSecrets> {
    return users.createUser(this.ctx, input);
  }

  /** Log in with password and TOTP code (or a recovery code); returns a session token. */
  login(input: LoginInput): Promise<LoginResult> {
    return login(this.ctx, input);
  }

  /** The identity behind a session or API token, or undefined when it is not (or no longer) valid. */
  authenticate(bearer: string): Promise<Identity | undefined> {
    return attempt(() => authenticateBearer(this.ctx, bearer));
  }

  /** End the session `bearer` names; anything else is ignored. */
  logout(bearer: string): Promise<void> {
    return attempt(() => endSession(this.ctx, bearer));
  }

  /** Every user, without secrets. */
  listUsers(): Promise<users.UserSummary[]> {
    return attempt(() => users.listUsers(this.ctx));
  }

  /** Whether `username` exists or, without an argument, whether any user does (to know if set-up is needed). */
  userExists(username?: string): Promise<boolean> {
    return attempt(() => (username === undefined ? anyUser(this.ctx.db) : findUser(this.ctx.db, normalizeUsername(username)) !== undefined));
  }

  /** Who `username` is to RBAC (the stored name and groups, with system:authenticated); NotFoundError when no such user. */
  requesterOf(username: string): Promise<Requester> {
    return attempt(() => {
      const user = findUser(this.ctx.db, users.requireUser(this.ctx, username));
      if (user === undefined) throw new InternalError(`user ${username} vanished while being read`);
      return { username: user.username, groups: [...new Set([...user.groups, AUTHENTICATED_GROUP])] };
    });
  }

  /** Disable (ending sessions and suspending tokens) or re-enable a user. */
  setDisabled(username: string, disabled: boolean): Promise<void> {
    return attempt(() => users.setDisabled(this.ctx, username, disabled));
  }

  /** New TOTP seed and recovery codes; ends the user's sessions. */
  resetMfa(username: string): Promise<MfaSecrets> {
    return attempt(() => users.resetMfa(this.ctx, username));
  }

  /** Set a user's password; ends their sessions. */
  setPassword(username: string, password: string): Promise<void> {
    return users.setPassword(this.ctx, username, password);
  }

  /** Delete a user with their sessions and tokens. */
  deleteUser(username: string): Promise<void> {
    return attempt(() => users.deleteUser(this.ctx, username));
  }

  /** Create an API token; `token` is shown once. */
  createToken(input: NewTokenInput): Promise<NewToken> {
    return attempt(() => createToken(this.ctx, input));
  }

  /** API tokens of `username`, or of everyone, without the tokens themselves. */
  listTokens(username?: string): Promise<TokenSummary[]> {
    return attempt(() => listTokens(this.ctx, username));
  }

  /** Revoke an API token by id; effective for the next request. */
  revokeToken(id: string): Promise<void> {
    return attempt(() => revokeToken(this.ctx, id));
  }

  /** Re-encrypt every keyring ciphertext still made with an older key (TOTP seeds) under the primary key; returns how many. */
  rewrapWithPrimaryKey(): Promise<number> {
    return attempt(() => rewrapTotpSeeds(this.ctx));
  }

  /** Rewrite the database files so deleted and superseded data (old ciphertexts, ended sessions) is gone from disk. */
  scrubDeletedData(): Promise<void> {
    return attempt(() => scrubDatabase(this.ctx.db, "authentication database"));
  }

  /** Close the database. */
  close(): void {
    this.ctx.db.close();
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
