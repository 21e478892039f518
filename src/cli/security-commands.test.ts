// The security commands against a stand-in for the server that answers as the API contract says and records what it was sent.
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { runAudit } from "./audit.ts";
import { runAuth } from "./auth-can-i.ts";
import type { CliContext } from "./context.ts";
import { runToken } from "./token.ts";
import { runUser } from "./user.ts";

interface Seen {
  method: string;
  path: string;
  query: string;
  body: unknown;
  authorization: string | undefined;
}
type Route = (seen: Seen) => [status: number, body: unknown];

const A = "/apis/authentication.holdfast.io/v1alpha1";
const NEW_USER = { username: "alice", password: "Generated-Pass-123", totpSecret: "JBSWY3DPEHPK3PXP", otpauthUri: "otpauth://totp/Holdfast:alice?secret=JBSWY3DPEHPK3PXP&issuer=Holdfast", recoveryCodes: ["aaaa-bbbb", "cccc-dddd"] };
const SUMMARY = { username: "alice", groups: ["team-a"], disabled: false, createdAt: "2025-05-31T12:00:00Z", mfaEnrolled: true };
const FORBIDDEN = { kind: "Status", apiVersion: "v1", status: "Failure", message: 'users.authentication.holdfast.io is forbidden: User "bob" cannot list resource "users"', reason: "Forbidden", code: 403 };

const routes = new Map<string, Route>();
const seen: Seen[] = [];
let server: Server;
let url = "";

async function readBody(request: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of request) text += String(chunk);
  return text === "" ? undefined : JSON.parse(text);
}

