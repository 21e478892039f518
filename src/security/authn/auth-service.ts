/** AuthService: users, passwords, TOTP, recovery codes, sessions and API tokens, kept by an AuthBackend (sqlite or etcd). */
import { InternalError } from "../../errors/index.ts";
import { AUTHENTICATED_GROUP, type Identity } from "../identity.ts";
import type { Requester } from "../rbac/index.ts";
import type { Keyring } from "../secrets/index.ts";
import { createToken, listTokens, revokeToken, type NewToken, type NewTokenInput, type TokenSummary } from "./api-tokens.ts";
import type { AuthBackend } from "./auth-backend.ts";
import { authenticateBearer, endSession, explainRefusal, type BearerRefusal } from "./bearer.ts";
import type { AuthContext } from "./context.ts";
import { login, type LoginInput, type LoginResult } from "./login.ts";
import type { MfaSecrets } from "./mfa.ts";
import { loadCommonPasswords } from "./password-policy.ts";
import { resolveAuthPolicy, type AuthPolicy } from "./policy.ts";
import { rewrapTotpSeeds } from "./totp-rewrap.ts";
import * as users from "./user-admin.ts";
import { openSqliteAuthBackend } from "./sqlite-auth-backend.ts";
import { normalizeUsername } from "./validation.ts";

/** Where the state lives: a sqlite file of this machine, or a backend shared by several nodes (etcd). */
export type AuthStateLocation =
  | {
      /** The database file, e.g. `<home>/auth.db`; created 0600. */
      path: string;
    }
  | {
      /** An opened backend, e.g. `openEtcdAuthBackend(client)`; the service closes it. */
      backend: AuthBackend;
    };

/** How to build an AuthService. */
export type AuthServiceOptions = AuthStateLocation & AuthServiceSettings;

/** Everything but the location. */
export interface AuthServiceSettings {
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

  private constructor(backend: AuthBackend, options: AuthServiceSettings) {
    this.policy = resolveAuthPolicy(options.policy);
    let common: ReadonlySet<string> | undefined;
    this.ctx = {
      backend,
      keyring: options.keyring,
      policy: this.policy,
      now: options.now ?? Date.now,
      issuer: options.issuer ?? "Holdfast",
      // Loaded on first use: the list is large and most processes never set a password.
      commonPasswords: () => (common ??= loadCommonPasswords()),
    };
  }

  /** Open (creating if needed) the database at `options.path`, or use `options.backend`. */
  static open(options: AuthServiceOptions): Promise<AuthService> {
    try {
      resolveAuthPolicy(options.policy);
      const backend = "backend" in options ? options.backend : openSqliteAuthBackend(options.path);
      return Promise.resolve(new AuthService(backend, options));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
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
    return authenticateBearer(this.ctx, bearer);
  }

  /** End the session `bearer` names; anything else is ignored. */
  logout(bearer: string): Promise<void> {
    return endSession(this.ctx, bearer);
  }

  /** Every user, without secrets. */
  listUsers(): Promise<users.UserSummary[]> {
    return users.listUsers(this.ctx);
  }

  /** Whether `username` exists or, without an argument, whether any user does (to know if set-up is needed). */
  async userExists(username?: string): Promise<boolean> {
    if (username === undefined) return this.ctx.backend.anyUser();
    return (await this.ctx.backend.findUser(normalizeUsername(username))) !== undefined;
  }

  /** Who `username` is to RBAC (the stored name and groups, with system:authenticated); NotFoundError when no such user. */
  async requesterOf(username: string): Promise<Requester> {
    const user = await this.ctx.backend.findUser(await users.requireUser(this.ctx, username));
    if (user === undefined) throw new InternalError(`user ${username} vanished while being read`);
    return { username: user.username, groups: [...new Set([...user.groups, AUTHENTICATED_GROUP])] };
  }

  /** Disable (ending sessions and suspending tokens) or re-enable a user. */
  setDisabled(username: string, disabled: boolean): Promise<void> {
    return users.setDisabled(this.ctx, username, disabled);
  }

  /** End every session of `username` and revoke every API token they own; returns how many tokens were revoked. */
  revokeCredentials(username: string): Promise<number> {
    return users.revokeCredentials(this.ctx, username);
  }

  /** Why `bearer` was refused, for the audit record only: whose credential it was and whether it was revoked or its user disabled. */
  explainRefusal(bearer: string): Promise<BearerRefusal | undefined> {
    return explainRefusal(this.ctx, bearer);
  }

  /** New TOTP seed and recovery codes; ends the user's sessions. */
  resetMfa(username: string): Promise<MfaSecrets> {
    return users.resetMfa(this.ctx, username);
  }

  /** Set a user's password; ends their sessions. */
  setPassword(username: string, password: string): Promise<void> {
    return users.setPassword(this.ctx, username, password);
  }

  /** Delete a user with their sessions and tokens. */
  deleteUser(username: string): Promise<void> {
    return users.deleteUser(this.ctx, username);
  }

  /** Create an API token; `token` is shown once. */
  createToken(input: NewTokenInput): Promise<NewToken> {
    return createToken(this.ctx, input);
  }

  /** API tokens of `username`, or of everyone, without the tokens themselves. */
  listTokens(username?: string): Promise<TokenSummary[]> {
    return listTokens(this.ctx, username);
  }

  /** Revoke an API token by id; effective for the next request. */
  revokeToken(id: string): Promise<void> {
    return revokeToken(this.ctx, id);
  }

  /** Re-encrypt every keyring ciphertext still made with an older key (TOTP seeds) under the primary key; returns how many. */
  rewrapWithPrimaryKey(): Promise<number> {
    return rewrapTotpSeeds(this.ctx);
  }

  /** Rewrite the database files so deleted and superseded data (old ciphertexts, ended sessions) is gone from disk. */
  scrubDeletedData(): Promise<void> {
    return this.ctx.backend.scrubDeletedData();
  }

  /** Close the backend. */
  close(): void {
    this.ctx.backend.close();
  }
}
