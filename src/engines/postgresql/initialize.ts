/** Creating and configuring a PostgreSQL data directory. */
import { randomUUID } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { InvalidError, UnavailableError, errorMessage } from "../../errors/index.ts";
import { exists, markerContent, markerPath } from "../marker.ts";
import type { Credentials, HostAccess, InstanceContext, InstanceLayout } from "../types.ts";
import { HOLDFAST_CONF, renderHoldfastConf, renderPgHba, withInclude } from "./config.ts";
import { POSTGRESQL_ACCOUNTS } from "./definition.ts";
import { reloadPostgresql } from "./server-control.ts";
import { archiveScriptPath, renderArchiveScript, walSpoolDirectory } from "./wal-archive.ts";
import { writeStorageProtection } from "./storage-protection.ts";
import { passwordsPending, setupSocket, writeSetupAccess } from "./restored-passwords.ts";

const INITDB_TIMEOUT_MS = 120_000;

/** The superuser's credentials among `accounts`. */
function superuser(accounts: readonly Credentials[]): Credentials {
  const name = POSTGRESQL_ACCOUNTS[0]?.name ?? "postgres";
  const account = accounts.find((candidate) => candidate.username === name);
  if (account === undefined || account.password === "") {
    throw new InvalidError(`PostgreSQL needs a password for system account ${name}: pass its credentials to initialize`, {
      causes: [{ field: "accounts", message: `missing credentials for ${name}` }],
    });
  }
  return account;
}

/** initdb arguments: SCRAM everywhere, UTF-8, checksums; the password comes from `pwfile`. */
function initdbArgs(dataDirectory: string, username: string, pwfile: string): string[] {
  return [
    "-D", dataDirectory, `--username=${username}`, `--pwfile=${pwfile}`,
    "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
    "--encoding=UTF8", "--locale=C.UTF-8", "--data-checksums",
  ];
}

/** Has initdb finished (PG_VERSION) and did Holdfast see it succeed (the marker)? */
export async function isPostgresqlInitialized(layout: InstanceLayout): Promise<boolean> {
  const [version, marker] = await Promise.all([exists(join(layout.dataDirectory, "PG_VERSION")), exists(markerPath(layout.dataDirectory))]);
  return version && marker;
}

/** initdb, then the marker: the directory counts as initialised only once initdb succeeded. */
export async function initializePostgresql(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  await runInitdb(context, accounts, host);
  await host.writeFile(markerPath(context.dataDirectory), markerContent(), 0o600);
}

/** Run initdb (no marker) with the superuser's password in a 0600 file that is removed whatever happens. */
export async function runInitdb(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  const admin = superuser(accounts);
  await host.mkdir(context.runDirectory);
  await host.mkdir(context.dataDirectory);
  const pwfile = join(context.runDirectory, `initdb-${randomUUID()}.pw`);
  try {
    await host.writeFile(pwfile, `${admin.password}\n`, 0o600);
    const command = { command: join(context.version.binDir, "initdb"), args: initdbArgs(context.dataDirectory, admin.username, pwfile) };
    await host.run(command, { cwd: context.runDirectory, timeoutMs: INITDB_TIMEOUT_MS });
  } catch (error) {
    throw new UnavailableError(`initdb failed for ${context.instanceName}: ${errorMessage(error)}; fix the cause and the instance will be initialised again`, { cause: error });
  } finally {
    await rm(pwfile, { force: true });
  }
}

/**
 * Rewrite pg_hba.conf for the peers of `context` and make the running server on its port re-read it. Not while a
 * restore's passwords are pending: its setup writes the normal rules, with the peers, once they are set.
 */
export async function allowPostgresqlPeers(context: InstanceContext, admin: Credentials, host: HostAccess): Promise<void> {
  if (await passwordsPending(context)) return;
  await host.writeFile(join(context.dataDirectory, "pg_hba.conf"), renderPgHba(context), 0o600);
  await reloadPostgresql(context.port, admin);
}

/**
 * Write holdfast.conf and pg_hba.conf, and make sure postgresql.conf includes holdfast.conf. While a restore's
 * passwords are pending (restored-passwords.ts), the start admits no TCP client: a private socket and its one rule.
 */
export async function configurePostgresql(context: InstanceContext, host: HostAccess): Promise<void> {
  const postgresqlConf = join(context.dataDirectory, "postgresql.conf");
  let current: string;
  try {
    current = await readFile(postgresqlConf, "utf8");
  } catch (error) {
    throw new UnavailableError(`cannot read ${postgresqlConf}: ${errorMessage(error)}; initialise the instance before configuring it`, { cause: error });
  }
  const next = withInclude(current);
  if (next !== current) await host.writeFile(postgresqlConf, next, 0o600);
  const pending = await passwordsPending(context);
  await host.writeFile(join(context.dataDirectory, HOLDFAST_CONF), renderHoldfastConf(context, pending ? setupSocket(context) : undefined), 0o600);
  if (pending) await writeSetupAccess(context, POSTGRESQL_ACCOUNTS[0]?.name ?? "postgres", host);
  else await host.writeFile(join(context.dataDirectory, "pg_hba.conf"), renderPgHba(context), 0o600);
  await writeStorageProtection(context, false, host);
  await host.writeFile(archiveScriptPath(context), renderArchiveScript(context), 0o700);
  await host.mkdir(walSpoolDirectory(context));
}
