import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePidFile } from "./adopt.ts";

void test("parsePidFile reads the first line of postmaster.pid and redis pidfiles", () => {
  assert.equal(parsePidFile("12345\n/var/lib/pg\n1700000000\n5432\n"), 12345);
  assert.equal(parsePidFile("777\n"), 777);
  assert.equal(parsePidFile("  888  "), 888);
});

void test("parsePidFile refuses garbage, init and nothing", () => {
  for (const content of ["", "\n12", "abc", "12a", "-5", "1", "0", "99999999999"]) assert.equal(parsePidFile(content), undefined, content);
});
