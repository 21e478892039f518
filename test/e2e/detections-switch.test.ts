/** `holdfast server --disable-detections`: the same guesses that open an incident open none, and the start says so. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { TestServer } from "../helpers/harness.ts";

let server: TestServer;

before(async () => {
  server = await TestServer.start({ serverArgs: ["--disable-detections"] });
});

after(async () => {
  await server.destroy();
});

void test("with detections disabled no signal is forwarded and no incident opens", async () => {
  await server.ok(["user", "create", "mallory"]);
  for (let i = 0; i < 12; i += 1) {
    const response = await server.fetch("/apis/authentication.holdfast.io/v1alpha1/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: "mallory", password: `wrong-${i}`, totp: "000000" }) }, null);
    await response.body?.cancel();
  }
  await sleep(3000);
  const incidents = await server.api<{ items: unknown[] }>("/apis/holdfast.io/v1/namespaces/holdfast-system/incidents");
  assert.deepEqual(incidents.items, []);
  const signals = await server.api<{ items: unknown[] }>("/apis/holdfast.io/v1/namespaces/holdfast-system/securitysignals");
  assert.deepEqual(signals.items, []);
  const started = (await readFile(server.serverLog, "utf8")).split("\n").filter((line) => line.includes("holdfast server started"));
  assert.ok(started.length > 0 && started.every((line) => (JSON.parse(line) as { detections?: boolean }).detections === false));
});
