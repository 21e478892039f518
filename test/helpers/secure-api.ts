/**
 * An API server's security services for in-process tests: TLS material, a user database with a
 * cluster-admin and an API token for it, the RBAC authorizer and an audit log, all in a temporary home.
 */
import { join } from "node:path";
import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from "undici";
import { homePaths } from "../../src/config/index.ts";
import {
  AuditLog,
  AuthService,
  Authorizer,
  bindClusterAdmin,
  createTlsMaterial,
  describeKeyring,
  ensureBuiltinRoles,
  loadOrCreateKeyring,
  readServingMaterial,
  rewrapSecrets,
  rotateSecretKey,
} from "../../src/security/index.ts";
import type { ApiServerOptions } from "../../src/server/index.ts";
import type { Store } from "../../src/store/index.ts";

/** The parts of a request init the tests use. */
export interface SimpleInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** What a test needs to run and call a secured API server. */
export interface SecureApi {
  /** The options createApiServer needs besides store, engines, logger and version. */
  serverOptions: Pick<ApiServerOptions, "access" | "auditDirectory" | "keys" | "tls">;
  /** A cluster-admin's API token. */
  adminToken: string;
  auth: AuthService;
  audit: AuditLog;
  auditDirectory: string;
  /** fetch that trusts the test CA and sends `token` (the admin's by default; null for none). */
  fetch(url: string, init?: SimpleInit, token?: string | null): ReturnType<typeof undiciFetch>;
  close(): Promise<void>;
}

/** Set up the services in `home` for `store` (the admin user is `admin`). */
export async function openSecureApi(home: string, store: Store): Promise<SecureApi> {
  const paths = homePaths(home);
  await createTlsMaterial(paths.tls);
  const tls = await readServingMaterial(paths.tls);
  const keyring = await loadOrCreateKeyring(paths.secretKeyring);
  await ensureBuiltinRoles(store);
  const auth = await AuthService.open({ path: join(home, "auth.db"), keyring });
  await auth.createUser({ username: "admin" });
  await bindClusterAdmin(store, "admin");
  const adminToken = (await auth.createToken({ username: "admin", name: "tests", expiresInSeconds: 3600 })).token;
  const audit = await AuditLog.open({ directory: paths.auditDir, signingKeyFile: paths.auditSigningKey, hmacKeyFile: paths.auditHmacKey });
  const authorizer = new Authorizer(store);
  const dispatcher = new Agent({ connect: { ca: tls.ca } });
  const keys = {
    describe: () => describeKeyring(keyring),
    rotate: () => rotateSecretKey(keyring),
    rewrap: () => rewrapSecrets({ store, auth, keyring }),
  };
  return {
    serverOptions: { access: { auth, audit, authorizer }, auditDirectory: paths.auditDir, keys, tls: { key: tls.key, cert: tls.cert } },
    adminToken,
    auth,
    audit,
    auditDirectory: paths.auditDir,
    fetch(url, init = {}, token = adminToken) {
      const headers = { ...init.headers, ...(token === null ? {} : { Authorization: `Bearer ${token}` }) };
      const request: UndiciRequestInit = { ...init, headers, dispatcher };
      return undiciFetch(url, request);
    },
    async close() {
      await dispatcher.close();
      await audit.close();
      authorizer.close();
      auth.close();
    },
  };
}
