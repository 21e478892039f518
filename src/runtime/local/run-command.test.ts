import assert from "node:assert/strict";
import { test } from "node:test";
import { CommandFailedError, runCommand, stderrTail } from "./run-command.ts";

void test("runCommand passes stdin and returns stdout", async () => {
  const { stdout } = await runCommand({ command: "cat", args: [] }, { stdin: "hello" });
  assert.equal(stdout, "hello");
});

void test("a failure names the command and the stderr tail, never the stdin", async () => {
  const secret = "s3cret-password";
  const error = await runCommand({ command: "/bin/sh", args: ["-c", "cat >/dev/null; echo broken >&2; exit 3"] }, { stdin: secret }).catch((e: unknown) => e);
  assert.ok(error instanceof CommandFailedError);
  assert.equal(error.exitCode, 3);
  assert.match(error.message, /^sh exited with code 3: broken$/);
  assert.ok(!error.message.includes(secret));
});

void test("the deadline kills the command", async () => {
  const error = await runCommand({ command: "sleep", args: ["30"] }, { timeoutMs: 100 }).catch((e: unknown) => e);
  assert.ok(error instanceof CommandFailedError);
  assert.match(error.message, /sleep timed out after 100 ms/);
});

void test("a missing program says it could not be started", async () => {
  await assert.rejects(runCommand({ command: "/nonexistent/program", args: [] }), /program could not be started/);
});

void test("the child does not inherit the control plane's environment", async () => {
  process.env["HOLDFAST_TEST_SECRET"] = "leak";
  try {
    const { stdout } = await runCommand({ command: "env", args: [], env: { EXTRA: "1" } });
    assert.ok(!stdout.includes("HOLDFAST_TEST_SECRET"));
    assert.match(stdout, /^EXTRA=1$/m);
  } finally {
    delete process.env["HOLDFAST_TEST_SECRET"];
  }
});

void test("stderrTail keeps the end", () => {
  assert.equal(stderrTail("  short \n"), "short");
  assert.equal(stderrTail("abcdefghij", 3), "…hij");
});
