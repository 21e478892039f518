import { test } from "node:test";
import assert from "node:assert/strict";
import { aclUserLine } from "./config.ts";
import { ownConnectionCommands, passwordRules, sentinelMasters } from "./passwords.ts";

void test("a member moves its replication link, a Sentinel its links to the instances and to the other Sentinels", () => {
  const replicator = { username: "replicator", password: "next" };
  const sentinel = { username: "sentinel", password: "next" };
  assert.deepEqual(ownConnectionCommands(replicator, undefined), [["CONFIG", "SET", "masterauth", "next"]]);
  assert.deepEqual(ownConnectionCommands(sentinel, undefined), [], "a member logs in as nobody with the Sentinel account");
  assert.deepEqual(ownConnectionCommands(sentinel, ["r-redis"]), [["SENTINEL", "SET", "r-redis", "auth-pass", "next"], ["SENTINEL", "CONFIG", "SET", "sentinel-pass", "next"]]);
  assert.deepEqual(ownConnectionCommands(replicator, ["r-redis"]), [], "a Sentinel does not replicate");
});

void test("ROLE tells a Sentinel (and the masters it watches) from a member", () => {
  assert.deepEqual(sentinelMasters(["sentinel", ["r-redis"]]), ["r-redis"]);
  assert.equal(sentinelMasters(["master", 0, []]), undefined);
  assert.equal(sentinelMasters("x"), undefined);
});

void test("an ACL user accepts every password it is given, each as its SHA-256 only", () => {
  const line = aclUserLine({ username: "default", password: "current", otherPasswords: ["next"] });
  assert.match(line, /^user default reset on #[0-9a-f]{64} #[0-9a-f]{64} ~\* &\* \+@all$/);
  assert.ok(!line.includes("current") && !line.includes("next"));
});

void test("adding the next password keeps the previous one; only retiring it resets the user's passwords", () => {
  const hash = /^#[0-9a-f]{64}$/;
  const added = passwordRules("add", "next");
  assert.equal(added.length, 1);
  assert.match(added[0] ?? "", hash);
  const retired = passwordRules("retire", "next");
  assert.equal(retired[0], "resetpass");
  assert.deepEqual(retired.slice(1), added);
});
