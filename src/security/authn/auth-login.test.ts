import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { AlreadyExistsError, InvalidError } from "../../errors/index.ts";
import { LoginFailedError, LOGIN_FAILED_MESSAGE, type LoginFailureReason } from "./login-error.ts";
import { describeEachBackend, openFixture, PASSWORD, type Fixture } from "./test-fixture.ts";

describeEachBackend((backend) => {
  let f: Fixture;
  beforeEach(async () => {
    f = await openFixture(backend);
  });
  afterEach(() => f.close());

  /** A predicate for assert.rejects: a LoginFailedError for `reason`, with the generic message. */
  function failedWith(reason: LoginFailureReason) {
    return (error: unknown): boolean => {
      assert.ok(error instanceof LoginFailedError, `expected LoginFailedError, got ${String(error)}`);
      assert.equal(error.failureReason, reason);
      assert.equal(error.message, LOGIN_FAILED_MESSAGE);
      assert.equal(error.httpStatus, 401);
      return true;
    };
  }

  describe("AuthService users", () => {
    it("keeps its database private and durable: mode 0600, WAL, synchronous=FULL", { skip: backend.name !== "sqlite" && "a sqlite file only" }, async () => {
      await f.service.createUser({ username: "alice", password: PASSWORD });
      assert.equal(statSync(f.path).mode & 0o777, 0o600);
      assert.equal(statSync(`${f.path}-wal`).mode & 0o777, 0o600);
      const db = new DatabaseSync(f.path, { readOnly: true });
      assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
      db.close();
    });

    it("creates a user and shows its secrets once", async () => {
      const alice = await f.service.createUser({ username: "Alice", password: PASSWORD, groups: ["admins", "admins"] });
      assert.equal(alice.username, "alice");
      assert.equal(alice.password, PASSWORD);
      assert.match(alice.totpSecret, /^[A-Z2-7]{32}$/, "20 random bytes in base32");
      assert.ok(alice.otpauthUri.startsWith("otpauth://totp/Holdfast:alice?"));
      assert.equal(alice.recoveryCodes.length, 10);
      assert.equal(new Set(alice.recoveryCodes).size, 10);
      for (const code of alice.recoveryCodes) assert.match(code, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
      const [summary] = await f.service.listUsers();
      assert.deepEqual(summary, { username: "alice", groups: ["admins"], disabled: false, createdAt: "2027-01-01T00:00:00.000Z", mfaEnrolled: false });
      assert.equal(await f.service.userExists(), true);
      assert.equal(await f.service.userExists("ALICE"), true);
      assert.equal(await f.service.userExists("bob"), false);
    });

    it("generates a 20-character password when none is given", async () => {
      const bob = await f.service.createUser({ username: "bob" });
      assert.equal(bob.password.length, 20);
      const session = await f.service.login({ username: "bob", password: bob.password, totp: f.codeNow(bob.totpSecret), source: "10.0.0.1" });
      assert.equal(session.username, "bob");
    });

    it("refuses bad names, weak passwords and duplicates", async () => {
      await assert.rejects(f.service.createUser({ username: "-bad name", password: PASSWORD }), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "username");
      await assert.rejects(f.service.createUser({ username: "carol", password: "short" }), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "password");
      await assert.rejects(f.service.createUser({ username: "carol", password: "Password1234" }), /password policy/);
      await f.service.createUser({ username: "carol", password: PASSWORD });
      await assert.rejects(f.service.createUser({ username: "carol", password: PASSWORD }), AlreadyExistsError);
      assert.equal(await f.service.userExists("dave"), false, "an empty store has no dave");
    });

    it("stores the TOTP seed encrypted (bound to the user), recovery codes as hashes, and no plaintext password", async () => {
      const alice = await f.service.createUser({ username: "alice", password: PASSWORD });
      const row = await f.stored().findUser("alice");
      const dump = await f.dump();
      assert.ok(dump.includes(row?.totpSecret ?? "?"), "the dump holds the stored rows");
      assert.ok(String(row?.totpSecret).startsWith("hfenc:v1:"));
      assert.match(String(row?.passwordHash), /^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
      for (const secret of [PASSWORD, alice.totpSecret, alice.totpSecret.toLowerCase(), ...alice.recoveryCodes, ...alice.recoveryCodes.map((c) => c.replace(/-/g, ""))]) {
        assert.ok(!dump.includes(secret), "no secret in the clear");
      }
      assert.throws(() => f.keyring.decrypt(String(row?.totpSecret), "auth/totp/bob"), /authentication failed/);
    });
  });

  describe("AuthService login", () => {
    let totpSecret: string;
    let recoveryCodes: string[];
    beforeEach(async () => {
      ({ totpSecret, recoveryCodes } = await f.service.createUser({ username: "alice", password: PASSWORD, groups: ["dba"] }));
    });

    it("refuses a login without a TOTP code", async () => {
      await assert.rejects(f.service.login({ username: "alice", password: PASSWORD, source: "10.0.0.1" }), failedWith("totp-required"));
    });

    it("refuses a wrong TOTP code, a wrong password and an unknown user alike", async () => {
      const code = f.codeNow(totpSecret);
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
      await assert.rejects(f.service.login({ username: "alice", password: PASSWORD, totp: wrong, source: "10.0.0.1" }), failedWith("bad-totp"));
      await assert.rejects(f.service.login({ username: "alice", password: `${PASSWORD}!`, totp: code, source: "10.0.0.2" }), failedWith("bad-password"));
      await assert.rejects(f.service.login({ username: "mallory", password: PASSWORD, totp: code, source: "10.0.0.3" }), failedWith("unknown-user"));
    });

    it("logs in with the right password and TOTP code and returns a session", async () => {
      const session = await f.service.login({ username: "ALICE", password: PASSWORD, totp: f.codeNow(totpSecret), source: "10.0.0.1" });
      assert.match(session.token, /^hfs_/);
      assert.equal(session.username, "alice");
      assert.equal(session.expiresAt, "2027-01-01T12:00:00.000Z");
      const identity = await f.service.authenticate(session.token);
      assert.deepEqual(identity && { ...identity, groups: [...identity.groups] }, { username: "alice", groups: ["dba", "system:authenticated"], via: "session", credentialId: session.token.split("_")[1] });
      const [summary] = await f.service.listUsers();
      assert.equal(summary?.lastLoginAt, "2027-01-01T00:00:00.000Z");
      assert.equal(summary.mfaEnrolled, true);
    });

    it("accepts a code from the previous step but not from two steps ago", async () => {
      const previous = f.codeNow(totpSecret);
      f.advance(30);
      await f.service.login({ username: "alice", password: PASSWORD, totp: previous, source: "10.0.0.1" });
      const old = f.codeNow(totpSecret);
      f.advance(60);
      await assert.rejects(f.service.login({ username: "alice", password: PASSWORD, totp: old, source: "10.0.0.2" }), failedWith("bad-totp"));
    });

    it("refuses a code that was already accepted, and any code from an earlier step", async () => {
      const code = f.nextCode(totpSecret);
      await f.service.login({ username: "alice", password: PASSWORD, totp: code, source: "10.0.0.1" });
      f.advance(5);
      await assert.rejects(f.service.login({ username: "alice", password: PASSWORD, totp: code, source: "10.0.0.1" }), failedWith("totp-replayed"));
      // A valid code of the previous step is still refused: it is not later than the step already used.
      f.advance(30);
      await assert.rejects(f.service.login({ username: "alice", password: PASSWORD, totp: code, source: "10.0.0.2" }), failedWith("totp-replayed"));
      await f.service.login({ username: "alice", password: PASSWORD, totp: f.codeNow(totpSecret), source: "10.0.0.3" });
    });

    it("lets exactly one of two concurrent logins with the same code succeed", async () => {
      const code = f.nextCode(totpSecret);
      const results = await Promise.allSettled(
        ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((source) => f.service.login({ username: "alice", password: PASSWORD, totp: code, source })),
      );
      assert.equal(results.filter((result) => result.status === "fulfilled").length, 1);
      for (const result of results) {
        if (result.status === "rejected") failedWith("totp-replayed")(result.reason);
      }
    });

    it("accepts each recovery code once instead of a TOTP code", async () => {
      const [first = "", second = ""] = recoveryCodes;
      const session = await f.service.login({ username: "alice", password: PASSWORD, recoveryCode: first.toUpperCase().replace(/-/g, " "), source: "10.0.0.1" });
      assert.ok(await f.service.authenticate(session.token));
      await assert.rejects(f.service.login({ username: "alice", password: PASSWORD, recoveryCode: first, source: "10.0.0.1" }), failedWith("bad-recovery-code"));
      await assert.rejects(f.service.login({ username: "alice", password: PASSWORD, recoveryCode: "aaaa-bbbb-cccc-dddd", source: "10.0.0.2" }), failedWith("bad-recovery-code"));
      const results = await Promise.allSettled(["10.0.0.3", "10.0.0.4"].map((source) => f.service.login({ username: "alice", password: PASSWORD, recoveryCode: second, source })));
      assert.equal(results.filter((result) => result.status === "fulfilled").length, 1, "a code is single-use even under concurrency");
    });

    it("refuses a disabled user even with the right credentials", async () => {
      await f.service.setDisabled("alice", true);
      await assert.rejects(f.service.login({ username: "alice", password: PASSWORD, totp: f.nextCode(totpSecret), source: "10.0.0.1" }), failedWith("disabled"));
      await f.service.setDisabled("alice", false);
      await f.service.login({ username: "alice", password: PASSWORD, totp: f.nextCode(totpSecret), source: "10.0.0.1" });
      assert.equal((await f.service.listUsers())[0]?.disabled, false);
    });

    it("rehashes on login when the stored parameters are weaker than the policy, and not otherwise", async () => {
      const stored = async (): Promise<string> => String((await f.stored().findUser("alice"))?.passwordHash);
      const before = await stored();
      await f.service.login({ username: "alice", password: PASSWORD, totp: f.nextCode(totpSecret), source: "10.0.0.1" });
      assert.equal(await stored(), before, "same policy: no rehash");
      const stronger = await f.reopen({ argon2: { memoryKiB: 128, passes: 2, parallelism: 1 } });
      await stronger.login({ username: "alice", password: PASSWORD, totp: f.nextCode(totpSecret), source: "10.0.0.1" });
      assert.match(await stored(), /^\$argon2id\$v=19\$m=128,t=2,p=1\$/);
      await stronger.login({ username: "alice", password: PASSWORD, totp: f.nextCode(totpSecret), source: "10.0.0.1" });
    });

    it("spends the argon2 time for unknown users, so timing does not reveal who exists", async () => {
      const strict = await f.reopen({});
      await strict.createUser({ username: "bob", password: PASSWORD });
      // CPU time of this process (argon2 runs on the thread pool, which it includes), not wall time: a loaded machine
      // stretches wall time at random, while the work done for a known and an unknown name stays what it is.
      const cost = async (username: string, source: string): Promise<number> => {
        const start = process.cpuUsage();
        await assert.rejects(strict.login({ username, password: "not the password at all", totp: "000000", source }));
        const used = process.cpuUsage(start);
        return (used.user + used.system) / 1000;
      };
      const known: number[] = [];
      const unknown: number[] = [];
      for (let round = 0; round < 3; round++) {
        known.push(await cost("bob", `10.1.0.${2 * round + 1}`));
        unknown.push(await cost("nobody", `10.1.0.${2 * round + 2}`));
      }
      const [k, u] = [Math.min(...known), Math.min(...unknown)];
      assert.ok(k > 10, `OWASP-strength argon2 takes time (${k} ms of CPU)`);
      assert.ok(u > k * 0.5 && u < k * 2, `unknown ${u} ms vs known ${k} ms of CPU`);
    });

    it("requires a source address", async () => {
      await assert.rejects(f.service.login({ username: "alice", password: PASSWORD, totp: "123456", source: "" }), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "source");
    });
  });
});
