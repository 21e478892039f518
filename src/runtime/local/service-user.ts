/** The unprivileged system users databases run as: created, looked up and removed. */
import { execFile } from "node:child_process";
import { userInfo } from "node:os";
import { promisify } from "node:util";
import { OS_USER_NAME } from "../../api/index.ts";
import { InvalidError, UnavailableError, errorMessage } from "../../errors/index.ts";

const execFileAsync = promisify(execFile);

/** The user (and its primary group) database processes run as. */
export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
}

/** Serialises useradd runs across callers and processes; /run is writable by root only. */
const USERADD_LOCK = "/run/holdfast-useradd.lock";
/** userdel's exit code for a user that does not exist (already removed). */
const USERDEL_NO_SUCH_USER = 6;
/** userdel's exit code for a user that still has processes. */
const USERDEL_USER_BUSY = 8;
/** useradd's exit codes meaning another caller got there first: name in use, or /etc/passwd locked. */
const USERADD_RACE_CODES = new Set<unknown>([9, 10]);
const RACE_RETRIES = 20;
const RACE_RETRY_MS = 100;

/** Is the control plane running as root (and so able to switch users)? */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Parse one `getent passwd` line into a ServiceUser. */
export function parsePasswdLine(line: string): ServiceUser | undefined {
  const [name, , uid, gid] = line.trim().split(":");
  if (name === undefined || uid === undefined || gid === undefined) return undefined;
  if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid)) return undefined;
  return { name, uid: Number(uid), gid: Number(gid) };
}

/** Look a user up by name; undefined when it does not exist. */
export async function lookupUser(name: string): Promise<ServiceUser | undefined> {
  try {
    const { stdout } = await execFileAsync("getent", ["passwd", name]);
    return parsePasswdLine(stdout);
  } catch (error) {
    // getent exits 2 when the key is not found.
    if (exitCodeOf(error) === 2) return undefined;
    throw new UnavailableError(`Could not look up user ${name}: ${errorMessage(error)}`, { cause: error });
  }
}

function exitCodeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function createSystemUser(name: string): Promise<void> {
  try {
    // useradd's own locking is not reliable everywhere (concurrent runs were seen to overwrite each
    // other's entries), so callers are serialised with a lock in a root-only directory.
    await execFileAsync("flock", ["--wait", "60", USERADD_LOCK, "useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name]);
  } catch (error) {
    if (USERADD_RACE_CODES.has(exitCodeOf(error))) return;
    if (exitCodeOf(error) === "ENOENT") throw new UnavailableError("flock not found: install the util-linux package (apt-get install -y util-linux)", { cause: error });
    throw new UnavailableError(`Could not create system user ${name}: ${errorMessage(error)}`, { cause: error });
  }
}

/** The current (non-root) user, whom databases then run as. */
function currentUser(): ServiceUser {
  const info = userInfo();
  return { name: info.username, uid: info.uid, gid: info.gid };
}

/**
 * The user databases run as. As root, create the system user `name` if it is missing (safe when
 * callers race); otherwise the current user.
 */
export async function ensureServiceUser(name = "holdfast"): Promise<ServiceUser> {
  if (!isRoot()) return currentUser();
  if (!OS_USER_NAME.test(name)) {
    throw new InvalidError(`Invalid service user name "${name}": use lower-case letters, digits, "_" and "-", starting with a letter or "_"`, { causes: [{ field: "serviceUser", message: "not a valid user name" }] });
  }
  for (let attempt = 0; attempt < RACE_RETRIES; attempt++) {
    const existing = await lookupUser(name);
    if (existing !== undefined) return existing;
    await createSystemUser(name);
    const created = await lookupUser(name);
    if (created !== undefined) return created;
    // Another caller holds the passwd lock and has not finished yet.
    await sleep(RACE_RETRY_MS);
  }
  throw new UnavailableError(`System user ${name} could not be created: /etc/passwd stayed locked; retry, or create it with useradd --system ${name}`);
}

/**
 * Remove the system user `name` (and its private group) if it exists; as root only. Fails while the user still has
 * processes, so a caller retries once they are gone.
 */
export async function removeServiceUser(name: string): Promise<void> {
  if (!isRoot()) return;
  if (!OS_USER_NAME.test(name)) throw new InvalidError(`Invalid service user name "${name}"`);
  try {
    await execFileAsync("flock", ["--wait", "60", USERADD_LOCK, "userdel", name]);
  } catch (error) {
    const code = exitCodeOf(error);
    if (code === USERDEL_NO_SUCH_USER) return;
    const why = code === USERDEL_USER_BUSY ? "it still has running processes" : errorMessage(error);
    throw new UnavailableError(`Could not remove system user ${name}: ${why}`, { cause: error });
  }
}

/** spawn() options that switch to the service user; empty when not root (switching is impossible and unneeded). */
export function spawnIdentity(user: ServiceUser | undefined): { uid?: number; gid?: number } {
  if (user === undefined || !isRoot()) return {};
  return { uid: user.uid, gid: user.gid };
}

const SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A minimal environment for a child: nothing of the control plane's own (it may hold keys), plus `extra`. */
export function childEnvironment(user: ServiceUser | undefined, extra: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> = { PATH: SAFE_PATH, LANG: "C.UTF-8" };
  if (user !== undefined) Object.assign(base, { USER: user.name, LOGNAME: user.name, HOME: isRoot() ? "/nonexistent" : (process.env["HOME"] ?? "/") });
  return { ...base, ...extra };
}
