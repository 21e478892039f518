import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, Instance, OpsRequest } from "../../api/index.ts";
import type { EngineVersion } from "../../engines/index.ts";
import { upgradeProblem, upgradeProgress, type UpgradeFacts } from "./upgrade-plan.ts";

const v = (version: string): EngineVersion => ({ version, major: version.split(".")[0] ?? version, binDir: `/usr/lib/postgresql/${version.split(".")[0] ?? ""}/bin` });

function facts(requested: string, installed: string[], current = "15.18", nodesWithout: string[] = []): UpgradeFacts {
  const versions = installed.map(v);
  const target = versions.find((x) => x.version.startsWith(requested.split(".").slice(0, 2).join(".")) || requested === x.major);
  return { component: "postgresql", engine: "postgresql", requested, current: v(current), target, installed: versions, nodesWithout };
}

describe("upgradeProblem", () => {
  it("the example (14.8.0 with only 15 installed) fails naming the version, the installed ones and the downgrade", () => {
    const problem = upgradeProblem(facts("14.8.0", ["15.18"]));
    assert.match(problem ?? "", /serviceVersion 14\.8\.0 of postgresql is not installed on this host \(installed: 15\.18\)/);
    assert.match(problem ?? "", /downgrade from postgresql 15\.18 to major version 14 is refused/);
  });

  it("a version of the same major that is installed passes (a rolling restart)", () => {
    assert.equal(upgradeProblem(facts("15.18", ["15.18"])), undefined);
    assert.equal(upgradeProblem(facts("15.19", ["15.19", "15.18"])), undefined);
  });

  it("an installed older major is refused as a downgrade, a newer one as not supported yet", () => {
    assert.match(upgradeProblem(facts("14.8", ["15.18", "14.8"])) ?? "", /downgrade .* is refused/);
    assert.match(upgradeProblem(facts("16.4", ["16.4", "15.18"])) ?? "", /major-version upgrade of postgresql \(15\.18 to 16\.4\) is not supported yet/);
  });

  it("a node of the component without the version is named", () => {
    assert.match(upgradeProblem(facts("15.19", ["15.19", "15.18"], "15.18", ["n2"])) ?? "", /not installed on node n2/);
  });

  it("a version not installed at all (newer) names what is", () => {
    assert.match(upgradeProblem(facts("17", ["15.18"])) ?? "", /17 of postgresql is not installed on this host \(installed: 15\.18\)/);
    assert.doesNotMatch(upgradeProblem(facts("17", ["15.18"])) ?? "", /downgrade/);
  });
});

describe("upgradeProgress", () => {
  const ops = { apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "up" }, spec: { clusterName: "pg", type: "Upgrade" }, status: { clusterGeneration: 2 } } as OpsRequest;
  const cluster = { metadata: { name: "pg" }, spec: { componentSpecs: [] }, status: { observedGeneration: 2, components: { postgresql: { phase: "Running" } } } } as unknown as Cluster;
  const member = (ordinal: number, version: string, ready: boolean): Instance => ({
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${ordinal}` },
    spec: { engine: "postgresql", version, clusterName: "pg", componentName: "postgresql", ordinal, port: 1, running: true, parameters: {}, deleteData: true },
    status: { ready },
  });

  it("each instance is done once it runs ready on the new version; the upgrade once all are", () => {
    const targets = new Map([["postgresql", "15.19"]]);
    const halfway = upgradeProgress(ops, cluster, [member(0, "15.18", true), member(1, "15.19", false), member(2, "15.19", true)], targets);
    assert.deepEqual(halfway.details?.map((d) => d.status), ["Pending", "Processing", "Succeed"]);
    assert.equal(halfway.finished, false);
    const done = upgradeProgress(ops, cluster, [0, 1, 2].map((o) => member(o, "15.19", true)), targets);
    assert.deepEqual([done.done, done.total, done.finished], [3, 3, true]);
  });
});
