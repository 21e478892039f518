/**
 * Issue 10, item 12: `npm run quickstart` shows the connection URI (it holds the generated password) once, in the
 * run that creates the cluster; a second run changes nothing and does not print it again.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processesInside, REPO, run, type CliResult } from "../helpers/harness.ts";

let home: string;

before(async () => {
  home = await mkdtemp(join(tmpdir(), "holdfast-quickstart-"));
});

after(async () => {
  await run(join(REPO, "bin", "holdfast"), ["server", "stop"], { env: { ...process.env, HOLDFAST_HOME: home } });
  for (const pid of await processesInside(home)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await rm(home, { recursive: true, force: true });
});

function quickstart(): Promise<CliResult> {
  return run(process.execPath, [join(REPO, "scripts", "quickstart.ts"), "--listen", "127.0.0.1:0"], { env: { ...process.env, HOLDFAST_HOME: home }, timeoutMs: 300_000 });
}

test("the first run prints the password URI, a second run does not", async () => {
  const first = await quickstart();
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const uri = /postgresql:\/\/postgres:([^@\s]+)@127\.0\.0\.1:\d+/.exec(first.stdout);
  assert.ok(uri, first.stdout);
  const password = decodeURIComponent(uri[1] ?? "");
  assert.ok(password.length >= 16);

  const second = await quickstart();
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /PostgreSQL is running/);
  assert.doesNotMatch(second.stdout + second.stderr, /postgresql:\/\//);
  assert.ok(!(second.stdout + second.stderr).includes(password), "the password is not shown again");
  assert.match(second.stdout, /cluster connect quickstart-pg --show-uri/);
});
