/**
 * Issue 10, item 12: a damaged store file stops the server with a message saying what to do (no stack trace),
 * and one Secret that no longer decrypts does not stop the server: it reads as an error, the rest serves.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { run, TestServer } from "../helpers/harness.ts";

const HOLDFAST = join(import.meta.dirname, "..", "..", "bin", "holdfast");

let server: TestServer;

before(async () => {
  server = await TestServer.start();
  await server.ok(["create", "namespace", "vault"]);
  for (const name of ["kept", "broken"]) {
    const secret = { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "vault" }, stringData: { password: `${name}-value` } };
    await server.ok(["apply", "-f", "-"], JSON.stringify(secret));
  }
  await server.stop();
});

after(async () => {
  await server.destroy();
});

/** `holdfast server` on the home in the foreground, stopped after `timeoutMs` if it does start. */
function serveOnce(timeoutMs = 15_000): ReturnType<typeof run> {
  return run(HOLDFAST, ["server", "--home", server.home, "--listen", "127.0.0.1:0"], { env: { ...process.env, HOLDFAST_HOME: server.home }, timeoutMs });
}

describe("a damaged store file", () => {
  const store = (): string => join(server.home, "store.db");
  const copy = (): string => join(server.home, "store.db.copy");

  before(async () => {
    await copyFile(store(), copy());
  });

  after(async () => {
    await copyFile(copy(), store());
    await rm(copy());
  });

  for (const [damage, change] of [
    ["truncated", async (): Promise<void> => truncate(store(), 3000)],
    ["cut to nothing", async (): Promise<void> => truncate(store(), 0)],
    ["overwritten", async (): Promise<void> => writeFile(store(), Buffer.alloc(65536, "garbage"))],
  ] as const) {
    test(`${damage}: the server refuses to start, says the file is damaged and how to restore it, and prints no stack trace`, async () => {
      await copyFile(copy(), store());
      await change();
      const result = await serveOnce();
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stderr, /the store file .*store\.db is damaged/);
      assert.match(result.stderr, /restore it from a copy or backup of the home/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    });
  }
});

describe("a Secret that no longer decrypts", () => {
  before(async () => {
    const db = new DatabaseSync(join(server.home, "store.db"));
    const row = db.prepare("SELECT object FROM objects WHERE kind = 'Secret' AND namespace = 'vault' AND name = 'broken'").get() as { object: string };
    const object = JSON.parse(row.object) as { encryptedData: string };
    // Flip one character of the ciphertext: authentication fails, as with a lost key or a damaged row.
    const at = object.encryptedData.length - 5;
    object.encryptedData = object.encryptedData.slice(0, at) + (object.encryptedData[at] === "A" ? "B" : "A") + object.encryptedData.slice(at + 1);
    db.prepare("UPDATE objects SET object = ? WHERE kind = 'Secret' AND namespace = 'vault' AND name = 'broken'").run(JSON.stringify(object));
    db.close();
    await server.startProcess();
  });

  test("the server starts and the other Secrets serve", async () => {
    const kept = await server.api<{ data?: Record<string, string> }>("/api/v1/namespaces/vault/secrets/kept");
    assert.equal(Buffer.from(kept.data?.["password"] ?? "", "base64").toString(), "kept-value");
  });

  test("reading it is an error naming it, not a crash", async () => {
    const response = await server.fetch("/api/v1/namespaces/vault/secrets/broken");
    assert.equal(response.status, 500);
    const status = (await response.json()) as { message: string };
    assert.match(status.message, /vault\/broken/);
    assert.match(status.message, /cannot be decrypted/);
    const described = await server.cli(["get", "secret", "broken", "-n", "vault"]);
    assert.notEqual(described.code, 0);
    assert.doesNotMatch(described.stderr, /\n\s+at /);
  });

  test("a list still answers, with the readable Secrets and the unreadable one marked", async () => {
    const response = await server.fetch("/api/v1/namespaces/vault/secrets");
    assert.equal(response.status, 200);
    const list = (await response.json()) as { items: { metadata: { name: string; annotations?: Record<string, string> }; data?: Record<string, string> }[] };
    const names = list.items.map((s) => s.metadata.name).sort();
    assert.deepEqual(names, ["broken", "kept"]);
    const broken = list.items.find((s) => s.metadata.name === "broken");
    assert.equal(broken?.data, undefined);
    assert.match(broken?.metadata.annotations?.["holdfast.io/unreadable"] ?? "", /cannot be decrypted/);
    assert.ok(await readFile(server.serverLog, "utf8"));
  });
});
