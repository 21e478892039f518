import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TooManyRequestsError } from "../../errors/index.ts";
import { LoginFailedError } from "./login-error.ts";
import { describeEachBackend, eachTestWithAliceAndBob, PASSWORD, type Fixture } from "./test-fixture.ts";

describeEachBackend((backend) => {
  let f: Fixture;
  let totpSecret: string;
  eachTestWithAliceAndBob(backend, (world) => ({ fixture: f, totpSecret } = world));

  /** One attempt with a wrong password: the 401's reason, or the 429's Retry-After. */
  async function wrong(source: string, username = "alice"): Promise<string | number> {
    try {
      await f.service.login({ username, password: "wrong password, sorry", totp: "000000", source });
    } catch (error) {
      if (error instanceof TooManyRequestsError) return error.retryAfterSeconds;
      if (error instanceof LoginFailedError) return error.failureReason;
      throw error;
    }
    assert.fail("a wrong password logged in");
  }

  /** One attempt with the right password and a fresh TOTP code: "ok", the 401's reason, or the 429's Retry-After. */
  async function right(source: string): Promise<string | number> {
    try {
      await f.service.login({ username: "alice", password: PASSWORD, totp: f.nextCode(totpSecret), source });
      return "ok";
    } catch (error) {
      if (error instanceof TooManyRequestsError) return error.retryAfterSeconds;
      if (error instanceof LoginFailedError) return error.failureReason;
      throw error;
    }
  }

  /** Fail `count` times from `source`, waiting out each delay as a patient attacker would. */
  async function failTimes(count: number, source: string): Promise<void> {
    for (let failed = 0; failed < count; ) {
      const result = await wrong(source);
      if (typeof result === "number") f.advance(result);
      else failed++;
    }
  }

  describe("login throttling", () => {
    it("makes a source wait 1, 2, 4, 8 s after successive failures, without evaluating early attempts", async () => {
      const waits: (string | number)[] = [];
      for (let i = 0; i < 4; i++) {
        assert.equal(await wrong("10.0.0.9"), "bad-password");
        const wait = await wrong("10.0.0.9");
        waits.push(wait);
        assert.equal(typeof wait, "number");
        f.advance(Number(wait) - 1);
        assert.equal(await wrong("10.0.0.9"), 1, "still waiting one second before the end");
        f.advance(1);
      }
      assert.deepEqual(waits, [1, 2, 4, 8]);
    });

    it("throttles made-up names from one address together, apart from real accounts and other addresses", async () => {
      assert.equal(await wrong("10.0.0.9", "nobody"), "unknown-user");
      assert.equal(await wrong("10.0.0.9", "someone-else"), 1, "every made-up name shares the address's bucket");
      f.advance(1);
      assert.equal(await wrong("10.0.0.9", "nobody"), "unknown-user");
      assert.equal(await wrong("10.0.0.9", "nobody"), 2);
      assert.equal(await wrong("10.0.0.8", "nobody"), "unknown-user", "another address has its own bucket");
      assert.equal(await wrong("10.0.0.9", "bob"), "bad-password", "a real account is not throttled by the bucket");
    });

    it("never lets failures for made-up names or other accounts delay a user's correct login from the same address", async () => {
      for (let i = 0; i < 40; i++) {
        await wrong("127.0.0.1", `made-up-${i}`);
        await wrong("127.0.0.1", "bob");
        f.advance(30);
      }
      assert.equal(await right("127.0.0.1"), "ok");
    });

    it("throttles guesses at one account per (account, address), whatever other names the address tries", async () => {
      await failTimes(3, "10.0.0.9");
      assert.equal(await wrong("10.0.0.9"), 4);
      assert.equal(await wrong("10.0.0.9", "bob"), "bad-password", "another account from the same address is evaluated");
      assert.equal(await wrong("10.0.0.8"), "bad-password", "another address is not affected until the lock");
    });

    it("says nothing secret when throttling", async () => {
      await failTimes(1, "10.0.0.9");
      await assert.rejects(
        f.service.login({ username: "alice", password: PASSWORD, totp: "123456", source: "10.0.0.9" }),
        (error: unknown) => error instanceof TooManyRequestsError && !error.message.includes(PASSWORD) && /try again in 1 seconds/.test(error.message),
      );
    });

    it("locks the account after 10 consecutive failures, for the sources that failed", async () => {
      await failTimes(9, "10.0.0.9");
      const waited = await wrong("10.0.0.9");
      assert.equal(waited, 256);
      f.advance(256);
      assert.equal(await wrong("10.0.0.9"), "bad-password", "the 10th failure");
      f.advance(512);
      assert.equal(await right("10.0.0.9"), "locked", "even the right credentials are refused from a failing source");
    });

    it("lets the user in from an address that has not failed while an attacker holds the lock", async () => {
      await failTimes(10, "10.0.0.9");
      for (let round = 0; round < 4; round++) {
        f.advance(15 * 60);
        await wrong("10.0.0.9"); // the attacker keeps trying, whatever the answer
        assert.equal(await right("192.0.2.1"), "ok", `round ${round}`);
      }
    });

    it("ends the lock after 15 minutes", async () => {
      await failTimes(10, "10.0.0.9");
      f.advance(15 * 60);
      assert.equal(await right("10.0.0.9"), "ok");
    });

    it("counts an attempt during the lock as a failure, so a failing source that keeps trying stays out", async () => {
      await failTimes(10, "10.0.0.9");
      f.advance(14 * 60);
      assert.equal(await right("10.0.0.9"), "locked");
      f.advance(2 * 60); // past the first lock, but the 11th failure set a new 15-minute wait
      const result = await right("10.0.0.9");
      assert.equal(typeof result, "number");
      assert.ok(Number(result) > 10 * 60);
    });

    it("resets the counters on success", async () => {
      await failTimes(4, "10.0.0.9");
      f.advance(8);
      assert.equal(await right("10.0.0.9"), "ok");
      assert.equal(await wrong("10.0.0.9"), "bad-password");
      assert.equal(await wrong("10.0.0.9"), 1, "back to the first delay");
    });

    it("counts a failed second factor as a failure", async () => {
      await assert.rejects(f.service.login({ username: "alice", password: PASSWORD, source: "10.0.0.9" }), LoginFailedError);
      assert.equal(await right("10.0.0.9"), "ok", "after the wait");
      await assert.rejects(f.service.login({ username: "alice", password: PASSWORD, source: "10.0.0.9" }), LoginFailedError);
      await assert.rejects(f.service.login({ username: "alice", password: PASSWORD, totp: f.codeNow(totpSecret), source: "10.0.0.9" }), TooManyRequestsError);
    });
  });
});
