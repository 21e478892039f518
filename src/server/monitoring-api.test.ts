import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { NotFoundError } from "../errors/index.ts";
import type { Exchange } from "./endpoint.ts";
import { MethodNotAllowedError } from "./http-errors.ts";
import { monitoringEndpoint, type MonitoringApi } from "./monitoring-api.ts";
import { requestSample } from "./pipeline.ts";

const api: MonitoringApi = { targets: () => Promise.resolve([{ targets: ["127.0.0.1:1"], labels: {} }]), rules: () => Promise.resolve("groups: []\n") };
const exchange = {} as Exchange;

describe("monitoringEndpoint", () => {
  it("asks RBAC for get on the non-resource URL, and serves only GET", async () => {
    const endpoint = monitoringEndpoint(api, "GET", "/monitoring/targets");
    assert.ok(endpoint);
    assert.deepEqual(await endpoint.permission(exchange), { verb: "get", attributes: { verb: "get", apiGroup: "", resource: "", path: "/monitoring/targets" } });
    assert.deepEqual((await endpoint.run(exchange)), { status: 200, body: [{ targets: ["127.0.0.1:1"], labels: {} }] });
    assert.throws(() => monitoringEndpoint(api, "POST", "/metrics"), MethodNotAllowedError);
    assert.equal(monitoringEndpoint(api, "GET", "/metricsx"), undefined);
  });

  it("answers 404 for /metrics when metrics are off", async () => {
    const endpoint = monitoringEndpoint(api, "GET", "/metrics");
    await assert.rejects(() => endpoint!.run(exchange), NotFoundError);
  });
});

describe("requestSample", () => {
  it("labels by verb, group, resource or path and code; never by object name or user", () => {
    const draft = { verb: "get", user: { username: "alice", groups: ["system:authenticated"] }, sourceIPs: [], userAgent: "", requestReceivedTimestamp: "", objectRef: { resource: "clusters", apiGroup: "apps.kubeblocks.io", namespace: "demo", name: "pg", subresource: "status" }, annotations: { "authorization.k8s.io/decision": "forbid" as const, "authorization.k8s.io/reason": "no" } };
    const sample = requestSample(draft, 403, 0.01, true);
    assert.deepEqual(sample, { verb: "get", group: "apps.kubeblocks.io", resource: "clusters/status", path: "", code: 403, seconds: 0.01, authentication: { method: "bearer", outcome: "success" }, denied: true });
    assert.ok(!JSON.stringify(sample).includes("alice") && !JSON.stringify(sample).includes("\"pg\""));
    const failed = requestSample({ ...draft, objectRef: undefined, annotations: undefined, authentication: { outcome: "failure", method: "bearer", reason: "invalid" } }, 401, 0.001, false);
    assert.deepEqual(failed.authentication, { method: "bearer", outcome: "failure" });
    assert.equal(failed.denied, false);
  });
});
