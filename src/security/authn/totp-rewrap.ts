/** Moving the keyring ciphertexts of the authentication state (TOTP seeds) to the primary key. */
import { keyIdOf } from "../secrets/index.ts";
import { totpAssociatedData, type AuthContext } from "./context.ts";

/**
 * Re-encrypt, under the keyring's primary key, every TOTP seed made with another key; returns how many were.
 * The TOTP seed is the only keyring ciphertext of the authentication state (everything else is a hash). Each seed
 * changes only if it still holds the ciphertext that was read.
 */
export function rewrapTotpSeeds(ctx: AuthContext): Promise<number> {
  const { keyring } = ctx;
  return ctx.backend.rewrapTotpSecrets((username, current) => {
    if (keyIdOf(current) === keyring.primaryKeyId) return undefined;
    const seed = keyring.decrypt(current, totpAssociatedData(username));
    try {
      return keyring.encrypt(seed, totpAssociatedData(username));
    } finally {
      seed.fill(0);
    }
  });
}
