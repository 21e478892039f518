import { test } from "node:test";
import assert from "node:assert/strict";
import { PASSWORD_GENERATION_ANNOTATION, PREVIOUS_PASSWORD_ANNOTATION, ROTATE_PASSWORDS_ANNOTATION, ROTATION_REQUEST_ANNOTATION, type Cluster, type Instance, type Secret } from "../../api/index.ts";
import { createRedisEngine } from "../../engines/index.ts";
import { everyInstanceAccepts, holderComponents, planRotation } from "./password-rotation.ts";

const b64 = (text: string): string => Buffer.from(text).toString("base64");

function secret(account: string, options: { next?: string; generation?: number; request?: string } = {}): Secret {
  const annotations: Record<string, string> = {};
  if (options.generation !== undefined) annotations[PASSWORD_GENERATION_ANNOTATION] = String(options.generation);
  if (options.request !== undefined) annotations[ROTATION_REQUEST_ANNOTATION] = options.request;
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: { name: `pg-postgresql-account-${account}`, labels: { "apps.kubeblocks.io/component-name": "postgresql", "apps.kubeblocks.io/system-account": account }, annotations },
    data: { password: b64("current"), ...(options.next === undefined ? {} : { nextPassword: b64(options.next) }) },
  };
}

function instance(name: string, ready: boolean, accepts?: number): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name },
    spec: { clusterName: "pg", componentName: "postgresql", engine: "postgresql", version: "16", ordinal: 0, port: 1, running: true, parameters: {}, deleteData: false },
    status: { ready, ...(accepts === undefined ? {} : { passwords: { postgres: { generation: accepts } } }) },
  };
}

const request = (accounts?: string[]): Record<string, string> => ({ [ROTATE_PASSWORDS_ANNOTATION]: JSON.stringify({ id: "r1", ...(accounts === undefined ? {} : { accounts }) }) });
const refusesNone = (): undefined => undefined;

void test("a request gives every selected account a next password, once; an account it does not name is left alone", () => {
  const secrets = [secret("postgres"), secret("kbreplicator")];
  const all = planRotation({ annotations: request(), secrets, instances: [], refuses: refusesNone });
  assert.deepEqual(all.start.map((s) => s.metadata.name), ["pg-postgresql-account-postgres", "pg-postgresql-account-kbreplicator"]);
  assert.equal(all.underWay, true);
  const one = planRotation({ annotations: request(["postgres"]), secrets, instances: [], refuses: refusesNone });
  assert.deepEqual(one.start.map((s) => s.metadata.name), ["pg-postgresql-account-postgres"]);
  const answered = planRotation({ annotations: request(), secrets: [secret("postgres", { request: "r1" })], instances: [], refuses: refusesNone });
  assert.deepEqual(answered, { start: [], commit: [], previousHeld: new Set(), settle: [], refuse: [], underWay: false });
  assert.equal(planRotation({ annotations: undefined, secrets, instances: [], refuses: refusesNone }).start.length, 0);
  assert.equal(planRotation({ annotations: { [ROTATE_PASSWORDS_ANNOTATION]: "not json" }, secrets, instances: [], refuses: refusesNone }).start.length, 0);
});

void test("the next password takes effect once every ready instance accepts its generation, and not while the component is down", () => {
  const pending = [secret("postgres", { next: "n", generation: 2 })];
  const plan = (instances: Instance[]) => planRotation({ annotations: request(), secrets: pending, instances, refuses: refusesNone });
  assert.equal(plan([instance("a", true, 3), instance("b", true, 2)]).commit.length, 0, "b accepts generation 2, not 3");
  assert.equal(plan([instance("a", true, 3), instance("b", true, 2)]).underWay, true);
  assert.equal(plan([instance("a", true, 3), instance("b", false)]).commit.length, 1, "an instance that is not ready does not hold it up");
  assert.equal(plan([instance("a", false, 3)]).commit.length, 0, "nothing ready: it waits");
  assert.equal(everyInstanceAccepts([instance("a", true, 3), instance("b", true, 3)], "postgresql", "postgres", 3), true);
});

