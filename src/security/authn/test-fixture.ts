/**
 * Shared set-up for the AuthService tests: a temporary directory, a real keyring, a controllable clock, and the
 * backend under test — the sqlite file, or a real etcd started for the test file — so every behaviour test runs on both.
 */
import { after, afterEach, before, beforeEach, describe } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { EtcdClient } from "../../store/index.ts";
// eslint-disable-next-line no-restricted-imports -- the etcd test helper is shared with the integration tests
import { etcdMissing, startEtcd, type TestEtcd } from "../../../test/helpers/etcd.ts";
import { loadOrCreateKeyring, type Keyring } from "../secrets/index.ts";
import type { AuthBackend } from "./auth-backend.ts";
import { AuthService } from "./auth-service.ts";
import { base32Decode } from "./base32.ts";
import { openEtcdAuthBackend } from "./etcd-auth-backend.ts";
import { AUTH_PREFIX } from "./etcd-auth-records.ts";
import type { AuthPolicy } from "./policy.ts";
import { openSqliteAuthBackend } from "./sqlite-auth-backend.ts";
import { totpAt, TOTP_STEP_SECONDS } from "./totp.ts";

/** Cheap argon2 for tests only; production keeps the OWASP defaults. */
export const FAST_POLICY: Partial<AuthPolicy> = { argon2: { memoryKiB: 64, passes: 1, parallelism: 1 } };
/** A password that meets the policy. */
export const PASSWORD = "violet kettle on the moon";

/** A backend the tests run on. */
export interface TestBackend {
  name: "sqlite" | "etcd";
  /** A new backend on the state of the fixture in `dir` (another connection, or another node on the same etcd). */
  open(dir: string): AuthBackend;
  /** Everything stored, as text, to check that no secret is in the clear. */
  dump(dir: string): Promise<string>;
  /** Remove what a test stored. */
  reset(): Promise<void>;
}

const SQLITE: TestBackend = {
  name: "sqlite",
  open: (dir) => openSqliteAuthBackend(join(dir, "auth.db")),
  dump: (dir) => Promise.resolve(dumpSqlite(join(dir, "auth.db"))),
  reset: () => Promise.resolve(),
};

/**
 * Run `suite` once per backend: on sqlite, and on a real etcd started for the test file (skipped, saying why, when
 * etcd is not installed). Call it at the top level of a test file.
 */
export function describeEachBackend(suite: (backend: TestBackend) => void): void {
  void describe("on sqlite", () => suite(SQLITE));
  void describe("on etcd", { skip: etcdMissing() }, () => {
    let etcd: TestEtcd | undefined;
    let client: EtcdClient | undefined;
    const connected = (): EtcdClient => {
      if (client === undefined) throw new Error("etcd is not started");
      return client;
    };
    before(async () => {
      etcd = await startEtcd();
      client = new EtcdClient({ endpoints: etcd.endpoints });
    });
    after(async () => {
      await client?.close();
      await etcd?.destroy();
    });
    suite({
      name: "etcd",
      open: () => openEtcdAuthBackend(connected()),
      dump: async () => (await connected().range({ key: "/holdfast/", prefix: true })).kvs.map((kv) => `${kv.key}=${kv.value}`).join("\n"),
      reset: async () => {
        await connected().deleteRange({ key: AUTH_PREFIX, prefix: true });
      },
    });
  });
}

/** A test world: service, clock and paths. */
export interface Fixture {
  dir: string;
  /** The sqlite file (sqlite backend only). */
  path: string;
  backend: TestBackend;
  keyring: Keyring;
  clock: { now: number };
  service: AuthService;
  /** Open another service on the same state and clock: another process, or on etcd another node. */
  reopen(policy?: Partial<AuthPolicy>): Promise<AuthService>;
  /** A backend on the same state, to check what is stored. */
  stored(): AuthBackend;
  /** Everything stored, as text. */
  dump(): Promise<string>;
  /** Advance the clock by `seconds`. */
  advance(seconds: number): void;
  /** Move to the start of the next TOTP step and return the code for `totpSecret` there. */
  nextCode(totpSecret: string): string;
  /** The code for `totpSecret` at the current time. */
  codeNow(totpSecret: string): string;
  close(): Promise<void>;
}

/** Build a fixture on `backend`; the clock starts at a step boundary in 2027. */
export async function openFixture(backend: TestBackend, policy: Partial<AuthPolicy> = FAST_POLICY): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), "holdfast-authn-"));
  const keyring = await loadOrCreateKeyring(join(dir, "keys", "keyring.json"));
  const clock = { now: Date.UTC(2027, 0, 1) };
  const opened: { close(): void }[] = [];
  const reopen = async (override: Partial<AuthPolicy> = policy): Promise<AuthService> => {
    const service = await AuthService.open({ backend: backend.open(dir), keyring, now: () => clock.now, policy: override });
    opened.push(service);
    return service;
  };
  const step = TOTP_STEP_SECONDS * 1000;
  return {
    dir,
    path: join(dir, "auth.db"),
    backend,
    keyring,
    clock,
    service: await reopen(),
    reopen,
    stored: () => {
      const handle = backend.open(dir);
      opened.push(handle);
      return handle;
    },
    dump: () => backend.dump(dir),
    advance: (seconds) => (clock.now += seconds * 1000),
    nextCode: (secret) => {
      clock.now = (Math.floor(clock.now / step) + 1) * step;
      return totpAt(base32Decode(secret), clock.now);
    },
    codeNow: (secret) => totpAt(base32Decode(secret), clock.now),
    close: async () => {
      for (const handle of opened) handle.close();
      await backend.reset();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fixture with users alice and bob (password PASSWORD), and alice's TOTP secret. */
export async function openFixtureWithAliceAndBob(backend: TestBackend): Promise<{ fixture: Fixture; totpSecret: string }> {
  const fixture = await openFixture(backend);
  const { totpSecret } = await fixture.service.createUser({ username: "alice", password: PASSWORD });
  await fixture.service.createUser({ username: "bob", password: PASSWORD });
  return { fixture, totpSecret };
}

/** Before each test, a fixture with alice and bob on `backend`, handed to `use`; closed after the test. */
export function eachTestWithAliceAndBob(backend: TestBackend, use: (world: { fixture: Fixture; totpSecret: string }) => void): void {
  let fixture: Fixture | undefined;
  beforeEach(async () => {
    const world = await openFixtureWithAliceAndBob(backend);
    fixture = world.fixture;
    use(world);
  });
  afterEach(() => fixture?.close());
}

/** Every table of the sqlite file as JSON, bytes as hex. */
function dumpSqlite(path: string): string {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const tables = ["users", "recovery_codes", "sessions", "api_tokens", "login_failures"];
    const rows = tables.flatMap((table) => db.prepare(`SELECT * FROM ${table}`).all());
    return JSON.stringify(rows, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString("hex") : value));
  } finally {
    db.close();
  }
}
