/**
 * What the `database-superuser-login` and `database-login-failures` rules leave behind (ADR 0036): login audit events
 * of an instance (accepted, or refused by the database) and the incidents.
 */
import assert from "node:assert/strict";
import { eventually, type TestServer } from "./harness.ts";

const INCIDENTS = "/apis/holdfast.io/v1/namespaces/holdfast-system/incidents";
const RULE = "database-superuser-login";
const FAILURES_RULE = "database-login-failures";

/** An incident, as far as these tests read it. */
export interface LoginIncident {
  spec: { rule: string; severity: string; subject: string };
  status?: { evidence: { auditIDs: string[] } };
}

/** A login audit event, as far as these tests read it. */
export interface LoginEvent {
  auditID: string;
  verb: string;
  user: { username: string };
  sourceIPs: string[];
  objectRef?: { subresource?: string; name?: string };
  responseStatus: { code: number; message?: string };
}

/** The incidents the rule opened. */
export async function loginIncidents(server: TestServer): Promise<LoginIncident[]> {
  return (await server.api<{ items: LoginIncident[] }>(INCIDENTS)).items.filter((i) => i.spec.rule === RULE);
}

/** The database login events in the audit log: the accepted ones (superuser logins), or those the database refused. */
export async function loginEvents(server: TestServer, which: "accepted" | "refused" = "accepted"): Promise<LoginEvent[]> {
  const list = JSON.parse(await server.ok(["audit", "list", "--resource", "instances", "--limit", "1000", "-o", "json"])) as { items: LoginEvent[] };
  const code = which === "accepted" ? 200 : 401;
  return list.items.filter((e) => e.verb === "login" && e.objectRef?.subresource === "login" && e.responseStatus.code === code);
}

/** The incidents of refused database logins. */
export async function refusedLoginIncidents(server: TestServer): Promise<LoginIncident[]> {
  return (await server.api<{ items: LoginIncident[] }>(INCIDENTS)).items.filter((i) => i.spec.rule === FAILURES_RULE);
}

/**
 * Make `attempts` logins as `account` with a wrong password (`attempt` makes one and says whether it was refused),
 * then wait (10 s at most from the first) for the incident of refused logins to `namespace/instance` for that
 * account: high, its evidence the refused-login events, which name the account, the instance and `address`; the wrong
 * password in neither. Returns how long it took.
 */
export async function expectRefusedLoginIncident(server: TestServer, login: { namespace: string; instance: string; account: string; address: string; wrongPassword: string; attempts: number; attempt: () => Promise<boolean> }): Promise<number> {
  const started = Date.now();
  for (let i = 0; i < login.attempts; i++) assert.ok(await login.attempt(), `attempt ${i + 1} is refused`);
  const subject = `instance:${login.namespace}/${login.instance}|account:${login.account}`;
  const incident = await eventually("the refused-logins incident", async () => (await refusedLoginIncidents(server)).find((i) => i.spec.subject === subject), 10_000);
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 10_000, `opened ${elapsed} ms after the first attempt`);
  assert.equal(incident.spec.severity, "high");
  const events = (await loginEvents(server, "refused")).filter((e) => e.objectRef?.name === login.instance && e.user.username === `database:${login.account}`);
  assert.ok(events.length >= 10, `the refused logins are audit events (${events.length})`);
  assert.ok(events.every((e) => e.sourceIPs.includes(login.address)), "each names the client's address");
  const evidence = new Set(incident.status?.evidence.auditIDs ?? []);
  assert.ok(evidence.size >= 10 && [...evidence].every((id) => events.some((e) => e.auditID === id)), "the incident's evidence is the refused-login events");
  assert.ok(!JSON.stringify(incident).includes(login.wrongPassword) && !JSON.stringify(events).includes(login.wrongPassword), "no password in the incident or the audit events");
  console.log(`${login.attempts} refused logins as ${login.account} → incident ${elapsed} ms after the first`);
  return elapsed;
}

/**
 * Wait (10 s at most from `started`) for the one incident of a login to `namespace/instance` as `account`: high, its
 * evidence the one login event, which names the account and the instance; `password` in neither. Returns the event.
 */
export async function expectOneLoginIncident(server: TestServer, login: { namespace: string; instance: string; account: string; password: string; started: number }): Promise<LoginEvent> {
  const subject = `instance:${login.namespace}/${login.instance}`;
  const incident = await eventually("the superuser-login incident", async () => (await loginIncidents(server)).find((i) => i.spec.subject === subject), 10_000);
  const elapsed = Date.now() - login.started;
  assert.ok(elapsed < 10_000, `opened in ${elapsed} ms`);
  assert.equal(incident.spec.severity, "high");
  const events = await loginEvents(server);
  assert.equal(events.length, 1, "one login event for the one client");
  const [event] = events;
  assert.ok(event);
  assert.equal(event.user.username, `database:${login.account}`);
  assert.equal(event.objectRef?.name, login.instance);
  assert.deepEqual(incident.status?.evidence.auditIDs, [event.auditID]);
  assert.ok(!JSON.stringify(incident).includes(login.password) && !JSON.stringify(events).includes(login.password), "no password in the incident or the audit event");
  console.log(`${login.account} login → incident in ${elapsed} ms`);
  return event;
}
