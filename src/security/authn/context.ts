/** What the authentication operations share: the backend, the keyring, the policy and the clock. */
import type { Keyring } from "../secrets/index.ts";
import type { AuthBackend } from "./auth-backend.ts";
import type { AuthPolicy } from "./policy.ts";

/** Dependencies handed to each operation. */
export interface AuthContext {
  /** Where users, sessions, tokens and counters are stored. */
  backend: AuthBackend;
  keyring: Keyring;
  policy: AuthPolicy;
  /** Unix milliseconds. */
  now: () => number;
  /** Shown as the account's issuer in authenticator apps. */
  issuer: string;
  /** The common-password list, loaded on first use. */
  commonPasswords: () => ReadonlySet<string>;
}

/** Associated data binding a TOTP seed ciphertext to its user, so a seed copied to another row does not decrypt. */
export function totpAssociatedData(username: string): string {
  return `auth/totp/${username}`;
}

/** A Unix-milliseconds time as an RFC 3339 string. */
export function isoTime(millis: number): string {
  return new Date(millis).toISOString();
}
