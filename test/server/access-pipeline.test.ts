// The security pipeline in front of the API, over real HTTPS: authentication, RBAC, audit records, login, tokens.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EngineCatalog, builtinEngines } from "../../src/engines/index.ts";
import { base32Decode, totpAt, readAuditRecords, type AuditRecord } from "../../src/security/index.ts";
import { createApiServer, type ApiServer } from "../../src/server/index.ts";
import { openSqliteStore, type Store } from "../../src/store/index.ts";
import { silentLogger } from "../../src/util/index.ts";
import { openSecureApi, type SecureApi } from "../helpers/secure-api.ts";

const AUTHN = "/apis/authentication.holdfast.io/v1alpha1";
const RBAC = "/apis/rbac.authorization.k8s.io/v1";
const CLUSTERS = "/apis/apps.kubeblocks.io/v1/namespaces/demo/clusters";

let home: string;
let store: Store;
let secure: SecureApi;
let server: ApiServer;
let base: string;

interface Reply {
  status: number;
  headers: { get(name: string): string | null };
  body: Record<string, unknown>;
}

async function call(method: string, path: string, token: string | null, body?: unknown): Promise<Reply> {
  const init = body === undefined ? { method } : { method, body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
  const response = await secure.fetch(`${base}${path}`, init, token);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : { text } };
}

async function events(): Promise<Extract<AuditRecord, { type: "event" }>[]> {
  const found: Extract<AuditRecord, { type: "event" }>[] = [];
  for await (const record of readAuditRecords({ directory: secure.auditDirectory })) if (record.type === "event") found.push(record);
  return found;
}

/** A user with an API token, bound to `clusterRole` in `namespace` (or cluster-wide), or to nothing. */
async function userWith(name: string, clusterRole?: string, namespace?: string): Promise<string> {
  await secure.auth.createUser({ username: name });
  if (clusterRole !== undefined) {
    const binding = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: namespace === undefined ? "ClusterRoleBinding" : "RoleBinding",
      metadata: namespace === undefined ? { name: `${name}-${clusterRole}` } : { name: `${name}-${clusterRole}`, namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
      subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name }],
    };
    const path = namespace === undefined ? `${RBAC}/clusterrolebindings` : `${RBAC}/namespaces/${namespace}/rolebindings`;
    const created = await call("POST", path, secure.adminToken, binding);
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
  return (await secure.auth.createToken({ username: name, name: "test", expiresInSeconds: 600 })).token;
}

before(async () => {
  home = mkdtempSync(join(tmpdir(), "holdfast-access-"));
  store = openSqliteStore({ path: join(home, "store.db") });
  secure = await openSecureApi(home, store);
  server = createApiServer({ store, engines: new EngineCatalog(builtinEngines()), logger: silentLogger(), version: "0.1.0", ...secure.serverOptions });
  base = (await server.listen("127.0.0.1", 0)).url;
  assert.equal((await call("POST", "/api/v1/namespaces", secure.adminToken, { apiVersion: "v1", kind: "Namespace", metadata: { name: "demo" } })).status, 201);
});

after(async () => {
  await server.close();
  await secure.close();
  store.close();
  rmSync(home, { recursive: true, force: true });
});

void test("every API path except health and login answers 401 with a Status without credentials, and each is audited", async () => {
  const paths: [string, string][] = [
    ["GET", "/version"],
    ["GET", "/api"],
    ["GET", "/apis"],
    ["GET", "/api/v1/namespaces"],
    ["GET", "/api/v1/namespaces/demo/secrets"],
    ["GET", CLUSTERS],
    ["POST", CLUSTERS],
    ["DELETE", `${CLUSTERS}/pg`],
    ["GET", `${AUTHN}/users`],
    ["GET", `${AUTHN}/whoami`],
    ["GET", `${AUTHN}/apitokens`],
    ["POST", `${AUTHN}/logout`],
    ["POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"],
    ["GET", "/apis/audit.holdfast.io/v1alpha1/auditevents"],
    ["POST", "/apis/security.holdfast.io/v1alpha1/keyring/rotate"],
    ["GET", "/no/such/path"],
  ];
  const before = (await events()).length;
  for (const [method, path] of paths) {
    for (const token of [null, "hfat_not-a-real-token", "hfs_bogus"]) {
      const reply = await call(method, path, token);
      assert.equal(reply.status, 401, `${method} ${path} with ${String(token)}`);
      assert.equal(reply.body["kind"], "Status");
      assert.equal(reply.body["reason"], "Unauthorized");
    }
  }
  const failures = (await events()).slice(before).filter((e) => e.authentication?.outcome === "failure" && e.responseStatus.code === 401);
  assert.equal(failures.length, paths.length * 3);
  assert.equal((await call("GET", "/healthz", null)).status, 200);
  const login = await call("POST", `${AUTHN}/login`, null, {});
  assert.equal(login.status, 400, "login is reachable without credentials and validates its body");
});

