/** Moving the keyring ciphertexts of the authentication database (TOTP seeds) to the primary key. */
import { keyIdOf } from "../secrets/index.ts";
import { inTransaction, text } from "./auth-database.ts";
import { totpAssociatedData, type AuthContext } from "./context.ts";

/**
 * Re-encrypt, under the keyring's primary key, every TOTP seed made with another key; returns how many were.
 * `users.totp_secret` is the only keyring ciphertext this database holds (everything else is a hash).
 * One IMMEDIATE transaction, and each row changes only if it still holds the ciphertext that was read.
 */
export function rewrapTotpSeeds(ctx: AuthContext): number {
  const { db, keyring } = ctx;
  return inTransaction(db, () => {
    const update = db.prepare("UPDATE users SET totp_secret = ? WHERE username = ? AND totp_secret = ?");
    let rewrapped = 0;
    for (const row of db.prepare("SELECT username, totp_secret FROM users ORDER BY username").all()) {
      const username = text(row, "username");
      const current = text(row, "totp_secret");
      if (keyIdOf(current) === keyring.primaryKeyId) continue;
      const seed = keyring.decrypt(current, totpAssociatedData(username));
      try {
        rewrapped += Number(update.run(keyring.encrypt(seed, totpAssociatedData(username)), username, current).changes);
      } finally {
        seed.fill(0);
      }
    }
    return rewrapped;
  });
}
