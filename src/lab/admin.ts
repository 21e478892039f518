/**
 * The lab's administrator: the first user `holdfast init` made, its password, TOTP secret and recovery codes in 0600
 * files under `<lab home>/admin`, and a CLI home (`admin/cli`) logged in with them that every host can use.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AuthenticationError } from "../errors/index.ts";
import { base32Decode, totpAt } from "../security/index.ts";
import { holdfastIn, type InitOutput } from "./nodes.ts";
import type { LabHostPlan } from "./plan.ts";
import type { LabAdmin } from "./state.ts";

const TOTP_STEP_MS = 30_000;

/** The files `writeAdminFiles` makes in `adminDir`. */
export function adminFiles(adminDir: string, username: string): LabAdmin {
  return {
    username,
    passwordFile: join(adminDir, "password"),
    totpSecretFile: join(adminDir, "totp-secret"),
    recoveryCodesFile: join(adminDir, "recovery-codes"),
  };
}

/** The CLI home the lab's administrator is logged in at. */
export function adminCliHome(adminDir: string): string {
  return join(adminDir, "cli");
}

/** Write the administrator's secrets, each in its own 0600 file. */
export async function writeAdminFiles(adminDir: string, created: InitOutput): Promise<LabAdmin> {
  await mkdir(adminDir, { recursive: true, mode: 0o700 });
  const files = adminFiles(adminDir, created.username);
  await writeFile(files.passwordFile, `${created.password}\n`, { mode: 0o600 });
  await writeFile(files.totpSecretFile, `${created.totpSecret}\n`, { mode: 0o600 });
  await writeFile(files.recoveryCodesFile, `${created.recoveryCodes.join("\n")}\n`, { mode: 0o600 });
  return files;
}

/**
 * Log the CLI at `cliHome` in to `host`'s API, from inside the host's namespace, with the password (on stdin) and a TOTP
 * code from the secret file. A code works once: when this step's was used already, the next step's is used (the
 * server accepts one step of drift), and failing that the next step is waited for.
 */
export async function logIn(host: LabHostPlan, admin: LabAdmin, cliHome: string, caFile: string): Promise<void> {
  await mkdir(cliHome, { recursive: true, mode: 0o700 });
  const password = (await readFile(admin.passwordFile, "utf8")).trim();
  const secret = base32Decode((await readFile(admin.totpSecretFile, "utf8")).trim());
  let last = "";
  // [wait before, TOTP time offset]: this step's code, the next step's, then the next step's after waiting a step.
  for (const [waitMs, offset] of [[0, 0], [0, TOTP_STEP_MS], [TOTP_STEP_MS, TOTP_STEP_MS]] as const) {
    await sleep(waitMs);
    const code = totpAt(secret, Date.now() + offset);
    const args = ["login", "--home", cliHome, "--server", host.api, "--certificate-authority", caFile, "--username", admin.username, "--password-stdin", "--totp", code];
    const result = await holdfastIn(host, args, { home: cliHome, input: `${password}\n` });
    if (result.code === 0) return;
    last = result.stderr.trim();
  }
  throw new AuthenticationError(`the lab's administrator could not log in to ${host.api}: ${last}`);
}