void test("security headers are on every response; the server speaks TLS 1.2 or newer only", async () => {
  const reply = await call("GET", "/version", secure.adminToken);
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get("strict-transport-security") ?? "", /max-age=\d+/);
  assert.equal(reply.headers.get("x-content-type-options"), "nosniff");
  assert.equal(reply.headers.get("cache-control"), "no-store");
  assert.equal(reply.headers.get("x-frame-options"), "DENY");
  const { connect } = await import("node:tls");
  const url = new URL(base);
  const refused = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), maxVersion: "TLSv1.1", minVersion: "TLSv1", rejectUnauthorized: false }, () => {
      socket.end();
      resolve(false);
    });
    socket.on("error", () => resolve(true));
  });
  assert.ok(refused, "a TLS 1.1 handshake must be refused");
});

/** A login; a throttled attempt (429) waits as told and tries again, so each call is one judged attempt. */
async function login(body: Record<string, unknown>): Promise<Reply> {
  for (;;) {
    const reply = await call("POST", `${AUTHN}/login`, null, body);
    if (reply.status !== 429) return reply;
    await new Promise((resolve) => setTimeout(resolve, Number(reply.headers.get("retry-after") ?? "1") * 1000));
  }
}

void test("login needs the password and a valid TOTP code; a code is accepted once, also when two requests race", async () => {
  const user = await secure.auth.createUser({ username: "carol" });
  const secret = base32Decode(user.totpSecret);
  assert.equal((await login({ username: "carol", password: user.password })).status, 401);
  const wrong = totpAt(secret, Date.now()) === "000000" ? "111111" : "000000";
  assert.equal((await login({ username: "carol", password: user.password, totp: wrong })).status, 401);
  const code = totpAt(secret, Date.now());
  const ok = await login({ username: "carol", password: user.password, totp: code });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const session = String(ok.body["token"]);
  assert.match(session, /^hfs_/);
  assert.equal((await call("GET", `${AUTHN}/whoami`, session)).body["username"], "carol");
  assert.equal((await login({ username: "carol", password: user.password, totp: code })).status, 401, "a code once accepted is refused");
  // The next step's code is valid now (±1 step); two logins race with it and exactly one wins.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const next = totpAt(secret, Date.now() + 30_000);
  const raced = await Promise.all([0, 1].map(() => call("POST", `${AUTHN}/login`, null, { username: "carol", password: user.password, totp: next })));
  assert.equal(raced.filter((r) => r.status === 200).length, 1, `statuses ${raced.map((r) => r.status).join(",")}`);
  assert.equal((await call("POST", `${AUTHN}/logout`, session)).status, 200);
  assert.equal((await call("GET", `${AUTHN}/whoami`, session)).status, 401, "a logged-out session is refused");
  const attempts = (await events()).filter((e) => e.objectRef?.resource === "sessions" && e.stage === "ResponseComplete" && e.user.username === "carol");
  const reasons = new Set(attempts.map((e) => e.authentication?.reason ?? e.authentication?.outcome));
  for (const reason of ["totp-required", "bad-totp", "totp-replayed", "success"]) assert.ok(reasons.has(reason), `an audit record of ${reason}; got ${[...reasons].join(", ")}`);
  assert.ok(!readFileSync(join(secure.auditDirectory, "audit.log"), "utf8").includes(user.password), "the password is never recorded");
});

void test("RBAC: no binding is denied (403, audited); view reads but cannot read secrets or write; edit cannot change RBAC", async () => {
  const nobody = await userWith("nobody");
  const denied = await call("GET", CLUSTERS, nobody);
  assert.equal(denied.status, 403);
  assert.match(String(denied.body["message"]), /cannot list clusters/);
  const record = (await events()).findLast((e) => e.user.username === "nobody");
  assert.ok(record, "the denial is an audit event");
  assert.equal(record.annotations?.["authorization.k8s.io/decision"], "forbid");
  assert.equal(record.responseStatus.code, 403);

  const viewer = await userWith("viewer", "view", "demo");
  assert.equal((await call("GET", CLUSTERS, viewer)).status, 200);
  assert.equal((await call("GET", "/api/v1/namespaces/demo/secrets", viewer)).status, 403);
  assert.equal((await call("GET", "/api/v1/namespaces/default/clusters", viewer)).status, 404);
  assert.equal((await call("GET", "/apis/apps.kubeblocks.io/v1/namespaces/default/clusters", viewer)).status, 403, "a RoleBinding grants only in its namespace");
  assert.equal((await call("POST", CLUSTERS, viewer, { metadata: { name: "x" } })).status, 403);

  const editor = await userWith("editor", "edit", "demo");
  const role = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "sneaky", namespace: "demo" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" }, subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "editor" }] };
  assert.equal((await call("POST", `${RBAC}/namespaces/demo/rolebindings`, editor, role)).status, 403);
});