before(async () => {
  server = createServer((request, response) => {
    void readBody(request).then((body) => {
      const [path = "", query = ""] = (request.url ?? "").split("?");
      const entry: Seen = { method: request.method ?? "", path, query, body, authorization: request.headers.authorization };
      seen.push(entry);
      const route = routes.get(`${entry.method} ${path}`);
      const [status, answer] = route === undefined ? [404, { kind: "Status", status: "Failure", message: `no route ${entry.method} ${path}`, reason: "NotFound", code: 404 }] : route(entry);
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());
beforeEach(() => {
  routes.clear();
  seen.length = 0;
});

function capture(): { ctx: CliContext; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const env = { HOLDFAST_HOME: "/nonexistent-holdfast-home", HOLDFAST_SERVER: url, HOLDFAST_TOKEN: "hfat_test" };
  return { ctx: { io: { out: (t) => (out += t), err: (t) => (err += t), errIsTTY: false }, env, now: () => new Date("2025-06-01T12:00:00Z") }, out: () => out, err: () => err };
}

const last = (): Seen => {
  const entry = seen.at(-1);
  assert.ok(entry, "the server was not called");
  return entry;
};

describe("holdfast user", () => {
  it("create shows the password, TOTP secret, URI, a QR code and recovery codes; -o json prints the server's object", async () => {
    routes.set(`POST ${A}/users`, () => [201, NEW_USER]);
    const io = capture();
    assert.equal(await runUser(io.ctx, ["create", "alice"]), 0);
    assert.deepEqual({ body: last().body, authorization: last().authorization }, { body: { username: "alice" }, authorization: "Bearer hfat_test" });
    for (const shown of ["user/alice created", "password:  Generated-Pass-123", "secret:    JBSWY3DPEHPK3PXP", `uri:       ${NEW_USER.otpauthUri}`, "  aaaa-bbbb\n  cccc-dddd\n", "holdfast login --username alice"]) {
      assert.ok(io.out().includes(shown), shown);
    }
    assert.match(io.out(), /[█▀▄]{8}/, "a QR code drawn with block characters");
    const json = capture();
    assert.equal(await runUser(json.ctx, ["create", "alice", "-o", "json"]), 0);
    assert.deepEqual(JSON.parse(json.out()), NEW_USER);
  });

  it("list prints the table, or the server's list with -o json", async () => {
    routes.set(`GET ${A}/users`, () => [200, { items: [SUMMARY, { ...SUMMARY, username: "bob", disabled: true, mfaEnrolled: false, lastLoginAt: "2025-06-01T11:00:00Z" }] }]);
    const io = capture();
    assert.equal(await runUser(io.ctx, ["list"]), 0);
    assert.match(io.out(), /^USERNAME +DISABLED +MFA +CREATED +LAST LOGIN\nalice +false +enrolled +24h +<never>\nbob +true +pending +24h +60m\n$/);
    const wide = capture();
    await runUser(wide.ctx, ["list", "-o", "wide"]);
    assert.match(wide.out(), /GROUPS\n.*team-a\n/);
    const json = capture();
    await runUser(json.ctx, ["list", "-o", "json"]);
    assert.equal((JSON.parse(json.out()) as { items: unknown[] }).items.length, 2);
    await assert.rejects(runUser(capture().ctx, ["list", "-o", "yaml"]), { name: "UsageError", message: /use json or wide/ });
  });

  it("disable, enable, reset-mfa, set-password and delete call the user's paths", async () => {
    routes.set(`POST ${A}/users/alice/disable`, () => [200, { ...SUMMARY, disabled: true }]);
    routes.set(`POST ${A}/users/alice/enable`, () => [200, SUMMARY]);
    routes.set(`POST ${A}/users/alice/reset-mfa`, () => [200, { username: "alice", totpSecret: "NEWSECRET", otpauthUri: "otpauth://totp/x?secret=NEWSECRET", recoveryCodes: ["r1"] }]);
    routes.set(`POST ${A}/users/alice/password`, (s) => [200, s.body !== undefined && Object.keys(s.body as object).length > 0 ? { username: "alice" } : { username: "alice", password: "Server-Made-456" }]);
    routes.set(`DELETE ${A}/users/alice`, () => [200, { kind: "Status", status: "Success" }]);
    const outputs: string[] = [];
    for (const argv of [["disable", "alice"], ["enable", "alice"], ["reset-mfa", "alice"], ["set-password", "alice"], ["delete", "alice"]]) {
      const io = capture();
      assert.equal(await runUser(io.ctx, argv), 0, argv.join(" "));
      outputs.push(io.out());
    }
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path.slice(A.length)}`), ["POST /users/alice/disable", "POST /users/alice/enable", "POST /users/alice/reset-mfa", "POST /users/alice/password", "DELETE /users/alice"]);
    assert.match(outputs[0] ?? "", /user\/alice disabled/);
    assert.match(outputs[1] ?? "", /user\/alice enabled/);
    assert.match(outputs[2] ?? "", /secret: {4}NEWSECRET[\s\S]*r1/);
    assert.match(outputs[3] ?? "", /shown once[\s\S]*Server-Made-456/);
    assert.equal(outputs[4], "user/alice deleted\n");
  });

  it("names in paths are escaped, positionals are checked, and the server's refusal is the error", async () => {
    routes.set(`DELETE ${A}/users/a%2Fb`, () => [200, {}]);
    await runUser(capture().ctx, ["delete", "a/b"]);
    assert.equal(last().path, `${A}/users/a%2Fb`);
    await assert.rejects(runUser(capture().ctx, ["disable"]), { name: "UsageError", message: /missing NAME/ });
    await assert.rejects(runUser(capture().ctx, ["frob"]), { name: "UsageError", message: /unknown user subcommand "frob"/ });
    routes.set(`GET ${A}/users`, () => [403, FORBIDDEN]);
    await assert.rejects(runUser(capture().ctx, ["list"]), { name: "ApiError", message: /cannot list resource "users"/ });
    routes.set(`GET ${A}/users`, () => [200, { items: [{ username: "x" }] }]);
    await assert.rejects(runUser(capture().ctx, ["list"]), { name: "CliError", message: /answer to user list is not what this CLI expects \(items\.0\.disabled/ });
  });
});

describe("holdfast token", () => {
  it("create sends name, lifetime in seconds and user, and shows the token once", async () => {
    routes.set(`POST ${A}/apitokens`, () => [201, { id: "k3m7q2xv5a4b6c7d", name: "ci", token: "hfat_k3m7q2xv5a4b6c7d_secret_crc", expiresAt: "2025-07-01T12:00:00Z", username: "bob" }]);
    const io = capture();
    assert.equal(await runToken(io.ctx, ["create", "--name", "ci", "--expires", "30d", "--user", "bob"]), 0);
    assert.deepEqual(last().body, { name: "ci", expiresInSeconds: 2_592_000, username: "bob" });
    assert.match(io.out(), /apitoken\/k3m7q2xv5a4b6c7d "ci" created for user bob; it expires at 2025-07-01T12:00:00Z\n\n {2}hfat_k3m7q2xv5a4b6c7d_secret_crc\n\nStore it now/);
    assert.match(io.out(), /shown once/);
    await assert.rejects(runToken(capture().ctx, ["create", "--name", "ci"]), { name: "UsageError", message: /missing --expires/ });
    await assert.rejects(runToken(capture().ctx, ["create", "--expires", "1d"]), { name: "UsageError", message: /missing --name/ });
    await assert.rejects(runToken(capture().ctx, ["create", "--name", "ci", "--expires", "soon"]), { name: "UsageError", message: /invalid --expires "soon"/ });
  });

  it("list asks for one's own, one user's or all tokens", async () => {
    const token = { id: "k3m7q2xv5a4b6c7d", name: "ci", username: "bob", createdAt: "2025-05-31T12:00:00Z", expiresAt: "2025-07-01T12:00:00Z", revoked: false };
    routes.set(`GET ${A}/apitokens`, () => [200, { items: [token] }]);
    const io = capture();
    assert.equal(await runToken(io.ctx, ["list"]), 0);
    assert.equal(last().query, "");
    assert.match(io.out(), /^ID +NAME +USER +CREATED +EXPIRES +LAST USED +REVOKED\nk3m7q2xv5a4b6c7d +ci +bob +24h +in 30d +<never> +false\n$/);
    await runToken(capture().ctx, ["list", "--all"]);
    assert.equal(last().query, "all=true");
    await runToken(capture().ctx, ["list", "--user", "bob"]);
    assert.equal(last().query, "username=bob");
    await assert.rejects(runToken(capture().ctx, ["list", "--user", "bob", "--all"]), { name: "UsageError", message: /not both/ });
  });

  it("revoke deletes the token by id", async () => {
    routes.set(`DELETE ${A}/apitokens/k3m7q2xv5a4b6c7d`, () => [200, {}]);
    const io = capture();
    assert.equal(await runToken(io.ctx, ["revoke", "k3m7q2xv5a4b6c7d"]), 0);
    assert.equal(io.out(), "apitoken/k3m7q2xv5a4b6c7d revoked\n");
  });
});

describe("holdfast auth", () => {
  const answerWith = (status: object): Route => (s) => [201, { ...(s.body as object), status }];

  it("can-i asks a SelfSubjectAccessReview and answers yes with exit 0", async () => {
    routes.set("POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews", answerWith({ allowed: true, reason: 'RBAC: allowed by RoleBinding "demo/editors" of ClusterRole "edit"' }));
    const io = capture();
    assert.equal(await runAuth(io.ctx, ["can-i", "create", "cl", "-n", "demo"]), 0);
    assert.deepEqual(last().body, { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: { verb: "create", group: "apps.kubeblocks.io", resource: "clusters", namespace: "demo" } } });
    assert.equal(io.out(), "yes\n");
    assert.equal(io.err(), "");
    const verbose = capture();
    await runAuth(verbose.ctx, ["can-i", "create", "cl", "-n", "demo", "-v"]);
    assert.equal(verbose.err(), 'reason: RBAC: allowed by RoleBinding "demo/editors" of ClusterRole "edit"\n');
  });

  it("can-i --as asks a SubjectAccessReview; no is exit 1 with the reason on stderr; -q prints nothing", async () => {
    routes.set("POST /apis/authorization.k8s.io/v1/subjectaccessreviews", answerWith({ allowed: false, reason: 'RBAC: no rule allows delete authentication.holdfast.io/users "bob" at cluster scope' }));
    const io = capture();
    assert.equal(await runAuth(io.ctx, ["can-i", "delete", "users", "bob", "--as", "alice", "--as-group", "team-a", "--as-group", "team-b"]), 1);
    assert.deepEqual(last().body, {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: { user: "alice", groups: ["team-a", "team-b"], resourceAttributes: { verb: "delete", group: "authentication.holdfast.io", resource: "users", name: "bob" } },
    });
    assert.equal(io.out(), "no\n");
    assert.equal(io.err(), 'reason: RBAC: no rule allows delete authentication.holdfast.io/users "bob" at cluster scope\n');
    const quiet = capture();
    assert.equal(await runAuth(quiet.ctx, ["can-i", "delete", "users", "-q", "--as", "alice"]), 1);
    assert.equal(quiet.out() + quiet.err(), "");
  });

  it("can-i checks its arguments", async () => {
    await assert.rejects(runAuth(capture().ctx, ["can-i", "get"]), { name: "UsageError", message: /missing VERB and RESOURCE/ });
    await assert.rejects(runAuth(capture().ctx, ["can-i", "get", "cl", "a", "b"]), { name: "UsageError", message: /unexpected argument "b"/ });
    await assert.rejects(runAuth(capture().ctx, ["can-i", "get", "cl", "-n", "x", "-A"]), { name: "UsageError", message: /-n or -A/ });
    assert.equal(seen.length, 0);
  });

  it("whoami prints the user, groups and credential kind", async () => {
    routes.set(`GET ${A}/whoami`, () => [200, { username: "alice", groups: ["system:authenticated", "team-a"], via: "token" }]);
    const io = capture();
    assert.equal(await runAuth(io.ctx, ["whoami"]), 0);
    assert.match(io.out(), /^ATTRIBUTE +VALUE\nUsername +alice\nGroups +\[system:authenticated team-a\]\nVia +token\n$/);
  });
});

describe("holdfast audit list and export", () => {
  const record = (i: number, verb: string) => ({
    type: "event",
    seq: i,
    verb,
    user: { username: "alice", groups: [] },
    sourceIPs: ["127.0.0.1"],
    objectRef: { resource: "clusters", apiGroup: "apps.kubeblocks.io", namespace: "demo", name: `pg-${i}` },
    responseStatus: { code: 200 },
    requestReceivedTimestamp: "2025-06-01T11:00:00Z",
    annotations: { "authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": "RBAC: allowed" },
  });
  const items = [record(1, "create"), { type: "checkpoint", seq: 2, coversSeq: 1, timestamp: "2025-06-01T11:00:01Z" }, record(3, "delete")];

  it("list sends the filters and prints a table of events", async () => {
    routes.set("GET /apis/audit.holdfast.io/v1alpha1/auditevents", () => [200, { apiVersion: "audit.k8s.io/v1", kind: "EventList", items }]);
    const io = capture();
    assert.equal(await runAudit(io.ctx, ["list", "--user", "alice", "--resource", "cl", "--since", "1h", "--limit", "10"]), 0);
    assert.equal(last().query, "user=alice&resource=clusters&since=2025-06-01T11%3A00%3A00.000Z&limit=10");
    const rows = io.out().trimEnd().split("\n");
    assert.equal(rows.length, 3);
    assert.match(rows[2] ?? "", /^2025-06-01T11:00:00Z +alice +delete +clusters\.apps\.kubeblocks\.io +demo\/pg-3 +200 +allow +RBAC: allowed$/);
  });

  it("export writes each record the server sends on its own line, unchanged", async () => {
    routes.set("GET /apis/audit.holdfast.io/v1alpha1/auditevents", () => [200, { apiVersion: "audit.k8s.io/v1", kind: "EventList", items }]);
    const io = capture();
    assert.equal(await runAudit(io.ctx, ["export"]), 0);
    const lines = io.out().split("\n");
    assert.equal(lines.pop(), "");
    assert.deepEqual(lines.map((line) => JSON.parse(line) as unknown), items);
  });
});

describe("help", () => {
  it("every security subcommand answers --help with usage and examples", async () => {
    const groups: [(ctx: CliContext, argv: readonly string[]) => Promise<number>, string[]][] = [
      [runUser, ["create", "list", "disable", "enable", "reset-mfa", "set-password", "delete"]],
      [runToken, ["create", "list", "revoke"]],
      [runAuth, ["can-i", "whoami"]],
      [runAudit, ["list", "export", "verify"]],
    ];
    for (const [run, subcommands] of groups) {
      const overview = capture();
      assert.equal(await run(overview.ctx, ["--help"]), 0);
      assert.match(overview.out(), /Usage:[\s\S]*Example/);
      assert.equal(await run(capture().ctx, []), 2);
      for (const subcommand of subcommands) {
        const io = capture();
        assert.equal(await run(io.ctx, [subcommand, "--help"]), 0, subcommand);
        assert.match(io.out(), /Usage:\n {2}holdfast [a-z]+ [a-z-]+[\s\S]*Example/, subcommand);
      }
    }
    assert.equal(seen.length, 0);
  });
});
