// What stock Kubernetes clients rely on, over real HTTPS: names that are never path tricks, server-side dry run,
// refused unknown query parameters, field selectors on list and watch, booleans as clients spell them, /version.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EngineCatalog, builtinEngines } from "../../src/engines/index.ts";
import { readAuditRecords, type AuditRecord } from "../../src/security/index.ts";
import { createApiServer, type ApiServer } from "../../src/server/index.ts";
import { openSqliteStore, type Store } from "../../src/store/index.ts";
import { silentLogger } from "../../src/util/index.ts";
import { openSecureApi, type SecureApi } from "../helpers/secure-api.ts";
import type { Resource } from "../../src/api/index.ts";

const CLUSTERS = "/apis/apps.kubeblocks.io/v1/namespaces/demo/clusters";
const OPS = "/apis/operations.kubeblocks.io/v1alpha1/namespaces/demo/opsrequests";
const SECRETS = "/api/v1/namespaces/demo/secrets";

let home: string;
let store: Store;
let server: ApiServer;
let base: string;
let secure: SecureApi;
let ca: string;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: Record<string, unknown>;
}

/** A request whose path is sent exactly as written (fetch would resolve `..` before sending). */
function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const request = httpsRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        ca,
        headers: {
          Authorization: `Bearer ${secure.adminToken}`,
          ...(payload === undefined ? {} : { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(payload)) }),
          ...headers,
        },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => {
          const parsed = text.startsWith("{") ? (JSON.parse(text.split("\n")[0] ?? "{}") as Record<string, unknown>) : {};
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, body: parsed });
        });
      },
    );
    request.on("error", reject);
    request.end(payload);
  });
}

function cluster(name: string, labels: Record<string, string> = {}): Record<string, unknown> {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name, namespace: "demo", labels },
    spec: { clusterDef: "postgresql", topology: "replication", componentSpecs: [{ name: "postgresql", serviceVersion: "15", replicas: 1 }] },
  };
}

function namesOf(reply: Reply): string[] {
  return ((reply.body["items"] ?? []) as Resource[]).map((item) => item.metadata.name).sort();
}

async function auditEvents(): Promise<Extract<AuditRecord, { type: "event" }>[]> {
  const found: Extract<AuditRecord, { type: "event" }>[] = [];
  for await (const record of readAuditRecords({ directory: secure.auditDirectory })) if (record.type === "event") found.push(record);
  return found;
}

