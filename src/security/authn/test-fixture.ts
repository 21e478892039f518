/** Shared set-up for the AuthService tests: a temporary directory, a real keyring and database, a controllable clock. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { loadOrCreateKeyring, type Keyring } from "../secrets/index.ts";
import { AuthService } from "./auth-service.ts";
import { base32Decode } from "./base32.ts";
import type { AuthPolicy } from "./policy.ts";
import { totpAt, TOTP_STEP_SECONDS } from "./totp.ts";

/** Cheap argon2 for tests only; production keeps the OWASP defaults. */
export const FAST_POLICY: Partial<AuthPolicy> = { argon2: { memoryKiB: 64, passes: 1, parallelism: 1 } };
/** A password that meets the policy. */
export const PASSWORD = "violet kettle on the moon";

/** A test world: service, clock and paths. */
export interface Fixture {
  dir: string;
  path: string;
  keyring: Keyring;
  clock: { now: number };
  service: AuthService;
  /** Open another service on the same database and clock. */
  reopen(policy?: Partial<AuthPolicy>): Promise<AuthService>;
  /** Raw read access to the database, to check what is stored. */
  raw(): DatabaseSync;
  /** Advance the clock by `seconds`. */
  advance(seconds: number): void;
  /** Move to the start of the next TOTP step and return the code for `totpSecret` there. */
  nextCode(totpSecret: string): string;
  /** The code for `totpSecret` at the current time. */
  codeNow(totpSecret: string): string;
  close(): void;
}

/** Build a fixture; the clock starts at a step boundary in 2027. */
export async function openFixture(policy: Partial<AuthPolicy> = FAST_POLICY): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), "holdfast-authn-"));
  const path = join(dir, "auth.db");
  const keyring = await loadOrCreateKeyring(join(dir, "keys", "keyring.json"));
  const clock = { now: Date.UTC(2027, 0, 1) };
  const opened: (AuthService | DatabaseSync)[] = [];
  const reopen = async (override: Partial<AuthPolicy> = policy): Promise<AuthService> => {
    const service = await AuthService.open({ path, keyring, now: () => clock.now, policy: override });
    opened.push(service);
    return service;
  };
  const step = TOTP_STEP_SECONDS * 1000;
  return {
    dir,
    path,
    keyring,
    clock,
    service: await reopen(),
    reopen,
    raw: () => {
      const db = new DatabaseSync(path, { readOnly: true });
      opened.push(db);
      return db;
    },
    advance: (seconds) => (clock.now += seconds * 1000),
    nextCode: (secret) => {
      clock.now = (Math.floor(clock.now / step) + 1) * step;
      return totpAt(base32Decode(secret), clock.now);
    },
    codeNow: (secret) => totpAt(base32Decode(secret), clock.now),
    close: () => {
      for (const handle of opened) handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fixture with users alice and bob (password PASSWORD), and alice's TOTP secret. */
export async function openFixtureWithAliceAndBob(): Promise<{ fixture: Fixture; totpSecret: string }> {
  const fixture = await openFixture();
  const { totpSecret } = await fixture.service.createUser({ username: "alice", password: PASSWORD });
  await fixture.service.createUser({ username: "bob", password: PASSWORD });
  return { fixture, totpSecret };
}