void test("an account the engine cannot rotate online is refused, with the reason", () => {
  const plan = planRotation({ annotations: request(), secrets: [secret("default")], instances: [], refuses: () => "not online" });
  assert.deepEqual(plan.refuse.map((r) => r.reason), ["not online"]);
  assert.equal(plan.underWay, false);
});

void test("with an engine that keeps the previous password, every holder (arbiters included) must also log in with the next one", () => {
  const withStatus = (name: string, component: string, passwords: Record<string, { generation: number; connectsWith?: number }>): Instance => {
    const base = instance(name, true);
    return { ...base, spec: { ...base.spec, componentName: component }, status: { ready: true, passwords } };
  };
  const holders = { components: ["redis", "redis-sentinel"], keepsPrevious: true };
  const member = withStatus("r0", "redis", { sentinel: { generation: 2, connectsWith: 2 } });
  const sentinel = (status: { generation: number; connectsWith?: number }): Instance => withStatus("s0", "redis-sentinel", { sentinel: status });
  assert.equal(everyInstanceAccepts([member, sentinel({ generation: 2 })], "redis", "sentinel", 2, holders), false, "the Sentinel still logs in with the previous one");
  assert.equal(everyInstanceAccepts([member, sentinel({ generation: 2, connectsWith: 2 })], "redis", "sentinel", 2, holders), true);
  assert.equal(everyInstanceAccepts([member, sentinel({ generation: 1 })], "redis", "sentinel", 2), true, "without holders only the component's own instances count");
});

void test("the arbiters hold the account they log in to the members with, and no other", () => {
  const cluster = { metadata: { name: "r" }, spec: { clusterDef: "redis", topology: "replication", componentSpecs: [] } } as unknown as Cluster;
  const engine = createRedisEngine();
  assert.deepEqual(holderComponents(cluster, engine, "redis", "sentinel"), ["redis", "redis-sentinel"]);
  assert.deepEqual(holderComponents(cluster, engine, "redis", "replicator"), ["redis"]);
  assert.deepEqual(holderComponents(cluster, undefined, "redis", "sentinel"), ["redis"]);
});

void test("an engine that keeps the previous password finishes the rotation only once every holder accepts the new one alone", () => {
  const holders = (): { components: string[]; keepsPrevious: boolean } => ({ components: ["postgresql"], keepsPrevious: true });
  const withAlone = (name: string, alone?: number): Instance => {
    const base = instance(name, true);
    return { ...base, status: { ready: true, passwords: { postgres: { generation: 3, connectsWith: 3, ...(alone === undefined ? {} : { alone }) } } } };
  };
  const pending = secret("postgres", { next: "n", generation: 2 });
  const committed = planRotation({ annotations: request(), secrets: [pending], instances: [withAlone("a"), withAlone("b")], refuses: refusesNone, holders });
  assert.equal(committed.commit.length, 1);
  assert.deepEqual([...committed.previousHeld], [pending.metadata.name], "the previous password is still held when the next takes effect");
  const held = secret("postgres", { generation: 3 });
  held.metadata.annotations = { ...held.metadata.annotations, [PREVIOUS_PASSWORD_ANNOTATION]: "2" };
  const waiting = planRotation({ annotations: request(), secrets: [held], instances: [withAlone("a", 3), withAlone("b")], refuses: refusesNone, holders });
  assert.deepEqual([waiting.settle.length, waiting.underWay], [0, true], "b still accepts the previous one");
  const settled = planRotation({ annotations: request(), secrets: [held], instances: [withAlone("a", 3), withAlone("b", 3)], refuses: refusesNone, holders });
  assert.deepEqual([settled.settle.length, settled.underWay], [1, false]);
});
