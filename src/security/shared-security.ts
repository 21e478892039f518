/**
 * The security state a control plane shares between its nodes, opened in one place: the authentication state and the
 * secret keyring. On one machine both are files of the home (auth.db, the keyring file); on several control-plane
 * nodes both live in etcd (the keyring wrapped under the key-encryption key at `kekFile`, which etcd never holds).
 */
import type { EtcdClient } from "../store/index.ts";
import { AuthService, openEtcdAuthBackend, type AuthServiceSettings } from "./authn/index.ts";
import { loadOrCreateKeyring, openEtcdKeyring, type Keyring } from "./secrets/index.ts";

/** Tuning of the AuthService (tests pass a clock and a cheap argon2); the keyring comes from the location. */
export type SharedAuthSettings = Omit<AuthServiceSettings, "keyring">;

/** Where the shared security state lives. */
export type SharedSecurityLocation =
  | { store: "sqlite"; paths: { authStore: string; secretKeyring: string }; auth?: SharedAuthSettings }
  | { store: "etcd"; client: EtcdClient; kekFile: string; auth?: SharedAuthSettings };

/** The opened state; `close` ends the keyring's watch and closes the authentication backend (never the etcd client). */
export interface SharedSecurity {
  auth: AuthService;
  keyring: Keyring;
  close(): void;
}

/** Open the authentication state and the keyring on the given location (created on first use). */
export async function openSharedSecurity(location: SharedSecurityLocation): Promise<SharedSecurity> {
  const settings = location.auth ?? {};
  if (location.store === "sqlite") {
    const keyring = await loadOrCreateKeyring(location.paths.secretKeyring);
    const auth = await AuthService.open({ ...settings, path: location.paths.authStore, keyring });
    return { auth, keyring, close: () => auth.close() };
  }
  const keyring = await openEtcdKeyring(location.client, location.kekFile);
  try {
    const auth = await AuthService.open({ ...settings, backend: openEtcdAuthBackend(location.client), keyring });
    return {
      auth,
      keyring,
      close: () => {
        auth.close();
        keyring.close();
      },
    };
  } catch (error) {
    keyring.close();
    throw error;
  }
}
