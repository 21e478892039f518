/**
 * The web console's weight and speed (issue 17, done-when 4), in Debian's Chromium driven by playwright-core:
 *  1. first load: the bytes on the wire (compressed, headers included) of every resource the clusters page needs —
 *     the page, its modules and styles, and the API answers — in a fresh browser context (empty cache); goal < 300 KB;
 *  2. a list of 100 clusters (created through the API, stopped so no database runs): milliseconds from navigation to
 *     the 100th row in the document, measured in the page; goal < 500 ms. Median of RUNS fresh contexts.
 */
import { access } from "node:fs/promises";
import { chromium, type Browser, type BrowserContext } from "playwright-core";
import { base32Decode, totpAt } from "../src/security/index.ts";
import { eventually, TestServer } from "../test/helpers/harness.ts";
import { median } from "./stats.ts";

const CHROMIUM = "/usr/bin/chromium";
const CLUSTERS = Number(process.env["BENCH_CONSOLE_CLUSTERS"] ?? 100);
const RUNS = Number(process.env["BENCH_CONSOLE_RUNS"] ?? 5);
const NS = "bench";
const WEIGHT_GOAL_BYTES = 300 * 1024;
const RENDER_GOAL_MS = 500;

export async function consoleBenchmark(): Promise<void> {
  if (!(await access(CHROMIUM).then(() => true, () => false))) {
    console.log(`console: skipped, ${CHROMIUM} not found (apt-get install chromium)`);
    return;
  }
  const server = await TestServer.start();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  try {
    await server.ok(["create", "namespace", NS]);
    await createClusters(server);
    await settled(server);
    const cookie = await sessionCookie(server);
    const weights: { total: number; files: number; api: number }[] = [];
    const renders: number[] = [];
    await measure(browser, server, cookie); // warm up the server's JIT and the store's caches
    for (let run = 0; run < RUNS; run += 1) {
      const result = await measure(browser, server, cookie);
      weights.push(result.weight);
      renders.push(result.renderMs);
    }
    report(weights, renders);
  } finally {
    await browser.close();
    await server.destroy();
  }
}

/** Stopped standalone Redis clusters: objects in the store, no processes. */
async function createClusters(server: TestServer): Promise<void> {
  const batch = 10;
  for (let start = 0; start < CLUSTERS; start += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, CLUSTERS - start) }, async (_, i) => {
        const name = `bench-${String(start + i).padStart(3, "0")}`;
        const body = JSON.stringify({
          apiVersion: "apps.kubeblocks.io/v1",
          kind: "Cluster",
          metadata: { name, namespace: NS },
          spec: { terminationPolicy: "Delete", clusterDef: "redis", topology: "standalone", componentSpecs: [{ name: "redis", replicas: 1, stop: true }] },
        });
        const response = await server.fetch(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
        if (response.status !== 201) throw new Error(`creating ${name}: HTTP ${response.status} ${await response.text()}`);
      }),
    );
  }
}

