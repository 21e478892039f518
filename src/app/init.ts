/**
 * `holdfast init`: everything a home needs before the server may start — TLS (a private CA and the
 * serving certificate), the secret keyring, the built-in roles, and the first administrator with a
 * generated password, a TOTP secret and recovery codes. There are no default credentials.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { homePaths } from "../config/index.ts";
import { DEFAULT_API_HOST, DEFAULT_API_PORT } from "../config/index.ts";
import { AlreadyExistsError } from "../errors/index.ts";
import { AuthService, bindClusterAdmin, createSecretCodec, createTlsMaterial, ensureBuiltinRoles, loadOrCreateKeyring } from "../security/index.ts";
import { openSqliteStore } from "../store/index.ts";

export interface InitOptions {
  home: string;
  admin: string;
}

/** What init shows once: the administrator's credentials and how to reach the server. */
export interface InitResult {
  username: string;
  password: string;
  totpSecret: string;
  otpauthUri: string;
  recoveryCodes: string[];
  server: string;
  caFile: string;
}

/** Is this home initialised (TLS material and the user database exist)? */
export function isInitialised(home: string): boolean {
  const paths = homePaths(home);
  return existsSync(paths.tls.serverCertificate) && existsSync(paths.authStore);
}

/** Initialise a home; refuses a home that is already initialised. */
export async function initHome(options: InitOptions): Promise<InitResult> {
  const paths = homePaths(options.home);
  if (isInitialised(options.home)) throw new AlreadyExistsError(`${options.home} is already initialised; users are managed with holdfast user, keys with holdfast secrets`);
  await mkdir(paths.home, { recursive: true, mode: 0o700 });
  if (!existsSync(paths.tls.caCertificate)) await createTlsMaterial(paths.tls);
  const keyring = await loadOrCreateKeyring(paths.secretKeyring);
  const store = openSqliteStore({ path: paths.store, codec: createSecretCodec(keyring) });
  const auth = await AuthService.open({ path: paths.authStore, keyring });
  try {
    await ensureBuiltinRoles(store);
    const secrets = await auth.createUser({ username: options.admin });
    await bindClusterAdmin(store, options.admin);
    return {
      username: secrets.username,
      password: secrets.password,
      totpSecret: secrets.totpSecret,
      otpauthUri: secrets.otpauthUri,
      recoveryCodes: secrets.recoveryCodes,
      server: `https://${DEFAULT_API_HOST}:${DEFAULT_API_PORT}`,
      caFile: paths.tls.caCertificate,
    };
  } finally {
    auth.close();
    store.close();
  }
}