void test("escalation: a namespace admin cannot bind cluster-admin or write a role with rules they lack", async () => {
  const admin = await userWith("nsadmin", "admin", "demo");
  const bindClusterAdmin = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "grab", namespace: "demo" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" }, subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "nsadmin" }] };
  const refused = await call("POST", `${RBAC}/namespaces/demo/rolebindings`, admin, bindClusterAdmin);
  assert.equal(refused.status, 403, JSON.stringify(refused.body));
  const wide = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "wide", namespace: "demo" }, rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }] };
  assert.equal((await call("POST", `${RBAC}/namespaces/demo/roles`, admin, wide)).status, 403);
  const narrow = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "narrow", namespace: "demo" }, rules: [{ apiGroups: ["apps.kubeblocks.io"], resources: ["clusters"], verbs: ["get"] }] };
  assert.equal((await call("POST", `${RBAC}/namespaces/demo/roles`, admin, narrow)).status, 201, "rules the author holds may be granted");
});

void test("access reviews agree with the server's decisions", async () => {
  const viewer = (await secure.auth.createToken({ username: "viewer", name: "review", expiresInSeconds: 600 })).token;
  const ask = async (verb: string, resource: string, group: string, namespace: string): Promise<boolean> => {
    const review = { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: { verb, resource, group, namespace } } };
    const reply = await call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", viewer, review);
    return (reply.body["status"] as { allowed: boolean }).allowed;
  };
  assert.equal(await ask("list", "clusters", "apps.kubeblocks.io", "demo"), (await call("GET", CLUSTERS, viewer)).status === 200);
  assert.equal(await ask("list", "secrets", "", "demo"), (await call("GET", "/api/v1/namespaces/demo/secrets", viewer)).status === 200);
  assert.equal(await ask("create", "clusters", "apps.kubeblocks.io", "demo"), false);
  const about = { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec: { user: "viewer", resourceAttributes: { verb: "list", resource: "clusters", group: "apps.kubeblocks.io", namespace: "demo" } } };
  assert.equal((await call("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", viewer, about)).status, 403, "asking about others needs permission");
  const answered = await call("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", secure.adminToken, about);
  assert.equal((answered.body["status"] as { allowed: boolean }).allowed, true);
});

void test("API tokens: created by their owner, used, listed without the secret, revoked at once, expired refused", async () => {
  const session = await userWith("dave", "view", "demo");
  const created = await call("POST", `${AUTHN}/apitokens`, session, { name: "ci", expiresInSeconds: 3600 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const token = String(created.body["token"]);
  assert.match(token, /^hfat_/);
  assert.equal((await call("GET", CLUSTERS, token)).status, 200);
  const listed = await call("GET", `${AUTHN}/apitokens`, token);
  const text = JSON.stringify(listed.body);
  assert.ok(!text.includes(token) && !text.includes(token.slice(5, 25)), "a listing never holds the token");
  const mine = (listed.body["items"] as { id: string; name: string; lastUsedAt?: string }[]).find((t) => t.id === created.body["id"]);
  assert.ok(mine?.lastUsedAt, "last use is recorded");
  assert.equal((await call("GET", `${AUTHN}/apitokens?username=admin`, token)).status, 403, "another user's tokens need RBAC");
  assert.equal((await call("POST", `${AUTHN}/apitokens`, token, { name: "x", expiresInSeconds: 60, username: "admin" })).status, 403);
  assert.equal((await call("DELETE", `${AUTHN}/apitokens/${String(created.body["id"])}`, session)).status, 200);
  assert.equal((await call("GET", CLUSTERS, token)).status, 401, "refused at once after revoke");
});

void test("a canary secret value never reaches the audit log, while its reads are audited", async () => {
  const canary = "canary-9f3b2e7d41c6a8";
  const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "canary", namespace: "demo" }, stringData: { password: canary } };
  assert.equal((await call("POST", "/api/v1/namespaces/demo/secrets", secure.adminToken, secret)).status, 201);
  const read = await call("GET", "/api/v1/namespaces/demo/secrets/canary", secure.adminToken);
  assert.equal(read.status, 200);
  const reads = (await events()).filter((e) => e.verb === "get" && e.objectRef?.resource === "secrets" && e.objectRef.name === "canary");
  assert.equal(reads.length, 1);
  assert.equal(reads[0]?.level, "Metadata");
  const log = readFileSync(join(secure.auditDirectory, "audit.log"), "utf8");
  for (const form of [canary, Buffer.from(canary).toString("base64"), Buffer.from(canary).toString("base64url")]) assert.ok(!log.includes(form), `audit log holds ${form}`);
});