before(async () => {
  home = mkdtempSync(join(tmpdir(), "holdfast-api-semantics-"));
  store = openSqliteStore({ path: join(home, "store.db") });
  secure = await openSecureApi(home, store);
  ca = (await import("node:fs")).readFileSync(join(home, "tls", "ca.crt"), "utf8");
  server = createApiServer({ store, engines: new EngineCatalog(builtinEngines()), logger: silentLogger(), version: "0.1.0", ...secure.serverOptions });
  base = (await server.listen("127.0.0.1", 0)).url;
  for (const name of ["demo", "other"]) {
    const created = await raw("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    assert.equal(created.status, 201, created.text);
  }
});

after(async () => {
  await server.close();
  await secure.close();
  store.close();
  rmSync(home, { recursive: true, force: true });
});

void test("'.' and '..' in a path are refused before routing: nothing is read or deleted above the object", async () => {
  for (const path of [`${SECRETS}/..`, `${SECRETS}/%2e%2e`, `${SECRETS}/%2E.`, `${SECRETS}/.`, `${SECRETS}/%2e`, `${SECRETS}/..%2f..`, `/api/v1/namespaces/demo/secrets/a/../..`]) {
    for (const method of ["GET", "DELETE"]) {
      const reply = await raw(method, path);
      assert.ok(reply.status === 400 || reply.status === 422, `${method} ${path} answered ${reply.status}: ${reply.text}`);
      assert.equal(reply.body["kind"], "Status");
    }
  }
  const namespace = await raw("GET", "/api/v1/namespaces/demo");
  assert.equal(namespace.status, 200, "the namespace survives");
  assert.equal((namespace.body["metadata"] as { deletionTimestamp?: string }).deletionTimestamp, undefined);
});

void test("names not valid for their kind are refused in paths (400) and bodies (422)", async () => {
  for (const path of [`${SECRETS}/UPPER`, `${SECRETS}/a%20b`, `${SECRETS}/-x`, "/api/v1/namespaces/a.b", "/api/v1/namespaces/Demo/secrets", `${CLUSTERS}/x_y`]) {
    const reply = await raw("GET", path);
    assert.equal(reply.status, 400, `GET ${path}: ${reply.text}`);
    assert.match(String(reply.body["message"]), /not a valid name|must be/);
  }
  for (const name of ["..", ".", "a/b", "UP"]) {
    const reply = await raw("POST", SECRETS, { apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: { a: "b" } });
    assert.ok(reply.status === 400 || reply.status === 422, `secret named ${name}: ${reply.status} ${reply.text}`);
  }
  // RBAC kinds keep Kubernetes' path-segment rule: `system:basic-user` is a valid ClusterRole name.
  const role = await raw("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:nothing-here");
  assert.equal(role.status, 404, role.text);
});

void test("dryRun=All on create, update, patch and delete admits but stores nothing, and says so", async () => {
  const created = await raw("POST", `${CLUSTERS}?dryRun=All`, cluster("dry"));
  assert.equal(created.status, 201, created.text);
  assert.equal(created.headers["x-holdfast-dry-run"], "All");
  assert.equal((created.body["spec"] as { terminationPolicy: string }).terminationPolicy, "Delete", "defaults are applied as for a real create");
  assert.equal((await raw("GET", `${CLUSTERS}/dry`)).status, 404, "a dry-run create stores nothing");
  const invalid = await raw("POST", `${CLUSTERS}?dryRun=All`, { ...cluster("bad"), spec: { clusterDef: "postgresql", componentSpecs: [] } });
  assert.equal(invalid.status, 422, "a dry run runs the whole admission");

  const live = await raw("POST", CLUSTERS, cluster("live", { app: "live" }));
  assert.equal(live.status, 201, live.text);
  const again = await raw("POST", `${CLUSTERS}?dryRun=All`, cluster("live"));
  assert.equal(again.status, 409, "a dry-run create of an existing name conflicts as a real one would");
  const patched = await raw("PATCH", `${CLUSTERS}/live?dryRun=All&fieldManager=kubectl-client-side-apply`, { spec: { terminationPolicy: "WipeOut" } }, { "Content-Type": "application/merge-patch+json" });
  assert.equal(patched.status, 200, patched.text);
  assert.equal((patched.body["spec"] as { terminationPolicy: string }).terminationPolicy, "WipeOut");
  const replaced = { ...(await raw("GET", `${CLUSTERS}/live`)).body };
  replaced["spec"] = { ...(replaced["spec"] as object), terminationPolicy: "Halt" };
  const updated = await raw("PUT", `${CLUSTERS}/live?dryRun=All`, replaced);
  assert.ok(updated.status === 200 || updated.status === 422, updated.text);
  const removed = await raw("DELETE", `${CLUSTERS}/live?dryRun=All`);
  assert.equal(removed.status, 200, removed.text);
  const inBody = await raw("DELETE", `${CLUSTERS}/live`, { kind: "DeleteOptions", apiVersion: "v1", dryRun: ["All"], propagationPolicy: "Background" });
  assert.equal(inBody.status, 200, inBody.text);
  const after = await raw("GET", `${CLUSTERS}/live`);
  assert.equal(after.status, 200, "the object is still there");
  assert.equal((after.body["spec"] as { terminationPolicy: string }).terminationPolicy, "Delete", "nothing changed");
  assert.equal((after.body["metadata"] as { resourceVersion: string }).resourceVersion, (live.body["metadata"] as { resourceVersion: string }).resourceVersion);
  assert.equal((after.body["metadata"] as { deletionTimestamp?: string }).deletionTimestamp, undefined);

  const dryRecords = (await auditEvents()).filter((e) => e.objectRef?.name === "dry" || (e.objectRef?.name === "live" && e.annotations?.["holdfast.io/dry-run"] !== undefined));
  assert.ok(dryRecords.length > 0, "dry runs are audited");
  for (const record of dryRecords) {
    assert.notEqual(record.stage, "RequestReceived", "a dry run is not recorded as a change about to happen");
  }
});

void test("query parameters the server does not implement are refused with 400 naming them", async () => {
  for (const path of [`${CLUSTERS}?foo=bar`, `${CLUSTERS}/live?dryRun=Some`, `${CLUSTERS}?watch=maybe`, `${CLUSTERS}?continue=abc`, `${CLUSTERS}?resourceVersionMatch=Exact&resourceVersion=1`]) {
    const reply = await raw("GET", path);
    assert.equal(reply.status, 400, `${path}: ${reply.text}`);
  }
  const unknown = await raw("GET", `${CLUSTERS}?foo=bar`);
  assert.match(String(unknown.body["message"]), /foo/);
  const dry = await raw("POST", `${CLUSTERS}?dryRun=Everything`, cluster("never"));
  assert.equal(dry.status, 400, dry.text);
  const onWrite = await raw("POST", `${CLUSTERS}?labelSelector=a`, cluster("never"));
  assert.equal(onWrite.status, 400, "list parameters are not write parameters");
  // What kubectl and the Python client send is accepted.
  for (const path of [
    `${CLUSTERS}?limit=500`,
    `${CLUSTERS}?fieldSelector=metadata.name%3Dlive&limit=500&resourceVersion=0`,
    `${CLUSTERS}?pretty=true&resourceVersionMatch=NotOlderThan&resourceVersion=0`,
    `${CLUSTERS}/live?pretty=false`,
    "/api?timeout=32s",
    "/apis/apps.kubeblocks.io/v1?timeout=32s",
  ]) {
    const reply = await raw("GET", path);
    assert.equal(reply.status, 200, `${path}: ${reply.text}`);
  }
});

void test("fieldSelector on list: metadata.name and metadata.namespace with =, == and !=; anything else is a 400 naming it", async () => {
  await raw("POST", CLUSTERS, cluster("fs-a"));
  await raw("POST", CLUSTERS, cluster("fs-b"));
  const one = await raw("GET", `${CLUSTERS}?fieldSelector=${encodeURIComponent("metadata.name=fs-a")}`);
  assert.deepEqual(namesOf(one), ["fs-a"]);
  const two = await raw("GET", `${CLUSTERS}?fieldSelector=${encodeURIComponent("metadata.name==fs-b")}`);
  assert.deepEqual(namesOf(two), ["fs-b"]);
  const not = await raw("GET", `${CLUSTERS}?fieldSelector=${encodeURIComponent("metadata.name!=fs-a")}`);
  assert.ok(!namesOf(not).includes("fs-a") && namesOf(not).includes("fs-b"));
  const everywhere = await raw("GET", `/apis/apps.kubeblocks.io/v1/clusters?fieldSelector=${encodeURIComponent("metadata.namespace=other")}`);
  assert.deepEqual(namesOf(everywhere), []);
  const bad = await raw("GET", `${CLUSTERS}?fieldSelector=${encodeURIComponent("spec.clusterDef=postgresql")}`);
  assert.equal(bad.status, 400, bad.text);
  assert.match(String(bad.body["message"]), /spec\.clusterDef/);
  const syntax = await raw("GET", `${CLUSTERS}?fieldSelector=${encodeURIComponent("metadata.name")}`);
  assert.equal(syntax.status, 400, syntax.text);
  const eventField = await raw("GET", `${CLUSTERS}?fieldSelector=${encodeURIComponent("reason=Started")}`);
  assert.equal(eventField.status, 400, "event fields are for events only");
});

void test("fieldSelector on events: involvedObject.*, reason and type", async () => {
  const event = (name: string, involved: string, reason: string, type: string): Resource => ({
    apiVersion: "v1",
    kind: "Event",
    metadata: { name, namespace: "demo" },
    involvedObject: { kind: "Cluster", name: involved, namespace: "demo", uid: `uid-${involved}`, apiVersion: "apps.kubeblocks.io/v1" },
    reason,
    type,
    message: "m",
  });
  await store.create(event("e1", "fs-a", "Created", "Normal"));
  await store.create(event("e2", "fs-b", "Created", "Normal"));
  await store.create(event("e3", "fs-a", "Failed", "Warning"));
  const about = await raw("GET", `/api/v1/namespaces/demo/events?fieldSelector=${encodeURIComponent("involvedObject.name=fs-a,involvedObject.kind=Cluster")}`);
  assert.deepEqual(namesOf(about), ["e1", "e3"]);
  const byUid = await raw("GET", `/api/v1/namespaces/demo/events?fieldSelector=${encodeURIComponent("involvedObject.uid=uid-fs-b")}`);
  assert.deepEqual(namesOf(byUid), ["e2"]);
  const warnings = await raw("GET", `/api/v1/events?fieldSelector=${encodeURIComponent("type=Warning,reason!=Created")}`);
  assert.deepEqual(namesOf(warnings), ["e3"]);
  const bad = await raw("GET", `/api/v1/events?fieldSelector=${encodeURIComponent("message=m")}`);
  assert.equal(bad.status, 400);
  assert.match(String(bad.body["message"]), /message/);
});

/** Read a watch stream until `until` matches its text or the time is up, then close it. */
function watchText(path: string, until: RegExp, ms = 5000): Promise<{ status: number; text: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const request = httpsRequest({ host: url.hostname, port: url.port, path, ca, headers: { Authorization: `Bearer ${secure.adminToken}` } }, (response) => {
      let text = "";
      const finish = (): void => {
        clearTimeout(timer);
        request.destroy();
        resolve({ status: response.statusCode ?? 0, text });
      };
      const timer = setTimeout(finish, ms);
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
        if (until.test(text)) finish();
      });
      response.on("end", finish);
    });
    request.on("error", (error) => (request.destroyed ? undefined : reject(error)));
    request.end();
  });
}

