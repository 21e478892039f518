import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Store } from "../../store/index.ts";
import type { RequestAttributes } from "../identity.ts";
import { Authorizer } from "./authorizer.ts";
import { clusterRole, clusterRoleBinding, role, roleBinding, tempStores, user, userSubject, type TempStores } from "./test-fixtures.ts";

let stores: TempStores;
let store: Store;
let authorizer: Authorizer;

beforeEach(() => {
  stores = tempStores();
  store = stores.open();
  authorizer = new Authorizer(store);
});
afterEach(() => {
  authorizer.close();
  stores.cleanup();
});

const alice = user("alice");
const getCluster = (namespace: string | undefined, extra: Partial<RequestAttributes> = {}): RequestAttributes => ({
  verb: "get",
  apiGroup: "apps.kubeblocks.io",
  resource: "clusters",
  name: "db1",
  ...(namespace === undefined ? {} : { namespace }),
  ...extra,
});
const readClusters = clusterRole("read-clusters", [{ apiGroups: ["apps.kubeblocks.io"], resources: ["clusters"], verbs: ["get", "list"] }]);

describe("Authorizer", () => {
  it("denies by default, naming the request and its scope", async () => {
    assert.deepEqual(await authorizer.authorize(alice, getCluster("team-a")), {
      allowed: false,
      reason: 'RBAC: no rule allows get apps.kubeblocks.io/clusters "db1" in namespace team-a',
    });
    assert.equal((await authorizer.authorize(alice, { verb: "list", apiGroup: "", resource: "namespaces" })).reason, "RBAC: no rule allows list namespaces at cluster scope");
  });

  it("grants through a ClusterRoleBinding everywhere, and says which binding allowed it", async () => {
    await store.create(readClusters);
    await store.create(clusterRoleBinding("alice-reads", "read-clusters", [userSubject("alice")]));
    for (const namespace of ["team-a", "team-b", undefined]) {
      assert.deepEqual(await authorizer.authorize(alice, getCluster(namespace)), { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "alice-reads" of ClusterRole "read-clusters"' });
    }
    assert.equal((await authorizer.authorize(alice, getCluster("team-a", { verb: "delete" }))).allowed, false);
    assert.equal((await authorizer.authorize(user("bob"), getCluster("team-a"))).allowed, false);
  });

  it("grants through a RoleBinding only in the binding's namespace, for a ClusterRole or a Role", async () => {
    await store.create(readClusters);
    await store.create(roleBinding("team-a", "alice-reads", { kind: "ClusterRole", name: "read-clusters" }, [userSubject("alice")]));
    assert.deepEqual(await authorizer.authorize(alice, getCluster("team-a")), { allowed: true, reason: 'RBAC: allowed by RoleBinding "team-a/alice-reads" of ClusterRole "read-clusters"' });
    assert.equal((await authorizer.authorize(alice, getCluster("team-b"))).allowed, false);
    assert.equal((await authorizer.authorize(alice, getCluster(undefined))).allowed, false);

    await store.create(role("team-b", "deleter", [{ apiGroups: ["apps.kubeblocks.io"], resources: ["clusters"], verbs: ["delete"] }]));
    await store.create(roleBinding("team-b", "alice-deletes", { kind: "Role", name: "deleter" }, [userSubject("alice")]));
    assert.equal((await authorizer.authorize(alice, getCluster("team-b", { verb: "delete" }))).allowed, true);
    assert.equal((await authorizer.authorize(alice, getCluster("team-a", { verb: "delete" }))).allowed, false);
  });

  it("does not let a RoleBinding use a Role of another namespace", async () => {
    await store.create(role("team-b", "reader", readClusters.rules));
    await store.create(roleBinding("team-a", "borrow", { kind: "Role", name: "reader" }, [userSubject("alice")]));
    assert.equal((await authorizer.authorize(alice, getCluster("team-a"))).allowed, false);
    assert.equal((await authorizer.authorize(alice, getCluster("team-b"))).allowed, false);
  });

  it("matches Group subjects against identity.groups", async () => {
    await store.create(readClusters);
    await store.create(clusterRoleBinding("dbas-read", "read-clusters", [{ kind: "Group", name: "dbas" }]));
    assert.equal((await authorizer.authorize(alice, getCluster("team-a"))).allowed, false);
    const decision = await authorizer.authorize(user("carol", ["dbas"]), getCluster("team-a"));
    assert.deepEqual(decision, { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "dbas-read" of ClusterRole "read-clusters"' });
    // A user named like a group is not in it.
    assert.equal((await authorizer.authorize(user("dbas"), getCluster("team-a"))).allowed, false);
  });

  it("matches ServiceAccount subjects by their system:serviceaccount user name", async () => {
    await store.create(readClusters);
    await store.create(roleBinding("team-a", "robot-reads", { kind: "ClusterRole", name: "read-clusters" }, [{ kind: "ServiceAccount", name: "robot" }]));
    await store.create(clusterRoleBinding("ops-robot", "read-clusters", [{ kind: "ServiceAccount", name: "ops", namespace: "infra" }]));
    assert.equal((await authorizer.authorize(user("system:serviceaccount:team-a:robot"), getCluster("team-a"))).allowed, true);
    assert.equal((await authorizer.authorize(user("system:serviceaccount:team-b:robot"), getCluster("team-a"))).allowed, false);
    assert.equal((await authorizer.authorize(user("robot"), getCluster("team-a"))).allowed, false);
    assert.equal((await authorizer.authorize(user("system:serviceaccount:infra:ops"), getCluster("team-b"))).allowed, true);
  });

  it("grants nothing through a binding whose role does not exist", async () => {
    await store.create(clusterRoleBinding("dangling", "missing", [userSubject("alice")]));
    assert.equal((await authorizer.authorize(alice, getCluster("team-a"))).allowed, false);
    assert.deepEqual(await authorizer.rulesFor(alice, "team-a"), []);
  });

  it("flips to deny as soon as a binding is deleted, and sees role changes at once", async () => {
    await store.create(readClusters);
    await store.create(clusterRoleBinding("alice-reads", "read-clusters", [userSubject("alice")]));
    assert.equal((await authorizer.authorize(alice, getCluster("team-a"))).allowed, true);
    await store.delete({ kind: "ClusterRoleBinding", name: "alice-reads" });
    assert.equal((await authorizer.authorize(alice, getCluster("team-a"))).allowed, false);

    await store.create(clusterRoleBinding("alice-reads", "read-clusters", [userSubject("alice")]));
    assert.equal((await authorizer.authorize(alice, getCluster("team-a"))).allowed, true);
    const stored = await store.get<typeof readClusters>({ kind: "ClusterRole", name: "read-clusters" });
    await store.update({ ...stored!, rules: [] });
    assert.equal((await authorizer.authorize(alice, getCluster("team-a"))).allowed, false);
  });

  it("serves repeated decisions from its cache without reading the store", async () => {
    await store.create(readClusters);
    await store.create(clusterRoleBinding("alice-reads", "read-clusters", [userSubject("alice")]));
    await authorizer.authorize(alice, getCluster("team-a"));
    let lists = 0;
    const counting: Store = Object.create(store) as Store;
    counting.list = (...args) => {
      lists += 1;
      return store.list(...args);
    };
    const cached = new Authorizer(counting);
    await cached.authorize(alice, getCluster("team-a"));
    assert.equal(lists, 4);
    const started = performance.now();
    for (let i = 0; i < 2000; i += 1) await cached.authorize(alice, getCluster("team-a"));
    assert.equal(lists, 4);
    assert.ok(performance.now() - started < 500, "2000 cached decisions take well under a quarter of a millisecond each");
    await store.delete({ kind: "ClusterRoleBinding", name: "alice-reads" });
    assert.equal((await cached.authorize(alice, getCluster("team-a"))).allowed, false);
    assert.equal(lists, 8);
    cached.close();
  });

  it("lists the rules held in a namespace: cluster-wide plus that namespace's", async () => {
    await store.create(readClusters);
    await store.create(clusterRoleBinding("alice-reads", "read-clusters", [userSubject("alice")]));
    await store.create(role("team-a", "secrets", [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }]));
    await store.create(roleBinding("team-a", "alice-secrets", { kind: "Role", name: "secrets" }, [userSubject("alice")]));
    assert.equal((await authorizer.rulesFor(alice, undefined)).length, 1);
    assert.deepEqual(await authorizer.rulesFor(alice, "team-a"), [...readClusters.rules, { apiGroups: [""], resources: ["secrets"], verbs: ["get"] }]);
    assert.equal((await authorizer.rulesFor(alice, "team-b")).length, 1);
  });

  it("ignores stored objects that are not valid RBAC objects", async () => {
    await store.create(readClusters);
    await store.create({ ...clusterRoleBinding("bad", "read-clusters", [userSubject("alice")]), roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-clusters" } });
    assert.equal((await authorizer.authorize(alice, getCluster("team-a"))).allowed, false);
  });
});
