import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Instance, Node, PodMonitor } from "../api/index.ts";
import { sanitizeLabelName, scrapeTargets, TARGET_KIND_LABEL } from "./targets.ts";

function instance(namespace: string, cluster: string, ordinal: number, exporter: { port: number; pid?: number } | undefined, role = "primary"): Instance {
  const name = `${cluster}-db-${ordinal}`;
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name, namespace, labels: { "app.kubernetes.io/instance": cluster, "apps.kubeblocks.io/component-name": "db", "app.kubernetes.io/managed-by": "holdfast" } },
    spec: { engine: "postgresql", version: "15", clusterName: cluster, componentName: "db", ordinal, port: 20000 + ordinal, running: true, parameters: {}, deleteData: true },
    status: { phase: "Running", role, host: "127.0.0.1", ...(exporter === undefined ? {} : { exporter }) },
  };
}

function node(name: string, api: string): Node {
  return { apiVersion: "holdfast.io/v1alpha1", kind: "Node", metadata: { name }, spec: {}, status: { addresses: [{ type: "APIServer", address: api }] } };
}

function podMonitor(namespace: string, cluster: string, extra: Partial<PodMonitor["spec"]> = {}): PodMonitor {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: { name: `${cluster}-monitor`, namespace },
    spec: {
      jobLabel: "app.kubernetes.io/managed-by",
      podTargetLabels: ["app.kubernetes.io/instance", "apps.kubeblocks.io/component-name"],
      podMetricsEndpoints: [{ path: "/metrics", port: "http-metrics", scheme: "http" }, { path: "/metrics", port: "patroni", scheme: "http" }],
      selector: { matchLabels: { "app.kubernetes.io/instance": cluster } },
      ...extra,
    },
  };
}

describe("scrapeTargets", () => {
  it("lists every API server and every running exporter with namespace, cluster, component, instance and role", () => {
    const groups = scrapeTargets({ nodes: [node("n1", "https://127.0.0.1:7420"), node("n2", "https://127.0.0.2:7420")], instances: [instance("demo", "pg", 0, { port: 17001, pid: 42 }), instance("demo", "pg", 1, { port: 17002 }, "secondary")], podMonitors: [], serviceMonitors: [], leader: "n2" });
    assert.deepEqual(groups.map((g) => [g.targets[0], g.labels[TARGET_KIND_LABEL], g.labels["role"]]), [
      ["127.0.0.1:7420", "apiserver", "follower"],
      ["127.0.0.2:7420", "apiserver", "leader"],
      ["127.0.0.1:17001", "exporter", "primary"],
    ], "an exporter not (yet) running is not a target");
    const exporter = groups[2]!.labels;
    assert.deepEqual([exporter["namespace"], exporter["cluster"], exporter["component"], exporter["instance"], exporter["pod"]], ["demo", "pg", "db", "pg-db-0", "pg-db-0"]);
  });

  it("in a namespace a PodMonitor covers, lists only what it selects, labelled and scraped as it says", () => {
    const instances = [instance("demo", "pg", 0, { port: 17001, pid: 1 }), instance("demo", "other", 0, { port: 17003, pid: 3 }), instance("team", "free", 0, { port: 17004, pid: 4 })];
    const groups = scrapeTargets({ nodes: [], instances, podMonitors: [podMonitor("demo", "pg", { podMetricsEndpoints: [{ port: "http-metrics", path: "/metrics", interval: "5s" }, { port: "patroni" }] })], serviceMonitors: [] });
    assert.deepEqual(groups.map((g) => g.targets[0]), ["127.0.0.1:17001", "127.0.0.1:17004"], "other in demo is not selected; team is not covered, so all of it is listed");
    const selected = groups[0]!.labels;
    assert.equal(selected["job"], "holdfast", "jobLabel names the label whose value is the job");
    assert.equal(selected["app_kubernetes_io_instance"], "pg");
    assert.equal(selected["apps_kubeblocks_io_component_name"], "db");
    assert.equal(selected["__scrape_interval__"], "5s");
    assert.equal(selected["monitor"], "demo/pg-monitor");
  });

  it("follows the monitor's namespaceSelector", () => {
    const instances = [instance("demo", "pg", 0, { port: 17001, pid: 1 }), instance("team", "pg", 0, { port: 17002, pid: 2 })];
    const elsewhere = podMonitor("monitoring", "pg", { namespaceSelector: { matchNames: ["team"] } });
    assert.deepEqual(scrapeTargets({ nodes: [], instances, podMonitors: [elsewhere], serviceMonitors: [] }).map((g) => g.targets[0]), ["127.0.0.1:17001", "127.0.0.1:17002"]);
    const anywhere = podMonitor("monitoring", "nothing-matches", { namespaceSelector: { any: true } });
    assert.deepEqual(scrapeTargets({ nodes: [], instances, podMonitors: [anywhere], serviceMonitors: [] }), [], "a monitor covering every namespace and selecting nothing lists nothing");
  });

  it("writes label keys as Prometheus label names", () => {
    assert.equal(sanitizeLabelName("app.kubernetes.io/instance"), "app_kubernetes_io_instance");
    assert.equal(sanitizeLabelName("9lives"), "_9lives");
  });
});
