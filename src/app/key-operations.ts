/** Key management as the server offers it: describe, rotate (new writes under a new key), rewrap (everything under it). */
import type { KeyOperations } from "../server/index.ts";
import { describeKeyring, rewrapSecrets, rotateSecretKey, type AuthService, type Keyring } from "../security/index.ts";
import type { Store } from "../store/index.ts";

/** What key management works on. */
export interface KeyServices {
  keyring: Keyring;
  store: Store;
  auth: AuthService;
}

/** The key operations over this server's keyring, object store and user database. */
export function keyOperations(services: KeyServices): KeyOperations {
  return {
    describe: () => describeKeyring(services.keyring),
    rotate: () => rotateSecretKey(services.keyring),
    rewrap: () => rewrapSecrets({ store: services.store, auth: services.auth, keyring: services.keyring }),
  };
}