/** Wait until the controllers have given every cluster a phase, so the measured loads do not compete with them. */
async function settled(server: TestServer): Promise<void> {
  await eventually(
    "every cluster has a phase",
    async () => {
      const list = await server.api<{ items: { status?: { phase?: string } }[] }>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters`);
      return list.items.length === CLUSTERS && list.items.every((c) => c.status?.phase !== undefined) ? true : undefined;
    },
    600_000,
  );
}

/** Log in through the console's login (password + TOTP) and keep its cookie for the browser contexts. */
async function sessionCookie(server: TestServer): Promise<{ name: string; value: string; url: string }> {
  const admin = server.mustAdmin();
  const totp = totpAt(base32Decode(admin.totpSecret), (Math.floor(Date.now() / 30_000) + 1) * 30_000);
  const response = await server.fetch("/console/api/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: admin.username, password: admin.password, totp }) }, null);
  const header = response.headers.get("set-cookie") ?? "";
  const match = /^([^=]+)=([^;]+)/.exec(header);
  if (response.status !== 200 || match?.[1] === undefined || match[2] === undefined) throw new Error(`console login: HTTP ${response.status} ${await response.text()}`);
  return { name: match[1], value: match[2], url: server.url };
}

interface Measured {
  weight: { total: number; files: number; api: number };
  renderMs: number;
}

async function measure(browser: Browser, server: TestServer, cookie: { name: string; value: string; url: string }): Promise<Measured> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  try {
    await context.addCookies([{ ...cookie, secure: true, httpOnly: true, sameSite: "Strict" }]);
    const weight = watchWeight(context);
    const page = await context.newPage();
    // Installed by the browser (not the page, whose policy forbids inline script): the time the Nth row appears.
    await page.addInitScript(renderProbe(CLUSTERS));
    await page.goto(`${server.url}/console/#/clusters`, { waitUntil: "commit", timeout: 120_000 });
    await page.waitForSelector("html[data-rendered]", { timeout: 120_000 });
    const renderMs = Number(await page.evaluate("document.documentElement.dataset.rendered"));
    await page.waitForLoadState("networkidle").catch(() => undefined);
    return { weight: weight.read(), renderMs };
  } finally {
    await context.close();
  }
}

/** A script the browser runs before the page's own: it notes performance.now() when the Nth cluster row exists. */
function renderProbe(count: number): string {
  return `new MutationObserver((_, observer) => {
    if (document.querySelectorAll("#clusters tbody tr").length >= ${count}) {
      document.documentElement.dataset.rendered = String(performance.now());
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });`;
}

/** Bytes received per resource (encodedDataLength: compressed, with headers), split into files and API answers. */
function watchWeight(context: BrowserContext): { read(): { total: number; files: number; api: number } } {
  const bytes = new Map<string, { url: string; length: number }>();
  context.on("page", (page) => {
    void context.newCDPSession(page).then(async (cdp) => {
      cdp.on("Network.requestWillBeSent", (event) => bytes.set(event.requestId, { url: event.request.url, length: 0 }));
      cdp.on("Network.dataReceived", (event) => {
        const entry = bytes.get(event.requestId);
        if (entry) entry.length += event.encodedDataLength;
      });
      cdp.on("Network.responseReceived", (event) => {
        const entry = bytes.get(event.requestId);
        if (entry) entry.length += event.response.encodedDataLength;
      });
      cdp.on("Network.loadingFinished", (event) => {
        const entry = bytes.get(event.requestId);
        if (entry) entry.length = Math.max(entry.length, event.encodedDataLength);
      });
      await cdp.send("Network.enable");
    });
  });
  return {
    read: () => {
      const files = [...bytes.values()].filter((b) => new URL(b.url).pathname.startsWith("/console/") && !new URL(b.url).pathname.startsWith("/console/api/"));
      const fileBytes = files.reduce((sum, b) => sum + b.length, 0);
      const total = [...bytes.values()].reduce((sum, b) => sum + b.length, 0);
      return { total, files: fileBytes, api: total - fileBytes };
    },
  };
}

function report(weights: readonly { total: number; files: number; api: number }[], renders: readonly number[]): void {
  const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
  const heaviest = weights.reduce((a, b) => (b.total > a.total ? b : a), { total: 0, files: 0, api: 0 });
  const render = median(renders);
  console.log(`console: first load of the clusters page with ${CLUSTERS} clusters, fresh browser context each of ${RUNS} runs (Chromium, loopback)`);
  console.log(`  transfer, compressed  ${kb(heaviest.total).padStart(10)}  (page and modules ${kb(heaviest.files)}, API ${kb(heaviest.api)})  goal < ${kb(WEIGHT_GOAL_BYTES)}  ${heaviest.total < WEIGHT_GOAL_BYTES ? "ok" : "OVER"}`);
  console.log(`  ${CLUSTERS} rows rendered     ${`${render.toFixed(0)} ms`.padStart(10)}  (median; runs: ${renders.map((r) => r.toFixed(0)).join(", ")} ms)  goal < ${RENDER_GOAL_MS} ms  ${render < RENDER_GOAL_MS ? "ok" : "OVER"}`);
}
