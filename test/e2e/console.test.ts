/**
 * The web console in a real browser (issue 17, done-when 3): Debian's Chromium driven by playwright-core logs in
 * with password + TOTP, creates a Redis cluster from the form (after the API's validation message is shown next to
 * its field), sees it become Running without a reload, runs a Restart OpsRequest and sees its progress, and reads
 * the audit record of that action; a `view` user sees no secret and no write button, and the server refuses their
 * writes anyway. A screenshot of each page is saved under a temporary directory (printed).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { access, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium, type Browser, type Page } from "playwright-core";
import { base32Decode, totpAt } from "../../src/security/index.ts";
import { TestServer } from "../helpers/harness.ts";

const CHROMIUM = "/usr/bin/chromium";
const NS = "demo";
const CLUSTER = "console-cache";
/** A cluster reaches Running in seconds on an idle machine; the shared test machine can be much slower. */
const RUNNING_TIMEOUT_MS = 240_000;

const missing = await access(CHROMIUM).then(
  () => undefined,
  () => `${CHROMIUM} not found (apt-get install chromium; .ci/run installs it)`,
);
if (missing !== undefined) console.log(`# skipping the console's browser tests: ${missing}`);

let server: TestServer;
let browser: Browser;
let shots: string;
let viewer: { username: string; password: string; totpSecret: string };
let shotCount = 0;

before(async () => {
  if (missing !== undefined) return;
  server = await TestServer.start();
  await server.ok(["create", "namespace", NS]);
  viewer = JSON.parse(await server.ok(["user", "create", "viewer", "-o", "json"])) as typeof viewer;
  await server.ok(["apply", "-f", "-"], viewBinding("viewer"));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  shots = await mkdtemp(join(tmpdir(), "holdfast-console-screenshots-"));
  console.log(`# console screenshots: ${shots}`);
});

after(async () => {
  // Either may be missing when before() failed half-way.
  await (browser as Browser | undefined)?.close();
  await (server as TestServer | undefined)?.destroy();
});

