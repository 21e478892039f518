// Identity, access control and audit end to end: the real server and CLI, real clients, real files.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { redisCli, redisConnection } from "../helpers/clients.ts";
import { TestServer, run } from "../helpers/harness.ts";

let server: TestServer;

before(async () => {
  server = await TestServer.start();
  await server.ok(["create", "namespace", "demo"]);
});

after(async () => {
  await server.destroy();
});

const AUTHN = "/apis/authentication.holdfast.io/v1alpha1";

/** Make a user, log them in with a token bound to `role` in demo, and return the token. */
async function userWithToken(name: string, role: string): Promise<string> {
  await server.ok(["user", "create", name, "-o", "json"]);
  const binding = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${name}-${role}, namespace: demo}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${role}}
subjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: ${name}}]
`;
  await server.ok(["apply", "-f", "-"], binding);
  const created = JSON.parse(await server.ok(["token", "create", "--name", "e2e", "--expires", "1h", "--user", name, "-o", "json"])) as { token: string };
  return created.token;
}

function asToken(token: string, args: string[]): ReturnType<typeof run> {
  return run(join(import.meta.dirname, "..", "..", "bin", "holdfast"), args, { env: { ...process.env, HOLDFAST_HOME: server.home, HOLDFAST_SERVER: server.url, HOLDFAST_TOKEN: token } });
}

void test("without credentials every API path but health and login is 401 with a Status", async () => {
  for (const path of ["/version", "/apis", "/openapi/v3", "/openapi/v2", "/api/v1/namespaces", "/api/v1/namespaces/demo/secrets", `${AUTHN}/users`, "/apis/audit.holdfast.io/v1alpha1/auditevents"]) {
    const response = await server.fetch(path, {}, null);
    assert.equal(response.status, 401, path);
    assert.equal(((await response.json()) as { kind: string }).kind, "Status");
  }
  assert.equal((await server.fetch("/healthz", {}, null)).status, 200);
  const login = await server.fetch(`${AUTHN}/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }, null);
  assert.equal(login.status, 400);
});

void test("server-side apply that would create needs create as well as patch; on an existing object patch is enough", async () => {
  const role = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-patcher, namespace: demo}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get, patch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: patcher-secret-patcher, namespace: demo}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-patcher}
subjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: patcher}]
`;
  await server.ok(["user", "create", "patcher", "-o", "json"]);
  await server.ok(["apply", "-f", "-"], role);
  const token = (JSON.parse(await server.ok(["token", "create", "--name", "ssa", "--expires", "1h", "--user", "patcher", "-o", "json"])) as { token: string }).token;
  const apply = (name: string): Promise<Awaited<ReturnType<typeof server.fetch>>> =>
    server.fetch(
      `/api/v1/namespaces/demo/secrets/${name}?fieldManager=patcher`,
      { method: "PATCH", headers: { "Content-Type": "application/apply-patch+yaml" }, body: `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}}\nstringData: {k: v}\n` },
      token,
    );
  const refused = await apply("made-by-apply");
  assert.equal(refused.status, 403);
  assert.match(((await refused.json()) as { message: string }).message, /needs create as well as patch/);
  assert.equal((await server.fetch("/api/v1/namespaces/demo/secrets/made-by-apply")).status, 404, "nothing was created");
  await server.ok(["apply", "-f", "-"], "apiVersion: v1\nkind: Secret\nmetadata: {name: applied-later, namespace: demo}\nstringData: {k: old}\n");
  const patched = await apply("applied-later");
  assert.equal(patched.status, 200, await patched.text());
  const secret = (await (await server.fetch("/api/v1/namespaces/demo/secrets/applied-later")).json()) as { metadata: { managedFields?: { manager: string; operation: string }[] } };
  assert.ok(secret.metadata.managedFields?.some((m) => m.manager === "patcher" && m.operation === "Apply"), JSON.stringify(secret.metadata.managedFields));
});

void test("login: a password without a valid TOTP code does not log in; failures are audit events", async () => {
  const admin = server.mustAdmin();
  const noCode = await server.cli(["login", "--username", admin.username, "--password-stdin", "--totp", "000000"], `${admin.password}\n`);
  assert.equal(noCode.code, 1);
  assert.match(noCode.stderr, /invalid username, password or code/);
  const listed = JSON.parse(await server.ok(["audit", "list", "--user", admin.username, "--resource", "sessions", "-o", "json"])) as { items: { authentication?: { outcome: string; reason?: string } }[] };
  assert.ok(listed.items.some((e) => e.authentication?.outcome === "failure" && e.authentication.reason === "bad-totp"), JSON.stringify(listed.items.map((e) => e.authentication)));
  assert.ok(listed.items.some((e) => e.authentication?.outcome === "success"));
});

void test("can-i agrees with the server's decisions for a view user", async () => {
  const token = await userWithToken("val", "view");
  const cases: [string, string, string][] = [
    ["list", "clusters", "/apis/apps.kubeblocks.io/v1/namespaces/demo/clusters"],
    ["list", "secrets", "/api/v1/namespaces/demo/secrets"],
    ["list", "opsrequests", "/apis/operations.kubeblocks.io/v1alpha1/namespaces/demo/opsrequests"],
    ["list", "rolebindings", "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/rolebindings"],
    ["list", "users", `${AUTHN}/users`],
  ];
  for (const [verb, resource, path] of cases) {
    const answer = await asToken(token, ["auth", "can-i", verb, resource, "-n", "demo"]);
    const actual = await server.fetch(path, {}, token);
    assert.equal(answer.stdout.trim(), actual.status === 403 ? "no" : "yes", `${verb} ${resource}: can-i said ${answer.stdout.trim()}, server answered ${actual.status}`);
    assert.equal(answer.code, actual.status === 403 ? 1 : 0);
  }
  const asVal = await server.cli(["auth", "can-i", "get", "secrets", "-n", "demo", "--as", "val"]);
  assert.equal(asVal.stdout.trim(), "no");
});

void test("can-i answers about non-resource URLs (/metrics) as the server decides them", async () => {
  const viewer = await userWithToken("nora", "view");
  await server.ok(["user", "create", "prom", "-o", "json"]);
  await server.ok(["apply", "-f", "-"], "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: prom-monitoring}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}\nsubjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: prom}]\n");
  const scraper = (JSON.parse(await server.ok(["token", "create", "--name", "scrape", "--expires", "1h", "--user", "prom", "-o", "json"])) as { token: string }).token;
  for (const [token, expected] of [[viewer, "no"], [scraper, "yes"]] as const) {
    const answer = await asToken(token, ["auth", "can-i", "get", "/metrics"]);
    const actual = await server.fetch("/metrics", {}, token);
    assert.equal(answer.stdout.trim(), expected, answer.stderr);
    assert.equal(actual.status, expected === "yes" ? 200 : 403);
  }
  assert.equal((await asToken(scraper, ["auth", "can-i", "delete", "/metrics"])).stdout.trim(), "no");
  assert.equal((await server.cli(["auth", "can-i", "get", "/metrics", "--as", "nora"])).stdout.trim(), "no");
  assert.equal((await server.cli(["auth", "can-i", "get", "/metrics"])).stdout.trim(), "yes", "the administrator may");
});

void test("API tokens: listed without the secret, refused at once after revoke, refused after expiry", async () => {
  const created = JSON.parse(await server.ok(["token", "create", "--name", "ci", "--expires", "1h", "-o", "json"])) as { id: string; token: string };
  assert.equal((await asToken(created.token, ["get", "namespaces"])).code, 0);
  const list = await server.ok(["token", "list", "-o", "json"]);
  assert.ok(!list.includes(created.token), "token list never prints a token");
  assert.ok(list.includes(created.id));
  await server.ok(["token", "revoke", created.id]);
  const refused = await asToken(created.token, ["get", "namespaces"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Unauthorized|authentication required/);
  const short = (await (await server.fetch(`${AUTHN}/apitokens`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: "short", expiresInSeconds: 1 }) })).json()) as { token: string };
  assert.equal((await server.fetch("/api/v1/namespaces", {}, short.token)).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal((await server.fetch("/api/v1/namespaces", {}, short.token)).status, 401, "an expired token is refused");
});

void test("a database password never appears in the audit log, server logs, events or errors, while its reads are audited", async () => {
  await server.ok(["cluster", "create", "canary", "--engine", "redis", "-n", "demo"]);
  await server.ok(["wait", "cluster/canary", "-n", "demo", "--for=phase=Running", "--timeout=120s"]);
  const uri = await redisConnection(server, "canary", "demo");
  const password = decodeURIComponent(new URL(uri.uri).password);
  assert.ok(password.length >= 16);
  assert.equal((await redisCli(uri, "PING")).stdout.trim(), "PONG");
  // An error about that secret: a bad update of it must not echo the value.
  const bad = await server.cli(["apply", "-f", "-"], `apiVersion: v1\nkind: Secret\nmetadata: {name: canary-redis-account-default, namespace: demo}\ndata: {password: "${password}!"}\n`);
  assert.notEqual(bad.code, 0);
  const reads = JSON.parse(await server.ok(["audit", "list", "--verb", "get", "--resource", "secrets", "-o", "json"])) as { items: { objectRef?: { name?: string } }[] };
  assert.ok(reads.items.some((e) => e.objectRef?.name === "canary-redis-account-default"), "the secret read is audited");
  const events = await server.ok(["get", "events", "-n", "demo", "-o", "json"]);
  const describe = await server.ok(["describe", "cluster", "canary", "-n", "demo"]);
  const places: [string, string][] = [
    ["audit log", await readFile(join(server.home, "audit", "audit.log"), "utf8")],
    ["server log", await readFile(server.serverLog, "utf8")],
    ["events", events],
    ["describe", describe],
    ["error", bad.stdout + bad.stderr],
  ];
  for (const [where, text] of places) {
    for (const form of [password, Buffer.from(password).toString("base64")]) assert.ok(!text.includes(form), `the password appears in the ${where}`);
  }
});

void test("audit verify passes on the real log and names the record after an edit, a deletion, a reordering, a truncation", async () => {
  // A graceful stop writes a signed checkpoint; truncation behind it must be caught.
  await server.stop();
  await server.startProcess();
  assert.match(await server.ok(["audit", "verify"]), /verified/);
  const lines = (await readFile(join(server.home, "audit", "audit.log"), "utf8")).trimEnd().split("\n");
  assert.ok(lines.length > 20, `only ${lines.length} records`);
  const checkpoint = lines.findIndex((line) => line.includes('"type":"checkpoint"'));
  assert.ok(checkpoint > 4, "a checkpoint covers the first records");
  const tampered: [string, (l: string[]) => string[]][] = [
    ["edit", (l) => l.map((line, i) => (i === 5 ? line.replace(/"verb":"[a-z]+"/, '"verb":"get"').replace(/"code":\d+/, '"code":299') : line))],
    ["delete", (l) => l.filter((_, i) => i !== 5)],
    ["reorder", (l) => [...l.slice(0, 5), l[6] ?? "", l[5] ?? "", ...l.slice(7)]],
    ["truncate", (l) => l.slice(0, checkpoint - 2)],
  ];
  for (const [name, change] of tampered) {
    const copy = await mkdtemp(join(tmpdir(), `holdfast-audit-${name}-`));
    await cp(join(server.home, "audit"), join(copy, "audit"), { recursive: true });
    await cp(join(server.home, "keys"), join(copy, "keys"), { recursive: true });
    await writeFile(join(copy, "audit", "audit.log"), `${change(lines).join("\n")}\n`);
    const result = await server.cli(["audit", "verify", "--home", copy]);
    assert.equal(result.code, 1, `${name}: ${result.stdout}`);
    assert.match(result.stdout + result.stderr, /seq \d+|record \d+|checkpoint/i, name);
    await rm(copy, { recursive: true, force: true });
  }
});

void test("after secrets rotate-key and rewrap every secret reads back and no ciphertext under the old key remains", async () => {
  const before = JSON.parse(await server.ok(["secrets", "keys", "-o", "json"])) as { primaryKeyId: string };
  const secretsBefore = await server.api<{ items: { metadata: { name: string; namespace: string }; data: Record<string, string> }[] }>("/api/v1/secrets");
  assert.ok(secretsBefore.items.length > 0);
  await server.ok(["secrets", "rotate-key"]);
  await server.ok(["secrets", "rewrap"]);
  const after = JSON.parse(await server.ok(["secrets", "keys", "-o", "json"])) as { primaryKeyId: string };
  assert.notEqual(after.primaryKeyId, before.primaryKeyId);
  const secretsAfter = await server.api<typeof secretsBefore>("/api/v1/secrets");
  assert.deepEqual(secretsAfter.items.map((s) => s.data), secretsBefore.items.map((s) => s.data));
  const uri = await redisConnection(server, "canary", "demo");
  assert.equal((await redisCli(uri, "PING")).stdout.trim(), "PONG");
  const marker = `hfenc:v1:${before.primaryKeyId}:`;
  for (const file of (await readdir(server.home)).filter((f) => /^(store|auth)\.db/.test(f))) {
    const bytes = await readFile(join(server.home, file));
    assert.equal(bytes.indexOf(marker), -1, `${file} still holds a ciphertext under the old key`);
  }
});

void test("an unwritable audit log (a full filesystem) makes mutations fail with 503 and change nothing", { timeout: 180_000 }, async (t) => {
  let mounted = "";
  const full = await TestServer.start({
    beforeStart: async (home) => {
      const dir = join(home, "audit");
      await run("mkdir", ["-p", dir]);
      const mount = await run("mount", ["-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", dir]);
      if (mount.code === 0) mounted = dir;
    },
  });
  try {
    if (mounted === "") {
      t.skip("this machine does not allow mounting a small tmpfs to fill up");
      return;
    }
    await full.ok(["get", "namespaces"]);
    execFileSync("sh", ["-c", `dd if=/dev/zero of=${mounted}/filler bs=4k 2>/dev/null || true`]);
    // The log's last page may still have room for a few records; the first write that does not fit is refused.
    let refused: { name: string; stderr: string } | undefined;
    for (let i = 0; i < 50 && refused === undefined; i++) {
      const result = await full.cli(["create", "namespace", `fill-${i}`]);
      if (result.code !== 0) refused = { name: `fill-${i}`, stderr: result.stderr };
    }
    assert.ok(refused, "a write is refused once the audit log's filesystem is full");
    assert.match(refused.stderr, /ServiceUnavailable|audit log cannot be written/);
    assert.equal((await full.cli(["get", "namespace", refused.name])).code, 1, "the refused namespace does not exist");
    await rm(join(mounted, "filler"));
    await full.stop();
    await full.startProcess();
    await full.ok(["create", "namespace", "later"]);
    assert.match(await full.ok(["audit", "verify"]), /verified/);
  } finally {
    await full.kill();
    if (mounted !== "") await run("umount", ["-l", mounted]);
    await full.destroy();
  }
});
