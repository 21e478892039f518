/** What the credential-rotation tests share: where a password must never appear, and an incident to contain. */
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { eventually, type TestServer } from "./harness.ts";

const AUTHN = "/apis/authentication.holdfast.io/v1alpha1";

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Where any of `values` appears: the server's log, every database and exporter log, events, `namespace`'s instances, incidents. */
export async function passwordLeaks(server: TestServer, namespace: string, values: readonly string[]): Promise<string[]> {
  const places: [string, string][] = [["server log", await readFile(server.serverLog, "utf8")]];
  for (const file of await filesUnder(join(server.home, "logs"))) places.push([file, await readFile(file, "utf8")]);
  places.push(["events", await server.ok(["get", "events", "-A", "-o", "json"])]);
  places.push(["instances", await server.ok(["get", "instances", "-n", namespace, "-o", "json"])]);
  places.push(["incidents", JSON.stringify(await server.api("/apis/holdfast.io/v1/namespaces/holdfast-system/incidents"))]);
  return places.flatMap(([where, text]) => values.filter((value) => text.includes(value)).map(() => where));
}

/** 30 wrong passwords for a new user `mallory`, as a brute force would: the name of the incident that opens. */
export async function bruteForceIncident(server: TestServer): Promise<string> {
  await server.ok(["user", "create", "mallory", "-o", "json"]);
  for (let i = 0; i < 30; i += 1) {
    const body = JSON.stringify({ username: "mallory", password: `guess-${i}-${randomBytes(4).toString("hex")}`, totp: "000000" });
    const response = await server.fetch(`${AUTHN}/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body }, null);
    await response.body?.cancel();
  }
  return eventually("an incident", async () => {
    const list = await server.api<{ items: { metadata: { name: string }; status?: { state?: string } }[] }>("/apis/holdfast.io/v1/namespaces/holdfast-system/incidents");
    return list.items.find((i) => i.status?.state !== "Resolved")?.metadata.name;
  }, 30_000);
}
