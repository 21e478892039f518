// The API server over real HTTP, with the embedded sqlite store and the built-in engines of this host.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EngineCatalog, builtinEngines } from "../../src/engines/index.ts";
import { createApiServer, type ApiServer } from "../../src/server/index.ts";
import { openSqliteStore, type Store } from "../../src/store/index.ts";
import { silentLogger } from "../../src/util/index.ts";
import { openSecureApi, type SecureApi, type SimpleInit } from "../helpers/secure-api.ts";

const CLUSTERS = "/apis/apps.kubeblocks.io/v1/namespaces/demo/clusters";
const JSON_TYPE = "application/json";
const MERGE_PATCH = "application/merge-patch+json";

let home: string;
let store: Store;
let server: ApiServer;
let base: string;
let secure: SecureApi;

interface Reply {
  status: number;
  headers: { get(name: string): string | null };
  body: Record<string, unknown>;
}

async function call(method: string, path: string, body?: unknown, contentType = JSON_TYPE): Promise<Reply> {
  const init: SimpleInit = { method };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers = { "Content-Type": contentType };
  }
  const response = await secure.fetch(`${base}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : { text } };
}

function clusterManifest(name: string, component: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name, namespace: "demo", labels: { app: name } },
    spec: { clusterDef: "postgresql", topology: "replication", componentSpecs: [{ name: "postgresql", serviceVersion: "15", ...component }], ...spec },
  };
}

function causesOf(reply: Reply): { field: string; message: string; reason?: string }[] {
  const details = reply.body["details"] as { causes?: { field: string; message: string; reason?: string }[] } | undefined;
  return details?.causes ?? [];
}

function metadataOf(object: unknown): Record<string, unknown> {
  return (object as { metadata: Record<string, unknown> }).metadata;
}

before(async () => {
  home = mkdtempSync(join(tmpdir(), "holdfast-api-"));
  store = openSqliteStore({ path: join(home, "store.db") });
  secure = await openSecureApi(home, store);
  server = createApiServer({ store, engines: new EngineCatalog(builtinEngines()), logger: silentLogger(), version: "0.1.0", ...secure.serverOptions });
  base = (await server.listen("127.0.0.1", 0)).url;
  for (const name of ["demo", "default"]) {
    const created = await call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
});

after(async () => {
  await server.close();
  await secure.close();
  store.close();
  rmSync(home, { recursive: true, force: true });
});

void test("health, version and discovery", async () => {
  const health = await call("GET", "/healthz");
  assert.equal(health.status, 200);
  assert.equal(health.body["text"], "ok");
  const version = await call("GET", "/version");
  assert.equal(version.body["gitVersion"], "v0.1.0");
  assert.equal(version.body["major"], "0");
  assert.equal(version.headers.get("content-type"), JSON_TYPE);
  assert.equal(version.headers.get("x-content-type-options"), "nosniff");
  assert.equal(version.headers.get("cache-control"), "no-store");
  const groups = (await call("GET", "/apis")).body["groups"] as { name: string }[];
  assert.deepEqual(groups.map((g) => g.name), ["apps.kubeblocks.io", "coordination.k8s.io", "dataprotection.kubeblocks.io", "holdfast.io", "monitoring.coreos.com", "operations.kubeblocks.io", "rbac.authorization.k8s.io"]);
  const apps = (await call("GET", "/apis/apps.kubeblocks.io/v1")).body["resources"] as { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
  const clusters = apps.find((r) => r.name === "clusters");
  assert.equal(clusters?.kind, "Cluster");
  assert.equal(clusters.namespaced, true);
  assert.ok(clusters.verbs.includes("create") && clusters.verbs.includes("watch"));
  const instances = ((await call("GET", "/apis/holdfast.io/v1alpha1")).body["resources"] as { name: string; verbs: string[] }[]).find((r) => r.name === "instances");
  assert.deepEqual(instances?.verbs, ["get", "list", "watch"]);
  const leases = ((await call("GET", "/apis/coordination.k8s.io/v1")).body["resources"] as { name: string; verbs: string[] }[]).find((r) => r.name === "leases");
  assert.deepEqual(leases?.verbs, ["get", "list", "watch"]);
  const core = (await call("GET", "/api/v1")).body["resources"] as { name: string; namespaced: boolean }[];
  assert.equal(core.find((r) => r.name === "namespaces")?.namespaced, false);
});

void test("create, get and list a cluster; defaults are stored", async () => {
  const manifest = clusterManifest("pg");
  const created = await call("POST", CLUSTERS, manifest);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const spec = created.body["spec"] as { terminationPolicy: string; componentSpecs: { replicas: number }[] };
  assert.equal(spec.terminationPolicy, "Delete");
  assert.equal(spec.componentSpecs[0]?.replicas, 1);
  const got = await call("GET", `${CLUSTERS}/pg`);
  assert.equal(got.status, 200);
  assert.equal(metadataOf(got.body)["uid"], metadataOf(created.body)["uid"]);
  assert.deepEqual(got.body["spec"], created.body["spec"]);
  await call("POST", CLUSTERS, clusterManifest("other"));
  const list = await call("GET", `${CLUSTERS}?labelSelector=${encodeURIComponent("app=pg")}`);
  assert.equal(list.body["kind"], "ClusterList");
  assert.equal(list.body["apiVersion"], "apps.kubeblocks.io/v1");
  assert.match((list.body["metadata"] as { resourceVersion: string }).resourceVersion, /^[0-9]+$/);
  assert.deepEqual((list.body["items"] as unknown[]).map((i) => metadataOf(i)["name"]), ["pg"]);
  const everywhere = await call("GET", "/apis/apps.kubeblocks.io/v1/clusters");
  assert.ok((everywhere.body["items"] as unknown[]).length >= 2);
  const again = await call("POST", CLUSTERS, manifest);
  assert.equal(again.status, 409);
  assert.equal(again.body["reason"], "AlreadyExists");
});

void test("update with a stale resourceVersion is a 409 Conflict; a fresh one succeeds", async () => {
  const created = await call("POST", CLUSTERS, clusterManifest("upd"));
  const stale = structuredClone(created.body);
  const fresh = structuredClone(created.body) as { spec: { componentSpecs: { disableExporter?: boolean }[] } };
  fresh.spec.componentSpecs[0]!.disableExporter = true;
  const updated = await call("PUT", `${CLUSTERS}/upd`, fresh);
  assert.equal(updated.status, 200, JSON.stringify(updated.body));
  assert.equal(metadataOf(updated.body)["generation"], 2);
  const conflict = await call("PUT", `${CLUSTERS}/upd`, stale);
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body["reason"], "Conflict");
  const renamed = await call("PUT", `${CLUSTERS}/upd`, { ...updated.body, metadata: { ...metadataOf(updated.body), name: "other-name" } });
  assert.equal(renamed.status, 400);
});

void test("merge patch changes what it names and keeps the rest; immutable fields stay", async () => {
  await call("POST", CLUSTERS, clusterManifest("patched"));
  const patched = await call("PATCH", `${CLUSTERS}/patched`, { metadata: { labels: { tier: "gold" } }, spec: { terminationPolicy: "WipeOut" } }, MERGE_PATCH);
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.deepEqual(metadataOf(patched.body)["labels"], { app: "patched", tier: "gold" });
  assert.equal((patched.body["spec"] as { terminationPolicy: string }).terminationPolicy, "WipeOut");
  const topology = await call("PATCH", `${CLUSTERS}/patched`, { spec: { topology: "standalone" } }, MERGE_PATCH);
  assert.equal(topology.status, 422);
  assert.deepEqual(causesOf(topology).map((c) => c.field), ["spec.topology"]);
  const asJson = await call("PATCH", `${CLUSTERS}/patched`, { spec: {} }, JSON_TYPE);
  assert.equal(asJson.status, 415);
  const stale = await call("PATCH", `${CLUSTERS}/patched`, { metadata: { resourceVersion: "1" }, spec: { terminationPolicy: "Delete" } }, MERGE_PATCH);
  assert.equal(stale.status, 409);
});

void test("the status subresource writes status only", async () => {
  const created = await call("POST", CLUSTERS, { ...clusterManifest("st"), status: { phase: "Running" } });
  assert.equal(created.body["status"], undefined, "status is not taken from a create");
  const withStatus = { ...created.body, status: { phase: "Creating", observedGeneration: 1 }, spec: { ...(created.body["spec"] as object), terminationPolicy: "WipeOut" } };
  const updated = await call("PUT", `${CLUSTERS}/st/status`, withStatus);
  assert.equal(updated.status, 200, JSON.stringify(updated.body));
  assert.deepEqual(updated.body["status"], { phase: "Creating", observedGeneration: 1 });
  assert.equal((updated.body["spec"] as { terminationPolicy: string }).terminationPolicy, "Delete", "spec is not changed through status");
  const patched = await call("PATCH", `${CLUSTERS}/st/status`, { status: { phase: "Running" } }, MERGE_PATCH);
  assert.equal((patched.body["status"] as { phase: string }).phase, "Running");
  assert.equal(metadataOf(patched.body)["generation"], 1);
});

void test("delete returns the object; a later get is 404", async () => {
  const created = await call("POST", CLUSTERS, clusterManifest("gone"));
  const wrongUid = await secure.fetch(`${base}${CLUSTERS}/gone`, { method: "DELETE", headers: { "Content-Type": JSON_TYPE }, body: JSON.stringify({ preconditions: { uid: "not-the-uid" } }) });
  assert.equal(wrongUid.status, 409);
  await wrongUid.text();
  const deleted = await call("DELETE", `${CLUSTERS}/gone`);
  assert.equal(deleted.status, 200);
  assert.equal(metadataOf(deleted.body)["uid"], metadataOf(created.body)["uid"]);
  const missing = await call("GET", `${CLUSTERS}/gone`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body["kind"], "Status");
  assert.equal(missing.body["reason"], "NotFound");
});

void test("DoNotTerminate refuses deletion with 403 and says what to do", async () => {
  await call("POST", CLUSTERS, clusterManifest("keep", {}, { terminationPolicy: "DoNotTerminate" }));
  const refused = await call("DELETE", `${CLUSTERS}/keep`);
  assert.equal(refused.status, 403);
  assert.equal(refused.body["reason"], "Forbidden");
  assert.equal(refused.body["message"], "cluster demo/keep has terminationPolicy DoNotTerminate and cannot be deleted; set spec.terminationPolicy to Delete or WipeOut first (holdfast apply, or PATCH)");
  assert.equal((await call("GET", `${CLUSTERS}/keep`)).status, 200);
  await call("PATCH", `${CLUSTERS}/keep`, { spec: { terminationPolicy: "Delete" } }, MERGE_PATCH);
  assert.equal((await call("DELETE", `${CLUSTERS}/keep`)).status, 200);
});

void test("422 with field causes for invalid clusters", async () => {
  const cases: { name: string; manifest: Record<string, unknown>; field: string; message: RegExp }[] = [
    { name: "wrong type", manifest: clusterManifest("t1", { replicas: "3" }), field: "spec.componentSpecs[0].replicas", message: /^expected integer, got string$/ },
    { name: "negative replicas", manifest: clusterManifest("t2", { replicas: -1 }), field: "spec.componentSpecs[0].replicas", message: /^Invalid value: -1: replicas must be 0 or more$/ },
    { name: "missing field", manifest: { ...clusterManifest("t3"), spec: { clusterDef: "postgresql" } }, field: "spec.componentSpecs", message: /^Required value$/ },
    { name: "unknown clusterDef", manifest: clusterManifest("t4", {}, { clusterDef: "oracle" }), field: "spec.clusterDef", message: /no engine of this name is known to this host; installed engines: postgresql [0-9.]+; redis [0-9.]+/ },
    { name: "version not installed", manifest: clusterManifest("t5", { serviceVersion: "14.7.2" }), field: "spec.componentSpecs[0].serviceVersion", message: /installed postgresql versions: 15\.[0-9]+/ },
    { name: "bad name", manifest: clusterManifest("Bad_Name"), field: "metadata.name", message: /DNS-1123/ },
    { name: "too many replicas", manifest: clusterManifest("t7", { replicas: 6 }), field: "spec.componentSpecs[0].replicas", message: /at most 5 replica\(s\).*not supported yet/ },
  ];
  for (const c of cases) {
    const reply = await call("POST", CLUSTERS, c.manifest);
    assert.equal(reply.status, 422, `${c.name}: ${JSON.stringify(reply.body)}`);
    assert.equal(reply.body["reason"], "Invalid");
    const cause = causesOf(reply).find((x) => x.field === c.field);
    assert.ok(cause, `${c.name}: no cause for ${c.field} in ${JSON.stringify(causesOf(reply))}`);
    assert.match(cause.message, c.message, c.name);
  }
});

void test("a missing namespace is named with the command that creates it", async () => {
  const reply = await call("POST", "/apis/apps.kubeblocks.io/v1/namespaces/nowhere/clusters", { ...clusterManifest("pg"), metadata: { name: "pg" } });
  assert.equal(reply.status, 422);
  const [cause] = causesOf(reply);
  assert.equal(cause?.field, "metadata.namespace");
  assert.match(String(reply.body["message"]), /holdfast create namespace nowhere/);
});

void test("the path decides the namespace and the kind", async () => {
  const otherNamespace = await call("POST", CLUSTERS, { ...clusterManifest("ns1"), metadata: { name: "ns1", namespace: "default" } });
  assert.equal(otherNamespace.status, 400);
  const wrongKind = await call("POST", CLUSTERS, { ...clusterManifest("k1"), kind: "OpsRequest" });
  assert.equal(wrongKind.status, 400);
  const wrongVersion = await call("POST", CLUSTERS, { ...clusterManifest("k2"), apiVersion: "apps.kubeblocks.io/v1alpha1" });
  assert.equal(wrongVersion.status, 400);
});

void test("unknown kinds are 404 and list what is served", async () => {
  const reply = await call("GET", "/apis/apps.kubeblocks.io/v1/namespaces/demo/widgets");
  assert.equal(reply.status, 404);
  assert.equal(reply.body["reason"], "NotFound");
  assert.match(String(reply.body["message"]), /served resources: clusters/);
  assert.equal((await call("GET", "/apis/example.com/v1/widgets")).status, 404);
});

void test("bodies: 413 when too large, 415 when not JSON, 400 when malformed", async () => {
  const big = JSON.stringify({ ...clusterManifest("big"), metadata: { name: "big", annotations: { blob: "x".repeat(3 * 1024 * 1024) } } });
  const tooLarge = await call("POST", CLUSTERS, big);
  assert.equal(tooLarge.status, 413);
  assert.equal(tooLarge.body["reason"], "RequestEntityTooLarge");
  const yaml = await call("POST", CLUSTERS, "apiVersion: v1\n", "application/yaml");
  assert.equal(yaml.status, 415);
  assert.equal(yaml.body["reason"], "UnsupportedMediaType");
  const malformed = await call("POST", CLUSTERS, "{not json");
  assert.equal(malformed.status, 400);
});

void test("instances and events are read-only through the API", async () => {
  const instance = { apiVersion: "holdfast.io/v1alpha1", kind: "Instance", metadata: { name: "x" } };
  const refused = await call("POST", "/apis/holdfast.io/v1alpha1/namespaces/demo/instances", instance);
  assert.equal(refused.status, 405);
  assert.match(String(refused.body["message"]), /control plane/);
  assert.equal((await call("GET", "/apis/holdfast.io/v1alpha1/namespaces/demo/instances")).status, 200);
  assert.equal((await call("POST", "/api/v1/namespaces/demo/events", { apiVersion: "v1", kind: "Event", metadata: { name: "e" } })).status, 405);
});

void test("secrets fold stringData into base64 data", async () => {
  const created = await call("POST", "/api/v1/namespaces/demo/secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "creds" }, stringData: { password: "s3cret" } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body["stringData"], undefined);
  assert.deepEqual(created.body["data"], { password: Buffer.from("s3cret").toString("base64") });
  assert.equal(created.body["type"], "Opaque");
});

void test("opsrequests must target an existing cluster and a supported type", async () => {
  const path = "/apis/operations.kubeblocks.io/v1alpha1/namespaces/demo/opsrequests";
  const ops = (name: string, spec: Record<string, unknown>) => ({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name }, spec });
  await call("POST", CLUSTERS, clusterManifest("opsc"));
  const missing = await call("POST", path, ops("o1", { clusterName: "absent", type: "Stop" }));
  assert.equal(missing.status, 422);
  assert.deepEqual(causesOf(missing).map((c) => c.field), ["spec.clusterName"]);
  const restart = await call("POST", path, ops("o2", { clusterName: "opsc", type: "Restart", restart: [{ componentName: "postgresql" }] }));
  assert.equal(restart.status, 201, JSON.stringify(restart.body));
  const changed = await call("PATCH", `${path}/o2`, { spec: { type: "Stop" } }, MERGE_PATCH);
  assert.equal(changed.status, 422);
  const cancelled = await call("PATCH", `${path}/o2`, { spec: { cancel: true } }, MERGE_PATCH);
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
});

void test("the default namespace cannot be deleted", async () => {
  const reply = await call("DELETE", "/api/v1/namespaces/default");
  assert.equal(reply.status, 403);
});

async function readEvents(reader: ReadableStreamDefaultReader<Uint8Array>, count: number): Promise<{ type: string; object: { metadata: Record<string, unknown> } }[]> {
  const decoder = new TextDecoder();
  const events: { type: string; object: { metadata: Record<string, unknown> } }[] = [];
  let buffer = "";
  const deadline = setTimeout(() => void reader.cancel(), 5000);
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let newline = buffer.indexOf("\n");
    while (newline !== -1) {
      events.push(JSON.parse(buffer.slice(0, newline)) as (typeof events)[number]);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf("\n");
    }
  }
  clearTimeout(deadline);
  return events;
}

void test("watch streams changes after a resourceVersion, and the current state without one", async () => {
  const created = await call("POST", CLUSTERS, clusterManifest("watched"));
  const from = String(metadataOf(created.body)["resourceVersion"]);
  const controller = new AbortController();
  const response = await secure.fetch(`${base}${CLUSTERS}?watch=true&resourceVersion=${from}&labelSelector=app%3Dwatched`, { signal: controller.signal });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("transfer-encoding"), "chunked");
  const reader = response.body!.getReader();
  await call("PATCH", `${CLUSTERS}/watched`, { metadata: { annotations: { touched: "yes" } } }, MERGE_PATCH);
  await call("DELETE", `${CLUSTERS}/watched`);
  const events = await readEvents(reader, 2);
  assert.deepEqual(events.map((e) => e.type), ["MODIFIED", "DELETED"]);
  assert.equal(events[0]?.object.metadata["name"], "watched");
  controller.abort();

  const initial = await secure.fetch(`${base}${CLUSTERS}?watch=1&labelSelector=app%3Dpg`);
  const initialEvents = await readEvents(initial.body!.getReader(), 1);
  assert.deepEqual(initialEvents.map((e) => [e.type, e.object.metadata["name"]]), [["ADDED", "pg"]]);
});

void test("a watch from a compacted or invalid resourceVersion is answered with a Status", async () => {
  const reply = await call("GET", `${CLUSTERS}?watch=true&resourceVersion=not-a-number`);
  assert.equal(reply.status, 400);
  assert.equal(reply.body["kind"], "Status");
});

void test("close ends open watches", async () => {
  const extra = createApiServer({ store, engines: new EngineCatalog(builtinEngines()), logger: silentLogger(), version: "0.1.0", ...secure.serverOptions });
  const { url } = await extra.listen("127.0.0.1", 0);
  const response = await secure.fetch(`${url}${CLUSTERS}?watch=true&labelSelector=app%3Dnone`);
  const reader = response.body!.getReader();
  const started = Date.now();
  await extra.close();
  const end = await reader.read().catch(() => ({ done: true, value: undefined }));
  assert.deepEqual(end, { done: true, value: undefined });
  assert.ok(Date.now() - started < 3000);
});

void test("a watch from a compacted resourceVersion is 410 Expired", async () => {
  const small = openSqliteStore({ path: join(home, "small.db"), historyLimit: 2 });
  const extra = createApiServer({ store: small, engines: new EngineCatalog(builtinEngines()), logger: silentLogger(), version: "0.1.0", ...secure.serverOptions });
  const { url } = await extra.listen("127.0.0.1", 0);
  try {
    for (const name of ["a", "b", "c", "d"]) {
      const reply = await secure.fetch(`${url}/api/v1/namespaces`, { method: "POST", headers: { "Content-Type": JSON_TYPE }, body: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name } }) });
      assert.equal(reply.status, 201);
      await reply.text();
    }
    const gone = await secure.fetch(`${url}/api/v1/namespaces?watch=true&resourceVersion=1`);
    assert.equal(gone.status, 410);
    const body = (await gone.json()) as Record<string, unknown>;
    assert.equal(body["reason"], "Expired");
  } finally {
    await extra.close();
    small.close();
  }
});