void test("when the audit log cannot be written, writes fail with 503 and change nothing; reads are refused too", async () => {
  let failing = false;
  const dir = mkdtempSync(join(tmpdir(), "holdfast-audit-down-"));
  const { AuditLog } = await import("../../src/security/index.ts");
  const { homePaths } = await import("../../src/config/index.ts");
  const paths = homePaths(dir);
  const { openAuditFile } = await import("../../src/security/audit/log-file.ts");
  const audit = await AuditLog.open({
    directory: paths.auditDir,
    signingKeyFile: paths.auditSigningKey,
    hmacKeyFile: paths.auditHmacKey,
    openFile: async (path) => {
      const file = await openAuditFile(path);
      return { ...file, write: (data) => (failing ? Promise.reject(Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" })) : file.write(data)) };
    },
  });
  const options = { ...secure.serverOptions, access: { ...secure.serverOptions.access, audit } };
  const down = createApiServer({ store, engines: new EngineCatalog(builtinEngines()), logger: silentLogger(), version: "0.1.0", ...options });
  const { url } = await down.listen("127.0.0.1", 0);
  try {
    failing = true;
    const created = await secure.fetch(`${url}/api/v1/namespaces`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "never" } }) });
    assert.equal(created.status, 503);
    assert.equal(((await created.json()) as { reason: string }).reason, "ServiceUnavailable");
    assert.equal(await store.get({ kind: "Namespace", name: "never" }), undefined, "nothing changed");
    const read = await secure.fetch(`${url}/api/v1/namespaces/demo/secrets/canary`);
    assert.equal(read.status, 503);
    assert.ok(!(await read.text()).includes("canary-"));
  } finally {
    failing = false;
    await down.close();
    await audit.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("repeated wrong passwords slow down (1 s, 2 s, 4 s ...) and lock after 10 as documented; each failure is an audit event", async () => {
  const { AuthService, loadOrCreateKeyring } = await import("../../src/security/index.ts");
  let clock = Date.parse("2026-01-01T00:00:00Z");
  const auth = await AuthService.open({ path: join(home, "throttle-auth.db"), keyring: await loadOrCreateKeyring(join(home, "throttle-keyring.json")), now: () => clock });
  const throttled = createApiServer({ store, engines: new EngineCatalog(builtinEngines()), logger: silentLogger(), version: "0.1.0", ...secure.serverOptions, access: { ...secure.serverOptions.access, auth } });
  const { url } = await throttled.listen("127.0.0.1", 0);
  const attempt = async (body: Record<string, unknown>): Promise<Reply> => {
    const response = await secure.fetch(`${url}${AUTHN}/login`, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }, null);
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  };
  try {
    const erin = await auth.createUser({ username: "erin" });
    const retryAfter: number[] = [];
    for (let failure = 1; failure <= 10; failure++) {
      const wrong = await attempt({ username: "erin", password: "not the password at all", totp: "123456" });
      assert.equal(wrong.status, 401, `failure ${failure}`);
      const early = await attempt({ username: "erin", password: erin.password, totp: totpAt(base32Decode(erin.totpSecret), clock) });
      assert.equal(early.status, 429, `an attempt before the delay is over is refused (after failure ${failure})`);
      const seconds = Number(early.headers.get("retry-after"));
      retryAfter.push(seconds);
      clock += seconds * 1000;
    }
    assert.deepEqual(retryAfter, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
    // The 10th failure locked the account for 15 minutes: the right password and code are refused (401, like any
    // failure, so the answer does not tell an attacker about the lock) and the refusal is audited as "locked".
    const locked = await attempt({ username: "erin", password: erin.password, totp: totpAt(base32Decode(erin.totpSecret), clock) });
    assert.equal(locked.status, 401);
    clock += 15 * 60_000;
    const unlocked = await attempt({ username: "erin", password: erin.password, totp: totpAt(base32Decode(erin.totpSecret), clock) });
    assert.equal(unlocked.status, 200, JSON.stringify(unlocked.body));
    const failures = (await events()).filter((e) => e.user.username === "erin" && e.stage === "ResponseComplete" && e.authentication?.outcome === "failure");
    assert.equal(failures.filter((e) => e.authentication?.reason === "bad-password").length, 10, "each wrong password is an audit event");
    assert.equal(failures.filter((e) => e.authentication?.reason === "locked").length, 1, "the attempt during the lock is recorded as such");
    assert.ok(failures.filter((e) => e.responseStatus.code === 429).length >= 10, "each throttled attempt is an audit event too");
  } finally {
    await throttled.close();
    auth.close();
  }
});
