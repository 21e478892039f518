import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Identity } from "../identity.ts";
import { describeEachBackend, eachTestWithAliceAndBob, PASSWORD, type Fixture } from "./test-fixture.ts";

describeEachBackend((backend) => {
  let f: Fixture;
  let totpSecret: string;
  eachTestWithAliceAndBob(backend, (world) => ({ fixture: f, totpSecret } = world));

  async function identityOf(bearer: string): Promise<Identity> {
    const identity = await f.service.authenticate(bearer);
    assert.ok(identity, "the credential is valid");
    return identity;
  }

  /** A token made with `bearer` (for its own user unless `username` is given). */
  async function madeWith(bearer: string, expiresInSeconds: number, username?: string): Promise<{ token: string; expiresAt: string }> {
    const identity = await identityOf(bearer);
    return f.service.createToken({ username: username ?? identity.username, name: "child", expiresInSeconds, parent: { kind: identity.via, id: identity.credentialId } });
  }

  async function session(): Promise<string> {
    return (await f.service.login({ username: "alice", password: PASSWORD, totp: f.nextCode(totpSecret), source: "10.0.0.1" })).token;
  }

  describe("tokens made with other credentials", () => {
    it("expire no later than the token they were made with, and with it", async () => {
      const parent = await f.service.createToken({ username: "alice", name: "short", expiresInSeconds: 60 });
      const child = await madeWith(parent.token, 365 * 86400);
      assert.equal(child.expiresAt, parent.expiresAt);
      f.advance(61);
      assert.equal(await f.service.authenticate(child.token), undefined);
    });

    it("are revoked, to any depth, with the token they were made with", async () => {
      const parent = await f.service.createToken({ username: "alice", name: "root", expiresInSeconds: 3600 });
      const child = await madeWith(parent.token, 3600);
      const grandchild = await madeWith(child.token, 3600, "bob");
      await f.service.revokeToken(parent.id);
      assert.equal(await f.service.authenticate(child.token), undefined);
      assert.equal(await f.service.authenticate(grandchild.token), undefined);
      assert.ok((await f.service.listTokens("bob")).every((t) => t.revoked), "the revocation is recorded, not only computed");
    });

    it("are revoked when the session they were made in is logged out, or its user's password changes", async () => {
      const first = await session();
      const atLogout = await madeWith(first, 3600, "bob");
      await f.service.logout(first);
      assert.equal(await f.service.authenticate(atLogout.token), undefined);
      const second = await session();
      const atPasswordChange = await madeWith(second, 3600);
      await f.service.setPassword("alice", "a different long passphrase");
      assert.equal(await f.service.authenticate(atPasswordChange.token), undefined);
    });

    it("stop with their maker's user disabled or deleted", async () => {
      const parent = await f.service.createToken({ username: "alice", name: "root", expiresInSeconds: 3600 });
      const forBob = await madeWith(parent.token, 3600, "bob");
      await f.service.setDisabled("alice", true);
      assert.equal(await f.service.authenticate(forBob.token), undefined);
      await f.service.setDisabled("alice", false);
      assert.ok(await f.service.authenticate(forBob.token), "re-enabling the user brings back what was only suspended");
      await f.service.deleteUser("alice");
      assert.equal(await f.service.authenticate(forBob.token), undefined);
    });

    it("are not made with a token that is no longer in force", async () => {
      const parent = await f.service.createToken({ username: "alice", name: "root", expiresInSeconds: 3600 });
      const identity = await identityOf(parent.token);
      await f.service.revokeToken(parent.id);
      await assert.rejects(f.service.createToken({ username: "alice", name: "late", expiresInSeconds: 60, parent: { kind: "token", id: identity.credentialId } }), /no longer valid/);
    });
  });
});
