/**
 * The leader's detector over a real embedded store: signal batches become one incident per rule and subject, the state
 * is kept for the next leader, and a new incident is announced by a signed webhook, retried until the receiver takes it,
 * every attempt recorded.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DETECTION_NAMESPACE, type Incident, type SecuritySignal, type SignalEvent } from "../api/index.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { silentLogger } from "../util/index.ts";
import { createDetector } from "./detector.ts";
import { defaultDetectionSettings } from "./settings.ts";
import { signingKeyOf, verifyWebhook } from "./webhook.ts";

let dir: string;
let store: Store;
let receiver: Server;
const received: { headers: Record<string, string>; body: string }[] = [];
let failuresLeft = 2;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "holdfast-detector-"));
  store = openSqliteStore({ path: join(dir, "store.db") });
  await store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: DETECTION_NAMESPACE } });
  receiver = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      received.push({ headers: request.headers as Record<string, string>, body });
      response.writeHead(failuresLeft-- > 0 ? 500 : 204);
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(19101, "127.0.46.1", resolve));
  await store.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "hook", namespace: DETECTION_NAMESPACE }, data: { secret: Buffer.from("whsec_c2lnbmluZy1rZXk=").toString("base64") } });
  await store.create({
    apiVersion: "holdfast.io/v1",
    kind: "NotificationChannel",
    metadata: { name: "team", namespace: DETECTION_NAMESPACE },
    spec: { webhook: { url: "http://127.0.46.1:19101/hook", secretRef: { name: "hook", key: "secret" } }, minSeverity: "high", maxAttempts: 5 },
  });
});

after(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  store.close();
  await rm(dir, { recursive: true, force: true });
});

function failure(i: number, username: string): SignalEvent {
  return {
    auditID: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    time: new Date(Date.now() + i).toISOString(),
    node: "n1",
    username,
    groups: [],
    sourceIP: "127.0.0.1",
    verb: "create",
    resource: "sessions",
    code: 401,
    authentication: { outcome: "failure", method: "password+totp", reason: "bad-password" },
  };
}

async function send(name: string, events: SignalEvent[]): Promise<void> {
  const signal: SecuritySignal = { apiVersion: "holdfast.io/v1", kind: "SecuritySignal", metadata: { name, namespace: DETECTION_NAMESPACE }, spec: { node: "n1", events } };
  await store.create(signal);
}

async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function incidentsOf(subject: string): Promise<Incident[]> {
  return (await store.list<Incident>("Incident", { namespace: DETECTION_NAMESPACE })).items.filter((i) => i.spec.subject === subject);
}

void test("batches become one incident, announced once with retries, and the next leader carries the state on", async () => {
  const settings = defaultDetectionSettings();
  const first = createDetector({ store, settings, logger: silentLogger(), notificationBackoffMs: 50 });
  await first.start();
  await send("signal-a", Array.from({ length: 6 }, (_, i) => failure(i, "mallory")));
  await send("signal-b", Array.from({ length: 6 }, (_, i) => failure(100 + i, "mallory")));
  const incident = await until(async () => (await incidentsOf("user:mallory")).find((i) => i.status?.notifications.some((n) => n.outcome === "Delivered")));
  assert.equal((await incidentsOf("user:mallory")).length, 1);
  assert.equal(incident.status?.firings, 3, "fired at the 10th, 11th and 12th failure, one incident");
  assert.equal(incident.status.evidence.auditIDs.length, 12);
  assert.deepEqual(incident.status.notifications.map((n) => n.outcome), ["Failed", "Failed", "Delivered"]);
  assert.equal(received.length, 3);
  assert.equal(new Set(received.map((r) => r.headers["webhook-id"])).size, 1, "one message, retried under one id");
  const last = received.at(-1);
  assert.ok(last !== undefined);
  assert.equal(verifyWebhook(signingKeyOf("whsec_c2lnbmluZy1rZXk="), { id: last.headers["webhook-id"] ?? "", timestamp: last.headers["webhook-timestamp"] ?? "", signature: last.headers["webhook-signature"] ?? "" }, last.body), true);
  assert.equal((await store.list("SecuritySignal")).items.length, 0, "read batches are deleted");

  // Five failures of victor, then a new leader, then five more: they add up.
  await send("signal-c", Array.from({ length: 5 }, (_, i) => failure(200 + i, "victor")));
  await until(async () => ((await store.list("SecuritySignal")).items.length === 0 ? true : undefined));
  await first.stop();
  assert.equal((await incidentsOf("user:victor")).length, 0);
  const second = createDetector({ store, settings, logger: silentLogger(), notificationBackoffMs: 50 });
  await second.start();
  await send("signal-d", Array.from({ length: 5 }, (_, i) => failure(300 + i, "victor")));
  const victor = await until(async () => (await incidentsOf("user:victor"))[0]);
  assert.equal(victor.status?.evidence.auditIDs.length, 10);
  await second.stop();
});