function viewBinding(user: string): string {
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${user}-view, namespace: ${NS}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: ${user}}]
`;
}

/**
 * A TOTP code not used before: a code is accepted once, and the harness's CLI login used the current step; the
 * next step is accepted too, and a user signing in again waits for the step after their last.
 */
const usedSteps = new Map<string, number>();
async function freshTotp(user: { username: string; totpSecret: string }): Promise<string> {
  const current = Math.floor(Date.now() / 30_000);
  const step = Math.max(current + 1, (usedSteps.get(user.username) ?? 0) + 1);
  if (step > current + 1) await sleep((step - 1) * 30_000 - Date.now() + 100);
  usedSteps.set(user.username, step);
  return totpAt(base32Decode(user.totpSecret), step * 30_000);
}

async function screenshot(page: Page, name: string): Promise<void> {
  shotCount += 1;
  await page.screenshot({ path: join(shots, `${String(shotCount).padStart(2, "0")}-${name}.jpeg`), type: "jpeg", quality: 50 });
}

async function signIn(page: Page, user: { username: string; password: string; totpSecret: string }): Promise<void> {
  await page.goto(`${server.url}/console/`);
  await page.locator("#username").fill(user.username);
  await page.locator("#password").fill(user.password);
  await page.locator("#totp").fill(await freshTotp(user));
  await screenshot(page, `login-${user.username}`);
  await page.locator("#login button[type=submit]").click();
  await page.locator("#whoami").filter({ hasText: user.username }).waitFor();
}

void test("the console's page and files are compressed, cacheable and under a strict Content-Security-Policy", { skip: missing }, async () => {
  const page = await server.fetch("/console/", { headers: { "Accept-Encoding": "br, gzip" } }, null);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-encoding"), "br");
  assert.equal(page.headers.get("x-frame-options"), "DENY");
  const csp = page.headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const html = await page.text();
  const script = /src="(v\/[0-9a-f]+\/main\.js)"/.exec(html)?.[1];
  assert.ok(script, html);
  const file = await server.fetch(`/console/${script}`, { headers: { "Accept-Encoding": "gzip" } }, null);
  assert.equal(file.headers.get("content-encoding"), "gzip");
  assert.match(file.headers.get("cache-control") ?? "", /immutable/);
  assert.doesNotMatch(await file.text(), /: (string|number|boolean)\b[,)]/, "types are erased");
});

void test("log in, create a Redis cluster from the form, watch it run, restart it and read the audit record", { skip: missing, timeout: 600_000 }, async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 760 } });
  const page = await context.newPage();
  await signIn(page, server.mustAdmin());
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "__Host-holdfast-session");
  assert.ok(session, JSON.stringify(cookies.map((c) => c.name)));
  assert.equal(session.httpOnly, true);
  assert.equal(session.secure, true);
  assert.equal(session.sameSite, "Strict");
  assert.equal(await page.evaluate("document.cookie"), "", "scripts cannot read the session cookie");
  await page.locator("#clusters-body").waitFor();
  await screenshot(page, "clusters-empty");

  // The form: a name the API refuses shows the API's message next to the name field.
  await page.locator("#nav-create").click();
  await page.locator("#engine option[value=redis]").waitFor({ state: "attached" });
  await page.locator("#namespace").fill(NS);
  await page.locator("#name").fill("Not_A_Name");
  await page.locator("#engine").selectOption("redis");
  await page.locator("#replicas").fill("1");
  await page.locator("#create-submit").click();
  await page.locator("#error-name").filter({ hasText: /\S/ }).waitFor();
  await screenshot(page, "create-validation");
  await page.locator("#name").fill(CLUSTER);
  await page.locator("#create-submit").click();
  await page.waitForURL(`**/console/#/clusters/${NS}/${CLUSTER}`);

  // Running without a reload: a marker set in the page now is still there when the phase changes.
  await page.evaluate("document.body.dataset.marker = 'unreloaded'");
  await page.locator("#cluster-phase").filter({ hasText: "Running" }).waitFor({ timeout: RUNNING_TIMEOUT_MS });
  assert.equal(await page.evaluate("document.body.dataset.marker"), "unreloaded", "the page was not reloaded");
  await page.locator("#instances-table [data-instance]").first().waitFor();
  await screenshot(page, "cluster-running");

  // The list shows it too, live.
  await page.locator("header a[href='#/clusters']").click();
  await page.locator(`#clusters tr[data-key='${NS}/${CLUSTER}']`).filter({ hasText: "Running" }).waitFor();
  await screenshot(page, "clusters-list");

  // Restart as an OpsRequest, with its progress shown as it goes.
  await page.goto(`${server.url}/console/#/clusters/${NS}/${CLUSTER}`);
  await page.locator("#cluster-phase").filter({ hasText: "Running" }).waitFor({ timeout: RUNNING_TIMEOUT_MS });
  await page.locator("button[data-action=Restart]").click();
  const opsRow = page.locator(`#ops-table tr[data-ops^='${CLUSTER}-restart-']`);
  await opsRow.waitFor();
  const opsName = (await opsRow.getAttribute("data-ops")) ?? "";
  const phases = new Set<string>();
  const deadline = Date.now() + RUNNING_TIMEOUT_MS;
  while (!phases.has("Succeed") && Date.now() < deadline) {
    const before = phases.size;
    phases.add((await opsRow.getAttribute("data-phase")) ?? "");
    if (before === 1 && phases.size === 2) await screenshot(page, "restart-progress");
    await page.waitForTimeout(100);
  }
  assert.ok(phases.has("Succeed"), `phases seen: ${[...phases].join(", ")}`);
  assert.ok(phases.size >= 2, `the progress moved while watched: ${[...phases].join(", ")}`);
  assert.equal(await opsRow.locator("progress").getAttribute("value"), "1");
  assert.match((await opsRow.textContent()) ?? "", /1\/1/);
  await screenshot(page, "restart-done");

  // The audit record of that action, through the audit API, filtered to the OpsRequest.
  await opsRow.locator("a", { hasText: "audit" }).click();
  const created = page.locator("#audit tr[data-verb=create][data-stage=ResponseComplete]");
  await created.first().waitFor();
  const text = (await created.first().textContent()) ?? "";
  assert.ok(text.includes(server.mustAdmin().username), text);
  assert.ok(text.includes(opsName), text);
  assert.match(text, /201/);
  await screenshot(page, "audit-restart");

  await page.locator("header a[href='#/access']").click();
  await page.locator("#access tr").nth(3).waitFor();
  await screenshot(page, "access-admin");

  // Logout revokes the session: the old cookie no longer authenticates.
  await page.locator("#logout").click();
  await page.locator("#login").waitFor();
  const revoked = await server.fetch("/console/api/session", { headers: { Cookie: `${session.name}=${session.value}` } }, null);
  assert.equal(revoked.status, 401);
  await context.close();
});

