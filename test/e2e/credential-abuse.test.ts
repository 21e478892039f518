/**
 * Credentials used against other users, end to end through the real server and CLI: minting an API token for
 * someone with more permissions, chaining a short-lived token into a long-lived one, tokens outliving the session
 * that made them, and failed logins for made-up names from 127.0.0.1 keeping a real user out.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { base32Decode, totpAt } from "../../src/security/index.ts";
import { REPO, run, TestServer, type CliResult } from "../helpers/harness.ts";

let server: TestServer;
const AUTHN = "/apis/authentication.holdfast.io/v1alpha1";
const TOKENS = `${AUTHN}/apitokens`;

before(async () => {
  server = await TestServer.start();
  await server.ok(["create", "namespace", "demo"]);
});

after(async () => {
  await server.destroy();
});

interface NewUser {
  password: string;
  totpSecret: string;
}

/** A user bound to ClusterRole `role` in demo (or cluster-wide with `cluster`), and an API token for them made by the administrator. */
async function userWithToken(name: string, role: string, scope: "demo" | "cluster" = "demo"): Promise<{ user: NewUser; token: string }> {
  const user = JSON.parse(await server.ok(["user", "create", name, "-o", "json"])) as NewUser;
  const binding =
    scope === "cluster"
      ? `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ${name}-${role}}\n`
      : `apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: ${name}-${role}, namespace: demo}\n`;
  await server.ok(["apply", "-f", "-"], `${binding}roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${role}}\nsubjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: ${name}}]\n`);
  const token = (JSON.parse(await server.ok(["token", "create", "--name", "e2e", "--expires", "1h", "--user", name, "-o", "json"])) as { token: string }).token;
  return { user, token };
}

function asToken(token: string, args: string[]): Promise<CliResult> {
  return run(join(REPO, "bin", "holdfast"), args, { env: { ...process.env, HOLDFAST_HOME: server.home, HOLDFAST_SERVER: server.url, HOLDFAST_TOKEN: token } });
}

async function mint(bearer: string, body: { name: string; expiresInSeconds: number; username?: string }): Promise<{ status: number; body: { token?: string; id?: string; expiresAt?: string; message?: string } }> {
  const response = await server.fetch(TOKENS, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }, bearer);
  return { status: response.status, body: (await response.json()) as { token?: string; id?: string; expiresAt?: string; message?: string } };
}

async function statusWith(bearer: string, path = "/api/v1/namespaces/demo/events"): Promise<number> {
  return (await server.fetch(path, {}, bearer)).status;
}

void test("holding create apitokens is not enough to mint a token for someone who holds more; impersonate or holding all of it is", async () => {
  await server.ok(["apply", "-f", "-"], "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: token-minter}\nrules: [{apiGroups: [authentication.holdfast.io], resources: [apitokens], verbs: [create, list]}]\n");
  const mallory = await userWithToken("mallory", "token-minter", "cluster");
  const admin = server.mustAdmin().username;
  const forAdmin = await mint(mallory.token, { name: "root", expiresInSeconds: 3600, username: admin });
  assert.equal(forAdmin.status, 403, JSON.stringify(forAdmin.body));
  assert.equal(forAdmin.body.token, undefined);
  assert.match(forAdmin.body.message ?? "", /cannot act as user/);
  const viewer = await userWithToken("victor", "view");
  assert.equal((await mint(mallory.token, { name: "v", expiresInSeconds: 60, username: "victor" })).status, 403, "victor's view in demo is more than mallory holds there");
  // Through the CLI too, as users run it.
  const cli = await asToken(mallory.token, ["token", "create", "--name", "root", "--expires", "1h", "--user", admin]);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /Forbidden|cannot act as user/);
  // An explicit grant to impersonate victor is enough.
  await server.ok(["apply", "-f", "-"], "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: impersonate-victor}\nrules: [{apiGroups: [''], resources: [users], verbs: [impersonate], resourceNames: [victor]}]\n");
  await server.ok(["apply", "-f", "-"], "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: mallory-impersonates-victor}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: impersonate-victor}\nsubjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: mallory}]\n");
  const forVictor = await mint(mallory.token, { name: "v", expiresInSeconds: 60, username: "victor" });
  assert.equal(forVictor.status, 201, JSON.stringify(forVictor.body));
  assert.equal(await statusWith(forVictor.body.token ?? "", "/api/v1/namespaces/demo/events"), 200);
  assert.equal(await statusWith(viewer.token, "/api/v1/namespaces/demo/events"), 200);
});

