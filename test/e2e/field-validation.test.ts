/**
 * Fields accepted and not honoured (issue 10, item 8), through the real server and CLI: a field a kind does not have
 * is dropped with a `Warning` header (the default, `fieldValidation=Warn`), refused with `Strict`, dropped silently
 * with `Ignore`, for every kind with a schema; an issuer without `tls: true`, and a UserProvided one, are refused naming
 * the field (`tls: true` itself is served: test/e2e/client-tls.test.ts); fields KubeBlocks defines and
 * Holdfast does not honour (configs variables, env, services, disableExporter: false) are named in the
 * RuntimeLimitations condition and in an event; the CLI prints the server's warnings as kubectl does.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Cluster } from "../../src/api/index.ts";
import { startDemoServer } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { postgresExample } from "../helpers/manifests.ts";

const NS = "demo";
const CLUSTERS = `/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters`;
const ROLES = `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`;

let server: TestServer;
let major: string;

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  await server.destroy();
});

function role(name: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace: NS }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }], ...extra });
}

async function post(path: string, body: string, query = ""): Promise<{ status: number; warning: string | null; body: { reason?: string; message?: string } }> {
  const response = await server.fetch(`${path}${query}`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
  return { status: response.status, warning: response.headers.get("warning"), body: (await response.json()) as { reason?: string; message?: string } };
}

describe("unknown fields and fields not honoured", { timeout: 600_000 }, () => {
  test("default (Warn): unknown fields are dropped and named in Warning headers, as Kubernetes does", async () => {
    const created = await post(ROLES, role("warned", { bogus: true, metadata: { name: "warned", namespace: NS, nickname: "x" } }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.warning, `299 - "unknown field \\"metadata.nickname\\"", 299 - "unknown field \\"bogus\\""`);
    const stored = await server.api<Record<string, any>>(`${ROLES}/warned`);
    assert.equal(stored["bogus"], undefined, "not stored");
    assert.equal(stored["metadata"]["nickname"], undefined);
  });

  test("fieldValidation=Strict refuses them (400, every unknown field named); Ignore drops them silently; anything else is a 400", async () => {
    const strict = await post(ROLES, role("strict", { bogus: true }), "?fieldValidation=Strict");
    assert.equal(strict.status, 400);
    assert.equal(strict.body.reason, "BadRequest");
    assert.match(strict.body.message ?? "", /strict decoding error: unknown field "bogus"/);
    assert.equal((await server.fetch(`${ROLES}/strict`)).status, 404, "nothing created");
    const ignored = await post(ROLES, role("ignored", { bogus: true }), "?fieldValidation=Ignore");
    assert.equal(ignored.status, 201);
    assert.equal(ignored.warning, null);
    const bogus = await post(ROLES, role("bogus-directive"), "?fieldValidation=Sometimes");
    assert.equal(bogus.status, 400);
    assert.match(bogus.body.message ?? "", /fieldValidation must be one of Strict, Warn, Ignore/);
  });

  test("a patch with an unknown field is warned about, or refused with Strict", async () => {
    const patch = (query: string): ReturnType<TestServer["fetch"]> =>
      server.fetch(`${ROLES}/warned${query}`, { method: "PATCH", headers: { "Content-Type": "application/merge-patch+json" }, body: JSON.stringify({ rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list"], verbz: ["x"] }] }) });
    const warned = await patch("");
    assert.equal(warned.status, 200);
    assert.match(warned.headers.get("warning") ?? "", /unknown field \\"rules\[0\]\.verbz\\"/);
    assert.equal((await patch("?fieldValidation=Strict")).status, 400);
  });

  test("the CLI prints the server's warnings as kubectl does", async () => {
    const manifest = `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: from-cli, namespace: ${NS}}\nrules: [{apiGroups: [""], resources: [pods], verbs: [get], verbz: [x]}]\n`;
    const result = await server.cli(["apply", "-f", "-"], manifest);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^Warning: unknown field "rules\[0\]\.verbz"$/m);
  });

  test("an issuer without tls: true, a UserProvided issuer whose Secret is missing, and an unknown issuer are refused naming the field; nothing is created", async () => {
    const withIssuer = (tls: boolean, issuer: unknown) => postgresExample(major, (d) => {
      d["metadata"].name = "pg-tls";
      d["spec"].componentSpecs[0].tls = tls;
      d["spec"].componentSpecs[0].issuer = issuer;
    });
    const noTls = await server.cli(["apply", "-f", "-"], await withIssuer(false, { name: "KubeBlocks" }));
    assert.notEqual(noTls.code, 0);
    assert.match(noTls.stderr, /spec\.componentSpecs\[0\]\.issuer: Forbidden: an issuer needs tls: true/);
    const userProvided = await server.cli(["apply", "-f", "-"], await withIssuer(true, { name: "UserProvided", secretRef: { name: "pg-certs" } }));
    assert.notEqual(userProvided.code, 0);
    assert.match(userProvided.stderr, /spec\.componentSpecs\[0\]\.issuer\.secretRef\.name: Not found: secret demo\/pg-certs: create it first with the keys ca\.crt, tls\.crt and tls\.key/);
    const unknown = await server.cli(["apply", "-f", "-"], await withIssuer(true, { name: "Vault" }));
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /spec\.componentSpecs\[0\]\.issuer\.name: Unsupported value: "Vault"/);
    assert.equal((await server.fetch(`${CLUSTERS}/pg-tls`)).status, 404);
  });

  test("fields set and not honoured are warned about at admission and named in RuntimeLimitations and an event", async () => {
    const manifest = await postgresExample(major, (d) => {
      d["metadata"].name = "pg-notes";
      const component = d["spec"].componentSpecs[0];
      component.configs = [{ name: "postgresql-configuration", variables: { max_connections: "200" } }];
      component.env = [{ name: "TZ", value: "UTC" }];
      component.disableExporter = false;
      d["spec"].services = [{ name: "lb", componentSelector: "postgresql", spec: { type: "LoadBalancer" } }];
    });
    const result = await server.cli(["apply", "-f", "-"], manifest);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /configs/, "configs variables are applied (a typed parameter of the engine)");
    assert.match(result.stderr, /Warning: spec\.componentSpecs\[0\]\.env: /);
    const condition = await eventually("the RuntimeLimitations condition", async () => {
      const cluster = await server.api<Cluster>(`${CLUSTERS}/pg-notes`);
      return cluster.status?.conditions?.find((c) => c.type === "RuntimeLimitations");
    });
    assert.equal(condition.status, "True");
    assert.ok(!condition.message.includes("configs"), `configs are honoured, not named in: ${condition.message}`);
    for (const field of ["spec.componentSpecs[0].env", "spec.services[0].spec"]) {
      assert.ok(condition.message.includes(`${field}: `), `${field} named in: ${condition.message}`);
    }
    // The node agent runs an exporter beside each instance unless disableExporter is true: the field is honoured.
    assert.ok(!condition.message.includes("disableExporter"), `disableExporter is honoured, not named in: ${condition.message}`);
    assert.doesNotMatch(condition.message, /every field of the spec is honoured/);
    const events = await eventually("a FieldsNotHonoured event", async () => {
      const list = await server.api<{ items: { reason: string; message: string; involvedObject: { name: string } }[] }>(`/api/v1/namespaces/${NS}/events`);
      return list.items.find((e) => e.reason === "FieldsNotHonoured" && e.involvedObject.name === "pg-notes");
    });
    assert.match(events.message, /spec\.componentSpecs\[0\]\.env: /);
  });

  test("configs variables are checked against the engine's parameter schema, naming the parameter", async () => {
    const refused = async (variables: Record<string, string>, pattern: RegExp): Promise<void> => {
      const manifest = await postgresExample(major, (d) => {
        d["metadata"].name = "pg-bad-config";
        d["spec"].componentSpecs[0].configs = [{ name: "postgresql-configuration", variables }];
      });
      const result = await server.cli(["apply", "-f", "-"], manifest);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, pattern);
    };
    await refused({ max_connections: "5" }, /configs\[0\]\.variables\.max_connections: Invalid value: max_connections: 5 is below the minimum 10/);
    await refused({ shared_bufers: "1GB" }, /shared_bufers: not a parameter Holdfast lets you set/);
    await refused({ archive_command: "cp %p /tmp" }, /archive_command: cannot be changed: Holdfast archives WAL itself/);
    await refused({ log_statement: "everything" }, /log_statement: "everything" is not one of none, ddl, mod, all/);
    assert.equal((await server.fetch(`${CLUSTERS}/pg-bad-config`)).status, 404);
  });
});
