import { test } from "node:test";
import assert from "node:assert/strict";
import { redisGrantProblems, redisGrantSchema, redisUsernameProblem, userRules } from "./users.ts";
import { aclPasswordHash } from "./config.ts";

void test("a managed Redis user is reset in the same command, its passwords hashed, dangerous and admin commands removed last", () => {
  const grants = [redisGrantSchema.parse({ keys: ["app:*"], categories: ["read"], commands: ["get"] })];
  const rules = userRules({ username: "reader", password: "NewPass1234a", otherPasswords: ["OldPass1234a"] }, grants);
  assert.deepEqual(rules, ["reset", "on", aclPasswordHash("NewPass1234a"), aclPasswordHash("OldPass1234a"), "~app:*", "+@read", "+get", "-@dangerous", "-@admin", "-scan", "-randomkey"]);
  assert.ok(rules.every((r) => !r.includes("NewPass1234a") && !r.includes("OldPass1234a")));
});

void test("several grants are their union, without repeats", () => {
  const grants = [{ keys: ["a:*"], categories: ["read"] }, { keys: ["a:*", "b:*"], categories: ["read", "write"], channels: ["news"] }].map((g) => redisGrantSchema.parse(g));
  assert.deepEqual(userRules({ username: "u", password: "p" }, grants).slice(3), ["~a:*", "~b:*", "&news", "+@read", "+@write", "-@dangerous", "-@admin", "-scan", "-randomkey"]);
  const scanning = [redisGrantSchema.parse({ keys: ["a:*"], commands: ["scan"] })];
  assert.deepEqual(userRules({ username: "u", password: "p" }, scanning).slice(3), ["~a:*", "+scan", "-@dangerous", "-@admin", "-randomkey"], "scan only when granted by name");
});

void test("categories and commands outside the allow-list, patterns with spaces and grants with no command are refused", () => {
  assert.deepEqual(redisGrantProblems([{ keys: ["app:*"], categories: ["read"] }]), []);
  const problems = redisGrantProblems([
    { keys: ["app:*"], categories: ["admin"] },
    { keys: ["app:*"], commands: ["config"] },
    { keys: ["a b"], categories: ["read"] },
    { keys: ["app:*"] },
    { categories: ["read"] },
  ]);
  assert.deepEqual(problems.map((p) => p.path), ["[0].categories[0]", "[1].commands[0]", "[2].keys[0]", "[3].categories", "[4].keys"]);
  assert.ok(redisUsernameProblem("default") !== undefined);
});
