import { test } from "node:test";
import assert from "node:assert/strict";
import type { SignalEvent } from "../api/index.ts";
import { DETECTION_RULES, evaluateRules } from "./rules.ts";
import { defaultDetectionSettings, type DetectionSettings } from "./settings.ts";
import { emptyState, type DetectorState } from "./state.ts";

const T0 = Date.parse("2026-12-06T09:00:00Z");
let counter = 0;

function event(fields: Partial<SignalEvent> & { at?: number }): SignalEvent {
  counter += 1;
  const { at = 0, ...rest } = fields;
  return {
    auditID: `00000000-0000-4000-8000-${String(counter).padStart(12, "0")}`,
    time: new Date(T0 + at).toISOString(),
    node: "n1",
    username: "alice",
    groups: ["system:authenticated"],
    sourceIP: "10.0.0.1",
    verb: "get",
    code: 200,
    ...rest,
  };
}

function loginFailure(fields: Partial<SignalEvent> & { at?: number }, reason = "bad-password"): SignalEvent {
  return event({ verb: "create", resource: "sessions", apiGroup: "authentication.holdfast.io", code: 401, authentication: { outcome: "failure", method: "password+totp", reason }, ...fields });
}

function run(events: SignalEvent[], settings: DetectionSettings = defaultDetectionSettings(), state: DetectorState = emptyState()): { rule: string; subject: string; auditIDs: string[] }[] {
  return events.flatMap((e) => evaluateRules(e, state, settings));
}

function rulesOf(findings: { rule: string }[]): string[] {
  return [...new Set(findings.map((f) => f.rule))];
}

void test("every rule has an id, a description and a severity, and ids are unique", () => {
  const ids = DETECTION_RULES.map((rule) => rule.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const rule of DETECTION_RULES) {
    assert.match(rule.id, /^[a-z-]+$/);
    assert.ok(rule.description.length > 10);
    assert.ok(["low", "medium", "high", "critical"].includes(rule.severity));
  }
});

void test("login-failures-account fires at the threshold within the window, with every failure as evidence", () => {
  const settings = defaultDetectionSettings();
  const below = Array.from({ length: settings.loginFailuresPerAccount.threshold - 1 }, (_, i) => loginFailure({ at: i * 1000 }));
  assert.deepEqual(run(below, settings), []);
  const state = emptyState();
  const events = Array.from({ length: settings.loginFailuresPerAccount.threshold }, (_, i) => loginFailure({ at: i * 1000 }));
  const findings = run(events, settings, state).filter((f) => f.rule === "login-failures-account");
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.subject, "user:alice");
  assert.deepEqual(findings[0].auditIDs, events.map((e) => e.auditID));
  // Spread wider than the window, the same number does not fire.
  const spread = Array.from({ length: settings.loginFailuresPerAccount.threshold }, (_, i) => loginFailure({ at: i * settings.loginFailuresPerAccount.windowSeconds * 200 }));
  assert.deepEqual(rulesOf(run(spread, settings)), []);
});

void test("the thresholds are tunable", () => {
  const settings = { ...defaultDetectionSettings(), loginFailuresPerAccount: { threshold: 2, windowSeconds: 10 } };
  assert.deepEqual(rulesOf(run([loginFailure({}), loginFailure({ at: 1000 })], settings)), ["login-failures-account"]);
});

void test("login-failures-source counts failures from one address across several accounts", () => {
  const settings = { ...defaultDetectionSettings(), loginFailuresPerSource: { threshold: 5, windowSeconds: 60, minAccounts: 3 } };
  const events = ["a", "b", "c", "d", "e"].map((username, i) => loginFailure({ username, at: i * 100, sourceIP: "192.0.2.9" }));
  const findings = run(events, settings).filter((f) => f.rule === "login-failures-source");
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.subject, "source:192.0.2.9");
  assert.deepEqual(rulesOf(run(events, settings)), ["login-failures-source"], "no single account reached its own threshold");
  const oneAccount = ["a", "a", "b", "a", "b"].map((username, i) => loginFailure({ username, at: i * 100, sourceIP: "192.0.2.9" }));
  assert.deepEqual(rulesOf(run(oneAccount, settings)), [], "two accounts are not spraying");
});

void test("totp-failures fires on wrong codes after a correct password, not on wrong passwords", () => {
  const settings = defaultDetectionSettings();
  const n = settings.totpFailures.threshold;
  assert.deepEqual(rulesOf(run(Array.from({ length: n }, (_, i) => loginFailure({ at: i }, "bad-password")))), []);
  const findings = run(Array.from({ length: n }, (_, i) => loginFailure({ at: i }, i % 2 === 0 ? "bad-totp" : "totp-replayed")));
  assert.deepEqual(rulesOf(findings), ["totp-failures"]);
});

