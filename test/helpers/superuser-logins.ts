/** What the `database-superuser-login` rule leaves behind (ADR 0036): login audit events of an instance and the incident. */
import assert from "node:assert/strict";
import { eventually, type TestServer } from "./harness.ts";

const INCIDENTS = "/apis/holdfast.io/v1/namespaces/holdfast-system/incidents";
const RULE = "database-superuser-login";

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
}

/** The incidents the rule opened. */
export async function loginIncidents(server: TestServer): Promise<LoginIncident[]> {
  return (await server.api<{ items: LoginIncident[] }>(INCIDENTS)).items.filter((i) => i.spec.rule === RULE);
}

/** The database login events in the audit log. */
export async function loginEvents(server: TestServer): Promise<LoginEvent[]> {
  const list = JSON.parse(await server.ok(["audit", "list", "--resource", "instances", "--limit", "1000", "-o", "json"])) as { items: LoginEvent[] };
  return list.items.filter((e) => e.verb === "login" && e.objectRef?.subresource === "login");
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
