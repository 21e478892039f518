/**
 * SCRAM-SHA-256 password verifiers in PostgreSQL's `pg_authid` format, computed here so
 * `CREATE/ALTER ROLE ... PASSWORD` never sends the password itself (as psql's \password does):
 * the statement may be logged, the verifier does not let anyone log in.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { InvalidError } from "../../errors/index.ts";

/** PostgreSQL's default scram_iterations. */
const ITERATIONS = 4096;
const SALT_BYTES = 16;

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` for `password` (RFC 5802/7677). */
export function scramSha256Verifier(password: string, options: { salt?: Buffer; iterations?: number } = {}): string {
  // SASLprep is the identity on printable ASCII; other passwords would need its full tables.
  if (!/^[\x20-\x7e]+$/.test(password)) {
    throw new InvalidError("the password must be non-empty printable ASCII: set a generated password", {
      causes: [{ field: "password", message: "must be non-empty printable ASCII" }],
    });
  }
  const salt = options.salt ?? randomBytes(SALT_BYTES);
  const iterations = options.iterations ?? ITERATIONS;
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}
