// The API server's transport over real TLS: slow clients are cut off on time, and TLS 1.2 offers only AEAD suites.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { homePaths } from "../../src/config/index.ts";
import { EngineCatalog, builtinEngines } from "../../src/engines/index.ts";
import { readServingMaterial } from "../../src/security/index.ts";
import { createApiServer, type ApiServer } from "../../src/server/index.ts";
import { openSqliteStore, type Store } from "../../src/store/index.ts";
import { silentLogger } from "../../src/util/index.ts";
import { openSecureApi, type SecureApi } from "../helpers/secure-api.ts";
import { sendSlowly, slowBody, slowHeaders } from "../helpers/slow-client.ts";

const HEADERS_MS = 1_000;
const REQUEST_MS = 2_500;

let home: string;
let store: Store;
let secure: SecureApi;
let server: ApiServer;
let base: string;
let ca: string;

before(async () => {
  home = mkdtempSync(join(tmpdir(), "holdfast-transport-"));
  store = openSqliteStore({ path: join(home, "store.db") });
  secure = await openSecureApi(home, store);
  ca = (await readServingMaterial(homePaths(home).tls)).ca;
  const options = { store, engines: new EngineCatalog(builtinEngines()), logger: silentLogger(), version: "0.1.0", ...secure.serverOptions };
  server = createApiServer({ ...options, headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS });
  base = (await server.listen("127.0.0.1", 0)).url;
});

after(async () => {
  await server.close();
  await secure.close();
  store.close();
  rmSync(home, { recursive: true, force: true });
});

void test("a client sending its headers slowly is cut off at the headers timeout", async () => {
  const outcome = await slowHeaders(base, ca, 8_000);
  assert.ok(outcome.ms >= HEADERS_MS - 100 && outcome.ms < HEADERS_MS + 1_500, `cut after ${Math.round(outcome.ms)} ms`);
  assert.match(outcome.reply, /^HTTP\/1\.1 408/, `after ${Math.round(outcome.ms)} ms`);
});

void test("a client sending its body slowly is cut off at the request timeout", async () => {
  const outcome = await slowBody(base, ca, secure.adminToken, 10_000);
  assert.ok(outcome.ms >= REQUEST_MS - 100 && outcome.ms < REQUEST_MS + 1_500, `cut after ${Math.round(outcome.ms)} ms`);
  assert.match(outcome.reply, /^HTTP\/1\.1 408/, `after ${Math.round(outcome.ms)} ms`);
});

void test("a client that never completes the TLS handshake is cut off at the headers timeout", async () => {
  const outcome = await sendSlowly({ url: base, ca, head: "", trickle: "", everyMs: 100, deadlineMs: 8_000, handshake: false });
  assert.ok(outcome.ms >= HEADERS_MS - 100 && outcome.ms < HEADERS_MS + 1_500, `cut after ${Math.round(outcome.ms)} ms`);
});

void test("a request sent at a normal pace is served", async () => {
  const reply = await secure.fetch(`${base}/healthz`);
  assert.equal(reply.status, 200);
  assert.equal(await reply.text(), "ok");
});

/** The suite negotiated for TLS 1.2 with `cipher`, or the handshake error. */
function negotiate(cipher: string, maxVersion: "TLSv1.2" | "TLSv1.3" = "TLSv1.2"): Promise<{ cipher?: string; version?: string; error?: string }> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), ca, servername: "localhost", ciphers: cipher, maxVersion, minVersion: "TLSv1.2" }, () => {
      resolve({ cipher: socket.getCipher().standardName, version: socket.getProtocol() ?? "" });
      socket.end();
    });
    socket.on("error", (error) => resolve({ error: error.message }));
  });
}

void test("TLS 1.2 refuses CBC and non-ECDHE suites and accepts ECDHE with GCM or ChaCha20", async () => {
  for (const cbc of ["ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA"]) {
    const outcome = await negotiate(cbc);
    assert.ok(outcome.error !== undefined, `${cbc} was accepted: ${JSON.stringify(outcome)}`);
  }
  for (const aead of ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"]) {
    const outcome = await negotiate(aead);
    assert.equal(outcome.version, "TLSv1.2", `${aead}: ${JSON.stringify(outcome)}`);
  }
  const tls13 = await negotiate("ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.3");
  assert.equal(tls13.version, "TLSv1.3");
});