void test("fieldSelector on watch streams only the selected object; watch=True is a watch", async () => {
  const stream = watchText(`${CLUSTERS}?watch=True&fieldSelector=${encodeURIComponent("metadata.name=fs-a")}&resourceVersion=0&allowWatchBookmarks=true&timeoutSeconds=30`, /"marker":"seen"/);
  await new Promise((r) => setTimeout(r, 300));
  const patch = (name: string, value: string): Promise<Reply> => raw("PATCH", `${CLUSTERS}/${name}`, { metadata: { labels: { marker: value } } }, { "Content-Type": "application/merge-patch+json" });
  assert.equal((await patch("fs-b", "other")).status, 200);
  assert.equal((await patch("fs-a", "seen")).status, 200);
  const { status, text } = await stream;
  assert.equal(status, 200);
  const names = text.split("\n").filter((line) => line.trim() !== "").map((line) => (JSON.parse(line) as { object: Resource }).object.metadata.name);
  assert.ok(names.length >= 2, `the initial ADDED and the change: ${text}`);
  assert.deepEqual([...new Set(names)], ["fs-a"]);
});

void test("timeoutSeconds ends a watch", async () => {
  const started = Date.now();
  const { status } = await watchText(`${CLUSTERS}?watch=1&timeoutSeconds=1`, /$^/, 10_000);
  assert.equal(status, 200);
  assert.ok(Date.now() - started < 5000, "the server ended the watch after about a second");
});