void test("a token made with a short-lived token expires with it, and dies when it is revoked", async () => {
  const { token: carol } = await userWithToken("carol", "view");
  const short = await mint(carol, { name: "short", expiresInSeconds: 2 });
  assert.equal(short.status, 201);
  const chained = await mint(short.body.token ?? "", { name: "long", expiresInSeconds: 365 * 86400 });
  assert.equal(chained.status, 201, JSON.stringify(chained.body));
  assert.ok(Date.parse(chained.body.expiresAt ?? "") <= Date.parse(short.body.expiresAt ?? ""), `${chained.body.expiresAt} is after ${short.body.expiresAt}`);
  await sleep(2500);
  assert.equal(await statusWith(chained.body.token ?? ""), 401, "the chained token expired with its parent");

  const parent = await mint(carol, { name: "parent", expiresInSeconds: 600 });
  const child = await mint(parent.body.token ?? "", { name: "child", expiresInSeconds: 3600 });
  const grandchild = await mint(child.body.token ?? "", { name: "grandchild", expiresInSeconds: 3600 });
  assert.equal(await statusWith(grandchild.body.token ?? ""), 200);
  const revoked = await asToken(carol, ["token", "revoke", parent.body.id ?? ""]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal(await statusWith(child.body.token ?? ""), 401, "revoking a token revokes what it made");
  assert.equal(await statusWith(grandchild.body.token ?? ""), 401, "to any depth");
  assert.equal(await statusWith(carol), 200, "the token that made the revoked one is untouched");
});

/** Log in over the API (a session for `name`), as the CLI does. */
async function loginAs(name: string, user: NewUser, step: number): Promise<string> {
  const totp = totpAt(base32Decode(user.totpSecret), step * 30_000);
  const response = await server.fetch(`${AUTHN}/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: name, password: user.password, totp }) }, null);
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { token: string }).token;
}

void test("tokens made in a session are revoked when it is logged out, or when the user's password changes", async () => {
  const { user } = await userWithToken("dave", "view");
  const step = Math.floor(Date.now() / 30_000);
  const session = await loginAs("dave", user, step);
  const made = await mint(session, { name: "ci", expiresInSeconds: 30 * 86400 });
  assert.equal(made.status, 201);
  assert.equal(await statusWith(made.body.token ?? ""), 200);
  assert.equal((await server.fetch(`${AUTHN}/logout`, { method: "POST" }, session)).status, 200);
  assert.equal(await statusWith(made.body.token ?? ""), 401, "logging out revoked the token made in that session");

  const second = await loginAs("dave", user, step + 1);
  const again = await mint(second, { name: "ci", expiresInSeconds: 30 * 86400 });
  await server.ok(["user", "set-password", "dave"]);
  assert.equal(await statusWith(again.body.token ?? ""), 401, "a password change revoked it");
});

void test("failed logins for made-up names from 127.0.0.1 never keep a real user's correct password and TOTP out; guessing that user's password is still slowed", async () => {
  const erin = JSON.parse(await server.ok(["user", "create", "erin", "-o", "json"])) as NewUser;
  const attempt = (username: string, password: string): ReturnType<TestServer["fetch"]> =>
    server.fetch(`${AUTHN}/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username, password, totp: "000000" }) }, null);
  // A patient attacker on the same host: it waits out every Retry-After, so each failure counts.
  let failures = 0;
  for (let i = 0; failures < 4; i++) {
    const response = await attempt(`made-up-${i}`, "guess");
    if (response.status === 401) failures++;
    else if (response.status === 429) await sleep(Number(response.headers.get("retry-after")) * 1000);
    else assert.fail(`unexpected ${response.status}`);
  }
  assert.equal((await attempt("made-up-next", "guess")).status, 429, "the made-up names are throttled");
  const login = await server.cli(["login", "--username", "erin", "--password-stdin", "--totp", totpAt(base32Decode(erin.totpSecret), Date.now())], `${erin.password}\n`);
  assert.equal(login.code, 0, `erin's correct login was refused: ${login.stderr}`);
  assert.equal((await server.ok(["auth", "whoami", "-o", "json"])).includes('"erin"'), true);

  // Guessing erin's password from the same address is still slowed after the first failure.
  assert.equal((await attempt("erin", "wrong guess")).status, 401);
  const second = await attempt("erin", "wrong guess");
  assert.equal(second.status, 429);
  assert.ok(Number(second.headers.get("retry-after")) >= 1);
  const admin = server.mustAdmin();
  await server.login(admin.username, admin.password, admin.totpSecret);
});