void test("a cookie-authenticated write needs the session's CSRF token", { skip: missing }, async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await signIn(page, viewer);
  const answers = await page.evaluate(async (ns) => {
    const session = (await (await fetch("/console/api/session")).json()) as { csrfToken: string };
    const review = JSON.stringify({ apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: { verb: "get", resource: "secrets", namespace: ns } } });
    const path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    const json = { "Content-Type": "application/json" };
    const without = await fetch(path, { method: "POST", headers: json, body: review });
    const wrong = await fetch(path, { method: "POST", headers: { ...json, "X-CSRF-Token": "x".repeat(43) }, body: review });
    const right = await fetch(path, { method: "POST", headers: { ...json, "X-CSRF-Token": session.csrfToken }, body: review });
    return [without.status, wrong.status, right.status];
  }, NS);
  assert.deepEqual(answers, [403, 403, 201]);
  await context.close();
});

void test("a view user sees no secret and no write button, and the server refuses their writes", { skip: missing, timeout: 300_000 }, async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 760 } });
  const page = await context.newPage();
  await signIn(page, viewer);
  assert.equal(await page.locator("#nav-create").count(), 0);
  await page.goto(`${server.url}/console/#/clusters/${NS}/${CLUSTER}`);
  await page.locator("#cluster-phase").filter({ hasText: /\S/ }).waitFor();
  await page.locator("#instances-table [data-instance]").first().waitFor({ timeout: RUNNING_TIMEOUT_MS });
  await page.waitForTimeout(500);
  assert.equal(await page.locator("#actions button").count(), 0, "no action buttons");
  assert.equal(await page.locator("#reveal-secrets").count(), 0, "no secret button");
  const secrets = await server.api<{ items: { data?: Record<string, string> }[] }>(`/api/v1/namespaces/${NS}/secrets`);
  const content = await page.content();
  for (const s of secrets.items) for (const value of Object.values(s.data ?? {})) {
    const plain = Buffer.from(value, "base64").toString();
    if (plain.length >= 8) assert.ok(!content.includes(plain), "no secret value on the page");
  }
  await screenshot(page, "viewer-cluster");
  const refused = await page.evaluate(async ([ns, name]) => {
    const session = (await (await fetch("/console/api/session")).json()) as { csrfToken: string };
    const headers = { "Content-Type": "application/json", "X-CSRF-Token": session.csrfToken };
    const ops = { apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "viewer-restart", namespace: ns }, spec: { clusterName: name, type: "Restart", restart: [{ componentName: "redis" }] } };
    const write = await fetch(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${ns}/opsrequests`, { method: "POST", headers, body: JSON.stringify(ops) });
    const read = await fetch(`/api/v1/namespaces/${ns}/secrets`);
    return [write.status, read.status];
  }, [NS, CLUSTER] as const);
  assert.deepEqual(refused, [403, 403]);
  await page.locator("header a[href='#/access']").click();
  await page.locator("#access tr").nth(3).waitFor();
  await screenshot(page, "viewer-access");
  await context.close();
});