void test("authorization-denials fires on a burst of forbidden requests by one user", () => {
  const settings = { ...defaultDetectionSettings(), authorizationDenials: { threshold: 3, windowSeconds: 10 } };
  const denied = (at: number): SignalEvent => event({ at, code: 403, decision: "forbid", resource: "secrets", namespace: "prod" });
  assert.deepEqual(rulesOf(run([denied(0), denied(1)], settings)), []);
  assert.deepEqual(rulesOf(run([denied(0), denied(1), denied(2)], settings)), ["authorization-denials"]);
});

void test("secret-reads-anomaly: a rate far above the principal's own baseline fires, its usual rate does not", () => {
  const settings = defaultDetectionSettings();
  const window = settings.secretReads.windowSeconds * 1000;
  const state = emptyState();
  const read = (at: number): SignalEvent => event({ at, resource: "secrets", apiGroup: "", namespace: "app", name: "db" });
  // Ten windows of 10 reads each: the usual rate.
  const usual = Array.from({ length: 10 }, (_, w) => Array.from({ length: 10 }, (_, i) => read(w * window + i * 1000))).flat();
  assert.deepEqual(run(usual, settings, state), []);
  // Then 5 × 10 + 1 reads in one window.
  const burst = Array.from({ length: 51 }, (_, i) => read(11 * window + i * 10));
  const findings = run(burst, settings, state);
  assert.deepEqual(rulesOf(findings), ["secret-reads-anomaly"]);
  assert.equal(findings[0]?.subject, "user:alice");
});

void test("secret-reads-anomaly: a namespace the principal never read fires once it has a history, not while it learns", () => {
  const settings = defaultDetectionSettings();
  const state = emptyState();
  const read = (at: number, namespace: string): SignalEvent => event({ at, resource: "secrets", apiGroup: "", namespace, name: "s" });
  const learning = [read(0, "app"), read(1, "tools")];
  assert.deepEqual(run(learning, settings, state), [], "new namespaces while learning are learnt");
  const history = Array.from({ length: settings.secretReads.learningReads }, (_, i) => read(10 + i * 60_000, i % 2 === 0 ? "app" : "tools"));
  assert.deepEqual(run(history, settings, state), []);
  const findings = run([read(10_000_000, "payments")], settings, state);
  assert.deepEqual(rulesOf(findings), ["secret-reads-anomaly"]);
  assert.equal(findings[0]?.subject, "user:alice|ns:payments");
});

void test("rbac-escalation fires on a refused write of a role or binding and on a refused token for another user", () => {
  assert.deepEqual(rulesOf(run([event({ verb: "create", resource: "clusterrolebindings", apiGroup: "rbac.authorization.k8s.io", code: 403, name: "me-admin" })])), ["rbac-escalation"]);
  assert.deepEqual(rulesOf(run([event({ verb: "create", resource: "apitokens", apiGroup: "authentication.holdfast.io", code: 403 })])), ["rbac-escalation"]);
  assert.deepEqual(rulesOf(run([event({ verb: "create", resource: "rolebindings", apiGroup: "rbac.authorization.k8s.io", code: 201 })])), [], "an allowed write is not an attempt");
  assert.deepEqual(rulesOf(run([event({ verb: "get", resource: "roles", apiGroup: "rbac.authorization.k8s.io", code: 403 })])), [], "a refused read is a denial, not an escalation");
});

void test("token-for-another-user fires when a token is created for someone else", () => {
  const findings = run([event({ verb: "create", resource: "apitokens", code: 201, actingFor: "bob" })]);
  assert.deepEqual(rulesOf(findings), ["token-for-another-user"]);
  assert.deepEqual(rulesOf(run([event({ verb: "create", resource: "apitokens", code: 201 })])), [], "one's own token is not");
});

void test("revoked-credential-used fires on a disabled user's login and on a revoked token presented", () => {
  assert.deepEqual(rulesOf(run([loginFailure({}, "disabled")])), ["revoked-credential-used"]);
  const bearer = event({ code: 401, authentication: { outcome: "failure", method: "bearer", reason: "revoked token" } });
  assert.deepEqual(rulesOf(run([bearer])), ["revoked-credential-used"]);
  const unknown = event({ code: 401, authentication: { outcome: "failure", method: "bearer", reason: "invalid, expired or revoked token" } });
  assert.ok(!rulesOf(run([unknown])).includes("revoked-credential-used"), "an unknown token says nothing about revocation");
});

void test("backup-or-audit-deleted fires on a successful delete of a backup or repository, not on a refused one", () => {
  assert.deepEqual(rulesOf(run([event({ verb: "delete", resource: "backups", apiGroup: "dataprotection.kubeblocks.io", namespace: "prod", name: "nightly" })])), ["backup-or-audit-deleted"]);
  assert.deepEqual(rulesOf(run([event({ verb: "deletecollection", resource: "backuprepos", code: 200 })])), ["backup-or-audit-deleted"]);
  assert.deepEqual(rulesOf(run([event({ verb: "delete", resource: "backups", code: 404, name: "x" })])), []);
});

