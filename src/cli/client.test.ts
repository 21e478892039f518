import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { findKind } from "../api/index.ts";
import type { KindInfo } from "../api/index.ts";
import { CliError } from "./args.ts";
import { ApiClient, ApiError, ServerUnreachableError, apiErrorFrom, assertNoDotSegments, parseNdjson, resourcePath } from "./client.ts";

function kind(name: string): KindInfo {
  const info = findKind(name);
  assert.ok(info, name);
  return info;
}

test("resourcePath builds core, grouped, cluster-scoped and all-namespaces paths", () => {
  assert.equal(resourcePath(kind("ns"), undefined, "demo"), "/api/v1/namespaces/demo");
  assert.equal(resourcePath(kind("secrets"), "demo", "pg-postgresql-account-postgres"), "/api/v1/namespaces/demo/secrets/pg-postgresql-account-postgres");
  assert.equal(resourcePath(kind("cl"), "demo"), "/apis/apps.kubeblocks.io/v1/namespaces/demo/clusters");
  assert.equal(resourcePath(kind("ops"), undefined), "/apis/operations.kubeblocks.io/v1alpha1/opsrequests");
});

test("apiErrorFrom reads Status bodies and copes with anything else", () => {
  const status = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: 'Cluster.apps.kubeblocks.io "pg" is invalid',
    reason: "Invalid",
    code: 422,
    details: { kind: "Cluster", name: "pg", causes: [{ field: "spec.componentSpecs[0].replicas", message: "must be 0 or more", reason: "FieldValueInvalid" }] },
  };
  const error = apiErrorFrom(422, JSON.stringify(status));
  assert.equal(error.reason, "Invalid");
  assert.equal(error.code, 422);
  assert.equal(error.causes[0]?.field, "spec.componentSpecs[0].replicas");
  const plain = apiErrorFrom(502, "Bad Gateway");
  assert.equal(plain.reason, "Unknown");
  assert.equal(plain.message, "Bad Gateway");
  assert.equal(apiErrorFrom(404, "").reason, "NotFound");
});

test("parseNdjson reassembles events split across chunks", async () => {
  const encoder = new TextEncoder();
  const text = '{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"DELE' + 'TED","object":{"metadata":{"name":"b"}}}\n';
  const chunks = Readable.from([encoder.encode(text.slice(0, 30)), encoder.encode(text.slice(30, 70)), encoder.encode(text.slice(70))]);
  const events = [];
  for await (const event of parseNdjson(chunks)) events.push([event.type, event.object.metadata.name]);
  assert.deepEqual(events, [["ADDED", "a"], ["DELETED", "b"]]);
});

test("a refused connection becomes ServerUnreachableError telling how to start the server", async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const client = new ApiClient(`http://127.0.0.1:${port}`);
  await assert.rejects(client.list(kind("clusters"), "default"), (error: unknown) => error instanceof ServerUnreachableError && /connection refused/.test(error.message) && /holdfast server --detach/.test(error.message));
  assert.equal(await client.healthy(), false);
});

test("the client sends JSON, reads Status errors over HTTP and treats 404 as absent in find()", async () => {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    seen.push(`${request.method ?? ""} ${request.url ?? ""} ${request.headers["content-type"] ?? ""}`);
    response.statusCode = 404;
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ kind: "Status", status: "Failure", reason: "NotFound", code: 404, message: 'clusters.apps.kubeblocks.io "pg" not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const client = new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    assert.equal(await client.find(kind("cl"), "demo", "pg"), undefined);
    await assert.rejects(client.patch(kind("cl"), "demo", "pg", { spec: {} }), (error: unknown) => error instanceof ApiError && error.code === 404 && error.reason === "NotFound");
    assert.deepEqual(seen, [
      "GET /apis/apps.kubeblocks.io/v1/namespaces/demo/clusters/pg ",
      "PATCH /apis/apps.kubeblocks.io/v1/namespaces/demo/clusters/pg application/merge-patch+json",
    ]);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test("resourcePath never builds a path whose name or namespace the kind does not accept", () => {
  for (const name of ["..", ".", "%2e%2e", "a/b", "UPPER", ""]) {
    assert.throws(() => resourcePath(kind("secrets"), "demo", name), CliError, `secret name ${JSON.stringify(name)}`);
  }
  assert.throws(() => resourcePath(kind("secrets"), "..", "x"), CliError);
  assert.throws(() => resourcePath(kind("ns"), undefined, "a.b"), CliError, "namespaces are DNS labels");
  assert.equal(resourcePath(kind("clusterroles"), undefined, "system:basic-user"), "/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Abasic-user");
  assert.throws(() => assertNoDotSegments("/apis/authentication.holdfast.io/v1alpha1/apitokens/%2E%2e"), CliError);
  assert.doesNotThrow(() => assertNoDotSegments("/api/v1/namespaces/demo?x=.."));
});
