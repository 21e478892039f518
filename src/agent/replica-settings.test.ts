import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { instanceConfigHash, type Instance, type InstanceStatus } from "../api/index.ts";
import { createPostgresqlEngine, type EngineReplication, type HostAccess, type InstanceContext, type ReplicaSettingsDrift } from "../engines/index.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { mayRestartFor, ReplicaSettingsWatch, SETTINGS_CHECK_EVERY_MS, SETTINGS_RESTART_AT_MOST_EVERY_MS, settingsCheckApplies } from "./replica-settings.ts";

function instance(ordinal: number, status: InstanceStatus = {}, spec: Partial<Instance["spec"]> = {}): Instance {
  const full: Instance["spec"] = { engine: "postgresql", version: "15.18", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, parameters: { max_connections: "112" }, replication: {}, deleteData: true, ...spec };
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${ordinal}`, namespace: "demo", labels: { "app.kubernetes.io/instance": "pg" } },
    spec: full,
    status: { phase: "Running", ready: true, role: ordinal === 0 ? "primary" : "secondary", appliedConfig: instanceConfigHash(full), ...status },
  };
}

const BELOW: ReplicaSettingsDrift = { urgent: true, message: "below" };
const RAISED: ReplicaSettingsDrift = { urgent: false, message: "raised" };

describe("replica settings: which replica is checked and when it restarts", () => {
  it("checks a ready replica with nothing else pending; not a primary, a fenced member or one about to restart anyway", () => {
    assert.equal(settingsCheckApplies(instance(1)), true);
    assert.equal(settingsCheckApplies(instance(0)), false, "a primary");
    assert.equal(settingsCheckApplies(instance(1, { ready: false })), false);
    assert.equal(settingsCheckApplies(instance(1, {}, { replication: { fenced: true } })), false);
    assert.equal(settingsCheckApplies({ ...instance(1), spec: { ...instance(1).spec, parameters: { max_connections: "225" } } }), false, "its spec restarts it already");
  });

  it("a replica below its primary restarts at once; one raised for nothing waits until every other member is settled", () => {
    const busy = instance(2, { ready: false });
    assert.equal(mayRestartFor(BELOW, [instance(0), busy]), true);
    assert.equal(mayRestartFor(RAISED, [instance(0), busy]), false);
    assert.equal(mayRestartFor(RAISED, [instance(0), instance(2)]), true);
    const rolling = { ...instance(2), spec: { ...instance(2).spec, parameters: { max_connections: "100" } } };
    assert.equal(mayRestartFor(RAISED, [instance(0), rolling]), false, "a rolling restart under way");
  });
});

describe("ReplicaSettingsWatch", () => {
  let dir: string;
  let store: Store;
  const context = {} as InstanceContext;
  const host = {} as HostAccess;
  const admin = (): Promise<{ username: string; password: string }> => Promise.resolve({ username: "postgres", password: "x" });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "standby-params-watch-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    await store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "demo" } });
    for (const ordinal of [0, 1, 2]) {
      const created = await store.create(instance(ordinal));
      await store.updateStatus({ ...created, status: instance(ordinal).status });
    }
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The engine's replication with its settings check answering `drift`, counting the checks. */
  function replicationAnswering(drift: ReplicaSettingsDrift | undefined): { replication: EngineReplication; checks: () => number } {
    let checks = 0;
    const engine = createPostgresqlEngine().replication;
    assert.ok(engine !== undefined);
    const replication: EngineReplication = { ...engine, settingsDrift: () => (checks++, Promise.resolve(drift)) };
    return { replication, checks: () => checks };
  }

  it("checks at most every SETTINGS_CHECK_EVERY_MS, and restarts for the same replica at most every SETTINGS_RESTART_AT_MOST_EVERY_MS", async () => {
    const watch = new ReplicaSettingsWatch(store);
    const { replication, checks } = replicationAnswering(BELOW);
    const input = { instance: instance(1), replication, context, host, admin };
    assert.deepEqual(await watch.restartFor(input, 1_000_000), BELOW);
    assert.equal(await watch.restartFor(input, 1_000_000 + SETTINGS_CHECK_EVERY_MS), undefined, "restarted just now");
    assert.equal(checks(), 1);
    assert.deepEqual(await watch.restartFor(input, 1_000_000 + SETTINGS_RESTART_AT_MOST_EVERY_MS), BELOW);
    assert.equal(checks(), 2);
  });

  it("nothing to restart for: checked again only after SETTINGS_CHECK_EVERY_MS", async () => {
    const watch = new ReplicaSettingsWatch(store);
    const { replication, checks } = replicationAnswering(undefined);
    const input = { instance: instance(1), replication, context, host, admin };
    assert.equal(await watch.restartFor(input, 2_000_000), undefined);
    assert.equal(await watch.restartFor(input, 2_000_000 + 10), undefined);
    assert.equal(checks(), 1);
    assert.equal(await watch.restartFor(input, 2_000_000 + SETTINGS_CHECK_EVERY_MS), undefined);
    assert.equal(checks(), 2);
  });

  it("a raise no longer needed waits while a sibling in the store is not ready", async () => {
    const watch = new ReplicaSettingsWatch(store);
    const { replication } = replicationAnswering(RAISED);
    const input = { instance: instance(1), replication, context, host, admin };
    const sibling = await store.get<Instance>({ kind: "Instance", namespace: "demo", name: "pg-postgresql-2" });
    assert.ok(sibling !== undefined);
    const busy = await store.updateStatus({ ...sibling, status: { ...sibling.status, ready: false } });
    assert.equal(await watch.restartFor(input, 3_000_000), undefined);
    await store.updateStatus({ ...busy, status: { ...busy.status, ready: true } });
    assert.deepEqual(await watch.restartFor(input, 3_000_000 + SETTINGS_CHECK_EVERY_MS), RAISED);
  });

  it("an engine without the check is never asked", async () => {
    const watch = new ReplicaSettingsWatch(store);
    const replication: EngineReplication = { ...replicationAnswering(BELOW).replication };
    delete replication.settingsDrift;
    assert.equal(await watch.restartFor({ instance: instance(1), replication, context, host, admin }, 4_000_000), undefined);
  });
});
