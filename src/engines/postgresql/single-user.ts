/**
 * The new cluster's passwords for restored data, as SQL: run by PostgreSQL's single-user mode in a point-in-time
 * recovery (wal-restore.ts), and over the setup socket of a restored data directory's first start (restored-passwords.ts).
 */
import type { Credentials } from "../types.ts";
import { scramSha256Verifier } from "./scram.ts";

/** Recovery of a large backup's WAL may take a while. */
export const SINGLE_USER_TIMEOUT_MS = 60 * 60_000;

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * One line per account: set its password to a SCRAM verifier (the password itself is never sent) when the role
 * exists. Roles the backup does not have are left to the engine's usual account setup. A tagged dollar quote,
 * because verifiers contain `$`.
 */
export function resetPasswordsInput(accounts: readonly Credentials[]): string {
  const lines = accounts.map((account) => {
    const verifier = literal(scramSha256Verifier(account.password));
    const name = literal(account.username);
    return `DO $hf$BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${name}) THEN EXECUTE format('ALTER ROLE %I PASSWORD %L', ${name}, ${verifier}); END IF; END$hf$;`;
  });
  return `${lines.join("\n")}\n`;
}

/** The first error single-user mode reported, or undefined. It keeps going after an error, so its output is the verdict. */
export function singleUserFailure(output: { stdout: string; stderr: string }): string | undefined {
  const line = `${output.stderr}\n${output.stdout}`.split("\n").find((text) => /\b(ERROR|FATAL|PANIC):/.test(text));
  return line?.trim();
}

