/**
 * A restored data directory's passwords, set by its one normal start (ADR 0050): the restore leaves a durable
 * "passwords pending" file beside its marker; while it is there every start of the server admits no TCP client at all
 * (a pg_hba.conf with one line: the local socket, peer-authenticated, in the instance's private run directory), and the
 * node agent, before it probes the server, sets the new cluster's passwords over that socket, writes the normal
 * pg_hba.conf, makes the server re-read it, and only then removes the file. Every step is idempotent, so a crash
 * anywhere makes the next start, or the next look at the running server, do the setup again.
 */
import { rm } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { InvalidError } from "../../errors/index.ts";
import { syncDirectory } from "../../util/index.ts";
import { exists } from "../marker.ts";
import { HOLDFAST_SESSIONS } from "../own-sessions.ts";
import type { Credentials, HostAccess, InstanceContext, InstanceLayout } from "../types.ts";
import { renderPgHba, type SetupSocket } from "./config.ts";
import { resetPasswordsInput } from "./single-user.ts";

/** The file saying the passwords of a restored data directory are still the backup's; inside the data directory. */
export const PASSWORDS_PENDING = ".holdfast-passwords-pending";

/** The ident map of the setup's one pg_hba.conf line. */
const SETUP_MAP = "holdfast_setup";

/** The setup's statements may wait for locks a just-recovered server holds briefly; the connection must be quick. */
const SETUP_CONNECT_TIMEOUT_MS = 2000;
const SETUP_QUERY_TIMEOUT_MS = 30_000;

/** Path of the pending file in `dataDirectory`. */
export function passwordsPendingPath(dataDirectory: string): string {
  return join(dataDirectory, PASSWORDS_PENDING);
}

/** Are the passwords of the data directory of `layout` still to be set? */
export function passwordsPending(layout: Pick<InstanceLayout, "dataDirectory">): Promise<boolean> {
  return exists(passwordsPendingPath(layout.dataDirectory));
}

/** Write the pending file, durably: the restore does so before its marker. */
export async function markPasswordsPending(context: InstanceContext, host: HostAccess): Promise<void> {
  const note = "the passwords of this restored data are still the backup's: Holdfast sets them before the server admits TCP clients\n";
  await host.writeFile(passwordsPendingPath(context.dataDirectory), note, 0o600);
  await syncDirectory(context.dataDirectory);
}

/** Remove the pending file, durably: the last step of the setup. */
async function clearPasswordsPending(layout: InstanceLayout): Promise<void> {
  await rm(passwordsPendingPath(layout.dataDirectory), { force: true });
  await syncDirectory(layout.dataDirectory);
}

/** Where the setup start's socket and ident map live: the run directory, 0700 and the service user's. */
export function setupSocket(layout: Pick<InstanceLayout, "runDirectory">): SetupSocket {
  return { directory: layout.runDirectory, identFile: join(layout.runDirectory, "setup-ident.conf") };
}

/** A user name as pg_hba.conf and pg_ident.conf read it: double-quoted; names with a quote or a control character are refused. */
function hbaName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (/["\u0000-\u001f\u007f]/.test(name)) throw new InvalidError(`${JSON.stringify(name)} cannot be written in pg_hba.conf`);
  return `"${name}"`;
}

/**
 * pg_hba.conf of a setup start: no host line, so no TCP client is admitted at all (whatever password it has); the local
 * socket only, for `admin` on database postgres, authenticated by the peer's OS user through the setup's ident map.
 */
export function renderSetupHba(admin: string): string {
  return [
    "# Managed by Holdfast: a restored data directory whose passwords are still being set (ADR 0050).",
    "# No TCP client is admitted until the normal rules replace these.",
    "# TYPE  DATABASE  USER  METHOD",
    `local   postgres  ${hbaName(admin)}  peer map=${SETUP_MAP}`,
    "",
  ].join("\n");
}

/** The ident map of the setup: the node agent's OS user (which connects) as `admin`, nobody else. */
export function renderSetupIdent(osUser: string, admin: string): string {
  return `# Managed by Holdfast (ADR 0050).\n${SETUP_MAP}  ${hbaName(osUser)}  ${hbaName(admin)}\n`;
}

/** The OS user this process runs as: the one the setup's ident map admits. */
export function connectingOsUser(): string {
  return userInfo().username;
}

/** Write the setup's pg_hba.conf and ident map for `admin` (configurePostgresql, while the passwords are pending). */
export async function writeSetupAccess(context: InstanceContext, admin: string, host: HostAccess): Promise<void> {
  await host.writeFile(setupSocket(context).identFile, renderSetupIdent(connectingOsUser(), admin), 0o600);
  await host.writeFile(join(context.dataDirectory, "pg_hba.conf"), renderSetupHba(admin), 0o600);
}

/** Run `work` in a session over the setup socket of `context`, as `admin`, peer-authenticated; closed whatever happens. */
async function withSetupSession(context: InstanceContext, admin: string, work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({
    host: setupSocket(context).directory,
    port: context.port,
    user: admin,
    database: "postgres",
    connectionTimeoutMillis: SETUP_CONNECT_TIMEOUT_MS,
    query_timeout: SETUP_QUERY_TIMEOUT_MS,
    // Holdfast's own login in the server's log (ADR 0036): a name with a part nobody else knows.
    application_name: HOLDFAST_SESSIONS.toolApplicationName("restore_setup"),
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Finish a setup start (Engine.finishStart): nothing when no passwords are pending; otherwise, over the local socket,
 * set `accounts`' passwords (SCRAM verifiers, committed durably whatever synchronous_commit says), write the normal
 * pg_hba.conf, make the server re-read it, and remove the pending file last. Rejects while the server cannot take
 * the session yet (recovering, socket not there); the caller tries again.
 */
export async function finishRestoredStart(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  if (!(await passwordsPending(context))) return;
  const admin = accounts[0]?.username;
  if (admin === undefined) throw new InvalidError(`no administrator account to set the restored passwords of ${context.instanceName} with`);
  await withSetupSession(context, admin, async (client) => {
    await client.query(`SET synchronous_commit TO on;\n${resetPasswordsInput(accounts)}`);
    await host.writeFile(join(context.dataDirectory, "pg_hba.conf"), renderPgHba(context), 0o600);
    await client.query("SELECT pg_catalog.pg_reload_conf()");
  });
  await clearPasswordsPending(context);
}
