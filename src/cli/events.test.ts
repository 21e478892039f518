import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiClient } from "./client.ts";
import { eventsFor } from "./events.ts";

test("describe asks the server only for the events about its object (a field selector), then checks the uid", async () => {
  const seen: string[] = [];
  const event = (name: string, uid: string): unknown => ({ apiVersion: "v1", kind: "Event", metadata: { name, namespace: "demo" }, involvedObject: { kind: "Cluster", name: "pg", uid }, lastTimestamp: name });
  const server = createServer((request, response) => {
    seen.push(request.url ?? "");
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ kind: "EventList", apiVersion: "v1", metadata: {}, items: [event("b", "u1"), event("a", "u1"), event("c", "old-uid")] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const client = new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const events = await eventsFor(client, { apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo", uid: "u1" } });
    assert.deepEqual(events.map((e) => e.metadata.name), ["a", "b"]);
    assert.equal(seen.length, 1);
    const url = new URL(seen[0] ?? "", "http://localhost");
    assert.equal(url.pathname, "/api/v1/namespaces/demo/events");
    assert.equal(url.searchParams.get("fieldSelector"), "involvedObject.kind=Cluster,involvedObject.name=pg");
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
