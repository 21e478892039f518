import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidError } from "../../errors/index.ts";
import { ensureServiceUser, isRoot, parsePasswdLine } from "./service-user.ts";

void test("parsePasswdLine", () => {
  assert.deepEqual(parsePasswdLine("holdfast:x:999:998::/nonexistent:/usr/sbin/nologin\n"), { name: "holdfast", uid: 999, gid: 998 });
  assert.equal(parsePasswdLine(""), undefined);
  assert.equal(parsePasswdLine("a:x:b:c"), undefined);
});

void test("ensureServiceUser refuses a name that could be read as an option", { skip: !isRoot() && "needs root" }, async () => {
  await assert.rejects(ensureServiceUser("-o"), InvalidError);
  await assert.rejects(ensureServiceUser("Root;rm"), InvalidError);
});
