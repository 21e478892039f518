import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidError, NotFoundError } from "../../errors/index.ts";
import { isWellFormedApiToken } from "./credentials.ts";
import { describeEachBackend, openFixture, PASSWORD, type Fixture } from "./test-fixture.ts";

describeEachBackend((backend) => {
  let f: Fixture;
  let totpSecret: string;
  beforeEach(async () => {
    f = await openFixture(backend);
    ({ totpSecret } = await f.service.createUser({ username: "alice", password: PASSWORD, groups: ["dba"] }));
  });
  afterEach(() => f.close());

  async function newSession(source = "10.0.0.1"): Promise<string> {
    return (await f.service.login({ username: "alice", password: PASSWORD, totp: f.nextCode(totpSecret), source })).token;
  }

  describe("sessions", () => {
    it("end after 30 idle minutes; activity keeps them alive", async () => {
      const token = await newSession();
      f.advance(29 * 60);
      assert.ok(await f.service.authenticate(token));
      f.advance(29 * 60);
      assert.ok(await f.service.authenticate(token), "the idle timer restarted at the last use");
      f.advance(30 * 60);
      assert.equal(await f.service.authenticate(token), undefined);
      f.advance(-60 * 60);
      assert.equal(await f.service.authenticate(token), undefined, "an expired session is gone for good");
    });

    it("end 12 hours after login however active", async () => {
      const token = await newSession();
      for (let minutes = 20; minutes < 12 * 60; minutes += 20) {
        f.advance(20 * 60);
        assert.ok(await f.service.authenticate(token), `alive at ${minutes} minutes`);
      }
      f.advance(20 * 60);
      assert.equal(await f.service.authenticate(token), undefined);
    });

    it("end on logout, and only for the holder of the token", async () => {
      const token = await newSession();
      const other = await newSession("10.0.0.2");
      const [prefix, id, secret = ""] = token.split("_");
      await f.service.logout(`${prefix}_${id}_${secret.replace(/^./, (c) => (c === "a" ? "b" : "a"))}`);
      assert.ok(await f.service.authenticate(token), "knowing the id is not enough to end a session");
      await f.service.logout(token);
      assert.equal(await f.service.authenticate(token), undefined);
      assert.ok(await f.service.authenticate(other), "other sessions go on");
    });

    it("are refused when the secret part is wrong", async () => {
      const token = await newSession();
      assert.equal(await f.service.authenticate(token.slice(0, -1) + (token.endsWith("a") ? "b" : "a")), undefined);
      assert.equal(await f.service.authenticate("hfs_nonsense"), undefined);
      assert.equal(await f.service.authenticate(""), undefined);
    });

    it("are stored only as hashes", async () => {
      const token = await newSession();
      const dump = await f.dump();
      assert.ok(!dump.includes(token.split("_")[2] ?? "?"));
      assert.ok(dump.includes(token.split("_")[1] ?? "?"), "the public id is stored");
    });

    for (const [what, revoke] of [
      ["a password change", () => f.service.setPassword("alice", "a brand new passphrase")],
      ["an MFA reset", () => f.service.resetMfa("alice")],
      ["disabling the user", () => f.service.setDisabled("alice", true)],
    ] as const) {
      it(`are revoked by ${what}`, async () => {
        const token = await newSession();
        await revoke();
        assert.equal(await f.service.authenticate(token), undefined);
      });
    }

    it("MFA reset replaces the seed and the recovery codes", async () => {
      const old = totpSecret;
      const reset = await f.service.resetMfa("alice");
      assert.notEqual(reset.totpSecret, old);
      assert.equal(reset.recoveryCodes.length, 10);
      await assert.rejects(f.service.login({ username: "alice", password: PASSWORD, totp: f.nextCode(old), source: "10.0.0.1" }), /invalid username, password or code/);
      f.advance(60);
      await f.service.login({ username: "alice", password: PASSWORD, totp: f.codeNow(reset.totpSecret), source: "10.0.0.2" });
      assert.equal((await f.service.listUsers())[0]?.mfaEnrolled, true);
    });

    it("a password change applies the policy and the new password works", async () => {
      await assert.rejects(f.service.setPassword("alice", "123456789012"), InvalidError);
      await assert.rejects(f.service.setPassword("nobody", "a brand new passphrase"), NotFoundError);
      await f.service.setPassword("alice", "a brand new passphrase");
      await f.service.login({ username: "alice", password: "a brand new passphrase", totp: f.nextCode(totpSecret), source: "10.0.0.1" });
    });
  });

  describe("API tokens", () => {
    it("authenticate as their user with via=token, and record their last use", async () => {
      const created = await f.service.createToken({ username: "alice", name: "ci", expiresInSeconds: 3600 });
      assert.match(created.token, /^hfat_[a-z2-7]{16}_[a-z2-7]{52}_[0-9a-f]{8}$/);
      assert.equal(created.expiresAt, "2027-01-01T01:00:00.000Z");
      f.advance(120);
      const identity = await f.service.authenticate(created.token);
      assert.deepEqual(identity && { ...identity, groups: [...identity.groups] }, { username: "alice", groups: ["dba", "system:authenticated"], via: "token", credentialId: created.id });
      const [listed] = await f.service.listTokens("alice");
      assert.deepEqual(listed, {
        id: created.id,
        name: "ci",
        username: "alice",
        createdAt: "2027-01-01T00:00:00.000Z",
        expiresAt: "2027-01-01T01:00:00.000Z",
        lastUsedAt: "2027-01-01T00:02:00.000Z",
        revoked: false,
      });
    });

    it("are listed and stored without their secret", async () => {
      const created = await f.service.createToken({ username: "alice", name: "ci", expiresInSeconds: 3600 });
      const secret = created.token.split("_")[2] ?? "?";
      assert.ok(!JSON.stringify(await f.service.listTokens()).includes(secret));
      const dump = await f.dump();
      assert.ok(dump.includes(created.id), "the dump holds the token's row");
      assert.ok(!dump.includes(secret));
    });

    it("are refused at once when revoked", async () => {
      const created = await f.service.createToken({ username: "alice", name: "ci", expiresInSeconds: 3600 });
      assert.ok(await f.service.authenticate(created.token));
      await f.service.revokeToken(created.id);
      assert.equal(await f.service.authenticate(created.token), undefined);
      assert.equal((await f.service.listTokens())[0]?.revoked, true);
      await assert.rejects(f.service.revokeToken("aaaaaaaaaaaaaaaa"), NotFoundError);
    });

    it("are refused once expired", async () => {
      const created = await f.service.createToken({ username: "alice", name: "ci", expiresInSeconds: 60 });
      f.advance(59);
      assert.ok(await f.service.authenticate(created.token));
      f.advance(1);
      assert.equal(await f.service.authenticate(created.token), undefined);
    });

    it("are refused while their user is disabled", async () => {
      const created = await f.service.createToken({ username: "alice", name: "ci", expiresInSeconds: 3600 });
      await f.service.setDisabled("alice", true);
      assert.equal(await f.service.authenticate(created.token), undefined);
    });

    it("detect typos by checksum", async () => {
      const created = await f.service.createToken({ username: "alice", name: "ci", expiresInSeconds: 3600 });
      const at = created.token.length - 12;
      const typo = created.token.slice(0, at) + (created.token.charAt(at) === "a" ? "b" : "a") + created.token.slice(at + 1);
      assert.equal(isWellFormedApiToken(typo), false);
      assert.equal(await f.service.authenticate(typo), undefined);
    });

    it("need a lifetime of at most a year, a name and an existing user", async () => {
      for (const expiresInSeconds of [0, -5, 1.5, 365 * 86400 + 1, Number.NaN]) {
        await assert.rejects(
          f.service.createToken({ username: "alice", name: "ci", expiresInSeconds }),
          (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "expiresInSeconds",
        );
      }
      await f.service.createToken({ username: "alice", name: "ci", expiresInSeconds: 365 * 86400 });
      await assert.rejects(f.service.createToken({ username: "alice", name: "", expiresInSeconds: 60 }), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "name");
      await assert.rejects(f.service.createToken({ username: "bob", name: "ci", expiresInSeconds: 60 }), NotFoundError);
    });

    it("go away with their user", async () => {
      const created = await f.service.createToken({ username: "alice", name: "ci", expiresInSeconds: 3600 });
      await f.service.deleteUser("alice");
      assert.equal(await f.service.authenticate(created.token), undefined);
      assert.deepEqual(await f.service.listTokens(), []);
      assert.equal(await f.service.userExists(), false);
    });
  });
});
