import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { selfSubjectAccessReviewSchema, subjectAccessReviewSchema } from "../../api/index.ts";
import type { Store } from "../../store/index.ts";
import { attributesFromReview, describeDecision, reviewedAttributes, reviewSelfAccess, reviewSubjectAccess } from "./access-review.ts";
import { Authorizer } from "./authorizer.ts";
import { ensureBuiltinRoles } from "./ensure-builtin-roles.ts";
import { roleBinding, tempStores, user, userSubject, type TempStores } from "./test-fixtures.ts";

let stores: TempStores;
let store: Store;
let authorizer: Authorizer;

before(async () => {
  stores = tempStores();
  store = stores.open();
  await ensureBuiltinRoles(store);
  await store.create(roleBinding("team-a", "alice-view", { kind: "ClusterRole", name: "view" }, [userSubject("alice")]));
  await store.create(roleBinding("team-a", "dbas-edit", { kind: "ClusterRole", name: "edit" }, [{ kind: "Group", name: "dbas" }]));
  authorizer = new Authorizer(store);
});
after(() => {
  authorizer.close();
  stores.cleanup();
});

describe("access reviews", () => {
  it("maps Kubernetes resource attributes, where empty strings mean unset", () => {
    assert.deepEqual(attributesFromReview({ verb: "get", group: "apps.kubeblocks.io", resource: "clusters", subresource: "", namespace: "team-a", name: "" }), {
      verb: "get",
      apiGroup: "apps.kubeblocks.io",
      resource: "clusters",
      namespace: "team-a",
    });
    assert.deepEqual(attributesFromReview({ verb: "list", resource: "namespaces" }), { verb: "list", apiGroup: "", resource: "namespaces" });
  });

  it("answers a review of a non-resource URL from nonResourceURLs alone (the monitoring role may get /metrics)", async () => {
    await store.create({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "prom-monitoring" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "monitoring" }, subjects: [userSubject("prom")] });
    const ask = (username: string, path: string, verb = "get") =>
      reviewSubjectAccess(authorizer, subjectAccessReviewSchema.parse({ apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec: { user: username, groups: ["system:authenticated"], nonResourceAttributes: { verb, path } } }));
    await eventuallyAllowed(() => ask("prom", "/metrics"));
    assert.equal((await ask("prom", "/metrics", "delete")).status?.allowed, false);
    assert.equal((await ask("alice", "/metrics")).status?.allowed, false);
    assert.deepEqual(reviewedAttributes({ nonResourceAttributes: { verb: "get", path: "/metrics" } }), { verb: "get", apiGroup: "", resource: "", path: "/metrics" });
    const both = { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: { verb: "get", resource: "secrets" }, nonResourceAttributes: { verb: "get", path: "/metrics" } } };
    assert.equal(selfSubjectAccessReviewSchema.safeParse(both).success, false);
    assert.equal(selfSubjectAccessReviewSchema.safeParse({ ...both, spec: {} }).success, false);
  });

  it("answers a SelfSubjectAccessReview for the caller", async () => {
    const review = selfSubjectAccessReviewSchema.parse({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: { resourceAttributes: { verb: "get", group: "apps.kubeblocks.io", resource: "clusters", namespace: "team-a" } },
    });
    const answered = await reviewSelfAccess(authorizer, user("alice"), review);
    assert.deepEqual(answered.status, { allowed: true, reason: 'RBAC: allowed by RoleBinding "team-a/alice-view" of ClusterRole "view"' });
    assert.equal(selfSubjectAccessReviewSchema.safeParse(answered).success, true);
    const secrets = { ...review, spec: { resourceAttributes: { verb: "get", resource: "secrets", namespace: "team-a" } } };
    assert.equal((await reviewSelfAccess(authorizer, user("alice"), secrets)).status?.allowed, false);
  });

  it("answers a SubjectAccessReview about another user and their groups", async () => {
    const review = subjectAccessReviewSchema.parse({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: { user: "bob", groups: ["dbas"], resourceAttributes: { verb: "get", resource: "secrets", namespace: "team-a" } },
    });
    assert.equal((await reviewSubjectAccess(authorizer, review)).status?.allowed, true);
    const withoutGroup = { ...review, spec: { ...review.spec, groups: [] } };
    assert.equal((await reviewSubjectAccess(authorizer, withoutGroup)).status?.allowed, false);
    assert.equal(subjectAccessReviewSchema.safeParse({ ...review, spec: { resourceAttributes: review.spec.resourceAttributes } }).success, false);
  });

  it("prints can-i answers as kubectl does", () => {
    assert.equal(describeDecision({ allowed: true, reason: "RBAC: allowed by x" }), "yes - RBAC: allowed by x");
    assert.equal(describeDecision({ allowed: false, reason: "RBAC: no rule allows y" }), "no - RBAC: no rule allows y");
  });
});

/** The authorizer sees a new binding through its watch: ask until it answers yes (or give up after 5 s). */
async function eventuallyAllowed(ask: () => Promise<{ status?: { allowed: boolean } | undefined }>): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await ask()).status?.allowed !== true) {
    if (Date.now() > deadline) assert.fail("the review was never allowed");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
