import { test } from "node:test";
import assert from "node:assert/strict";
import type { CliContext } from "./context.ts";
import { main } from "./main.ts";

function capture(env: NodeJS.ProcessEnv = {}): { ctx: CliContext; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    ctx: { io: { out: (t) => (out += t), err: (t) => (err += t), errIsTTY: false }, env: { HOLDFAST_HOME: "/nonexistent-holdfast-home", ...env }, now: () => new Date() },
    out: () => out,
    err: () => err,
  };
}

test("no command prints usage with exit 2; --help exits 0", async () => {
  const none = capture();
  assert.equal(await main([], none.ctx), 2);
  assert.match(none.out(), /Usage:/);
  const help = capture();
  assert.equal(await main(["--help"], help.ctx), 0);
});

test("every command answers --help with examples", async () => {
  for (const command of [["server"], ["apply"], ["get"], ["describe"], ["delete"], ["create"], ["wait"], ["cluster", "create"], ["cluster", "connect"], ["cluster", "list-instances"], ["engines", "list"], ["init"], ["login"], ["user", "create"], ["token", "create"], ["auth", "can-i"], ["audit", "list"], ["audit", "verify"], ["secrets", "rewrap"]]) {
    const io = capture();
    assert.equal(await main([...command, "--help"], io.ctx), 0, command.join(" "));
    assert.match(io.out(), /Example/, command.join(" "));
  }
});

test("unknown commands and flags are usage errors (exit 2)", async () => {
  const unknown = capture();
  assert.equal(await main(["frobnicate"], unknown.ctx), 2);
  assert.match(unknown.err(), /unknown command "frobnicate"/);
  const flag = capture();
  assert.equal(await main(["get", "clusters", "--frob"], flag.ctx), 2);
  assert.match(flag.err(), /See 'holdfast get --help'/);
  const apply = capture();
  assert.equal(await main(["apply"], apply.ctx), 2);
  assert.match(apply.err(), /-f FILE/);
});

test("a server that is not running is explained, exit 1", async () => {
  const io = capture({ HOLDFAST_SERVER: "http://127.0.0.1:9" });
  assert.equal(await main(["get", "clusters"], io.ctx), 1);
  assert.match(io.err(), /cannot reach the Holdfast server at http:\/\/127\.0\.0\.1:9/);
  assert.match(io.err(), /holdfast server --detach/);
});

test("cluster create --dry-run prints YAML without a server", async () => {
  const io = capture({ HOLDFAST_SERVER: "http://127.0.0.1:9" });
  assert.equal(await main(["-n", "demo", "cluster", "create", "pg", "--engine", "postgresql", "--dry-run"], io.ctx), 0);
  assert.match(io.out(), /kind: Cluster\n/);
  assert.match(io.out(), /namespace: demo\n/);
  assert.match(io.out(), /- name: postgresql\n/);
});