void test("audit-integrity fires on a failed audit write and on a tampered log, per node", () => {
  const failed = run([event({ verb: "audit", code: 0, username: "system:holdfast", auditProblem: "write-failed" })]);
  assert.deepEqual(rulesOf(failed), ["audit-integrity"]);
  assert.equal(failed[0]?.subject, "node:n1");
  assert.deepEqual(rulesOf(run([event({ verb: "audit", code: 0, auditProblem: "tampered", node: "n2" })])), ["audit-integrity"]);
});

void test("admin-new-source learns an administrator's first address and fires on a new one", () => {
  const state = emptyState();
  const admin = (sourceIP: string): SignalEvent => event({ username: "admin", groups: ["system:masters", "system:authenticated"], sourceIP });
  assert.deepEqual(run([admin("127.0.0.1"), admin("127.0.0.1")], defaultDetectionSettings(), state), []);
  const findings = run([admin("203.0.113.7")], defaultDetectionSettings(), state);
  assert.deepEqual(rulesOf(findings), ["admin-new-source"]);
  assert.deepEqual(run([admin("203.0.113.7")], defaultDetectionSettings(), state), [], "once known, not again");
  assert.deepEqual(run([event({ sourceIP: "198.51.100.1" }), event({ sourceIP: "198.51.100.2" })], defaultDetectionSettings(), state), [], "not for non-administrators");
});

void test("the state is plain JSON: a leader that stores it and a new one that loads it carry on alike", () => {
  const settings = { ...defaultDetectionSettings(), loginFailuresPerAccount: { threshold: 4, windowSeconds: 60 } };
  const state = emptyState();
  run([loginFailure({ at: 0 }), loginFailure({ at: 1 })], settings, state);
  const reloaded = JSON.parse(JSON.stringify(state)) as DetectorState;
  assert.deepEqual(rulesOf(run([loginFailure({ at: 2 }), loginFailure({ at: 3 })], settings, reloaded)), ["login-failures-account"]);
});

void test("a database superuser login the node agent recorded opens database-superuser-login for its instance; other instance logins do not", () => {
  const login = (name: string): SignalEvent => event({ verb: "login", resource: "instances", subresource: "login", apiGroup: "holdfast.io", namespace: "demo", name, username: "database:postgres", sourceIP: "127.0.0.1", authentication: { outcome: "success", method: "database-password" } });
  const first = login("pg-0");
  const findings = run([first]);
  assert.deepEqual(findings.map((f) => [f.rule, f.subject, f.auditIDs]), [["database-superuser-login", "instance:demo/pg-0", [first.auditID]]]);
  assert.deepEqual(run([event({ verb: "get", resource: "instances", subresource: "log", apiGroup: "holdfast.io", namespace: "demo", name: "pg-0" })]), []);
  const settings = { ...defaultDetectionSettings(), databaseSuperuserLogins: { threshold: 2, windowSeconds: 60 } };
  assert.deepEqual(rulesOf(run([login("pg-1")], settings)), [], "tunable: two logins within a minute");
});

void test("logins a database refused open database-login-failures per instance and account at the threshold, and never database-superuser-login", () => {
  const refused = (name: string, account: string, at: number): SignalEvent => event({ at, verb: "login", resource: "instances", subresource: "login", apiGroup: "holdfast.io", namespace: "demo", name, username: `database:${account}`, sourceIP: "10.0.0.9", code: 401, authentication: { outcome: "failure", method: "database-password", reason: "refused by the database" } });
  const state = emptyState();
  const nine = Array.from({ length: 9 }, (_, i) => refused("pg-0", "postgres", i * 1000));
  assert.deepEqual(run(nine, defaultDetectionSettings(), state), [], "nine within the window: nothing");
  assert.deepEqual(run([refused("pg-0", "app", 9_500), refused("pg-1", "postgres", 9_600)], defaultDetectionSettings(), state), [], "another account or instance counts apart");
  const tenth = refused("pg-0", "postgres", 10_000);
  const findings = run([tenth], defaultDetectionSettings(), state);
  assert.deepEqual(findings.map((f) => [f.rule, f.subject]), [["database-login-failures", "instance:demo/pg-0|account:postgres"]]);
  assert.equal(findings[0]?.auditIDs.length, 10);
  assert.ok(findings[0].auditIDs.includes(tenth.auditID));
  const late = emptyState();
  const spread = Array.from({ length: 10 }, (_, i) => refused("pg-0", "postgres", i * 40_000));
  assert.deepEqual(run(spread, defaultDetectionSettings(), late), [], "ten spread over six minutes stay under the 300 s window");
});