void test("/version has every field Kubernetes returns", async () => {
  const reply = await raw("GET", "/version");
  assert.equal(reply.status, 200);
  for (const field of ["major", "minor", "gitVersion", "gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler", "platform"]) {
    assert.equal(typeof reply.body[field], "string", `${field} in ${reply.text}`);
  }
  assert.equal(reply.body["major"], "0");
  assert.equal(reply.body["minor"], "1");
  assert.match(String(reply.body["gitVersion"]), /^v0\.1\.0/);
  assert.match(String(reply.body["platform"]), /^linux\//);
});

void test("OpsRequest names follow the same rule", async () => {
  const reply = await raw("GET", `${OPS}/..%2F..`);
  assert.equal(reply.status, 400);
});

void test("/openapi/v2 is a protobuf OpenAPI document (kubectl refuses to apply without one)", async () => {
  const reply = await raw("GET", "/openapi/v2?timeout=32s", undefined, { Accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf" });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers["content-type"], "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
  assert.ok(reply.text.includes("2.0") && reply.text.includes("Holdfast"));
});

void test("endpoints that act at once refuse dryRun instead of acting", async () => {
  const reply = await raw("POST", "/apis/authentication.holdfast.io/v1alpha1/apitokens?dryRun=All", { name: "dry", expiresInSeconds: 600 });
  assert.equal(reply.status, 400, reply.text);
  const tokens = await raw("GET", "/apis/authentication.holdfast.io/v1alpha1/apitokens");
  assert.ok(!tokens.text.includes('"dry"'), "no token was minted");
});
