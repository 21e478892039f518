// The real server's transport and audit log under attack: slow clients, weak TLS suites, a damaged log head, and
// a log cut back together with checkpoint.json. The real `holdfast server`, the real CLI, openssl s_client.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestServer, run } from "../helpers/harness.ts";
import { slowBody, slowHeaders } from "../helpers/slow-client.ts";

let server: TestServer;
let ca: string;
let outside: string;

before(async () => {
  server = await TestServer.start();
  ca = await readFile(server.mustAdmin().caFile, "utf8");
  outside = await mkdtemp(join(tmpdir(), "holdfast-offsite-"));
});

after(async () => {
  await server.destroy();
  await rm(outside, { recursive: true, force: true });
});

const auditLog = (): string => join(server.home, "audit", "audit.log");

/** `openssl s_client` against the server with one protocol version and suite; its exit code and output. */
async function sClient(protocol: "-tls1_2" | "-tls1_3", suite: string): Promise<{ code: number; out: string }> {
  const { host } = new URL(server.url);
  const suiteFlag = protocol === "-tls1_2" ? "-cipher" : "-ciphersuites";
  const args = ["s_client", "-connect", host, protocol, suiteFlag, suite, "-CAfile", server.mustAdmin().caFile, "-servername", "localhost", "-verify_return_error"];
  const result = await run("openssl", args, { input: "", timeoutMs: 20_000 });
  return { code: result.code, out: result.stdout + result.stderr };
}

void test("TLS 1.2 refuses CBC suites and accepts ECDHE with AES-GCM or ChaCha20; TLS 1.3 works", async () => {
  for (const cbc of ["ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA"]) {
    const refused = await sClient("-tls1_2", cbc);
    assert.notEqual(refused.code, 0, `${cbc} was accepted:\n${refused.out}`);
    assert.ok(!refused.out.includes(`Cipher is ${cbc}\n`), refused.out);
  }
  for (const aead of ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"]) {
    const accepted = await sClient("-tls1_2", aead);
    assert.equal(accepted.code, 0, accepted.out);
    assert.ok(accepted.out.includes(`TLSv1.2, Cipher is ${aead}\n`), accepted.out);
  }
  const tls13 = await sClient("-tls1_3", "TLS_AES_256_GCM_SHA384");
  assert.equal(tls13.code, 0, tls13.out);
  assert.match(tls13.out, /TLSv1\.3, Cipher is TLS_AES_256_GCM_SHA384/);
});

void test("with the default settings, slow headers are cut at 15 s and a slow body at 30 s", { timeout: 90_000 }, async () => {
  const token = await server.token();
  const [headers, body] = await Promise.all([slowHeaders(server.url, ca, 60_000), slowBody(server.url, ca, token, 60_000)]);
  assert.ok(headers.ms >= 14_900 && headers.ms < 17_500, `slow headers cut after ${Math.round(headers.ms)} ms`);
  assert.match(headers.reply, /^HTTP\/1\.1 408/);
  assert.ok(body.ms >= 29_900 && body.ms < 32_500, `slow body cut after ${Math.round(body.ms)} ms`);
  assert.match(body.reply, /^HTTP\/1\.1 408/);
});

interface AuditList {
  items: { auditID: string; seq: number }[];
}

void test("audit queries answer from the end of the log: a damaged first record does not stop them", { timeout: 120_000 }, async () => {
  for (const name of ["q1", "q2", "q3"]) await server.ok(["create", "namespace", name]);
  await server.stop();
  const lines = (await readFile(auditLog(), "utf8")).trimEnd().split("\n");
  const first = lines[0] ?? "";
  // Overwrite the first record in place (same length): a query that reads the whole log cannot answer.
  const handle = await open(auditLog(), "r+");
  await handle.write("#".repeat(first.length), 0, "utf8");
  await handle.close();
  try {
    await server.startProcess();
    const newest = JSON.parse(await server.ok(["audit", "list", "--limit", "3", "-o", "json"])) as AuditList;
    type Row = { type?: string; auditID?: string; verb?: string; objectRef?: { resource?: string } };
    const events = lines.map((line) => JSON.parse(line === first ? "{}" : line) as Row).filter((r) => r.type === "event");
    assert.equal(newest.items.length, 3);
    const seqs = newest.items.map((item) => item.seq);
    assert.ok(seqs.every((seq, i) => i === 0 || seq > (seqs[i - 1] ?? 0)) && (seqs.at(-1) ?? 0) >= lines.length - 1, `the newest events, oldest first: ${seqs.join(",")}`);
    const creates = JSON.parse(await server.ok(["audit", "list", "--resource", "namespaces", "--verb", "create", "--limit", "3", "-o", "json"])) as AuditList;
    const expected = events.filter((e) => e.verb === "create" && e.objectRef?.resource === "namespaces").slice(-3);
    assert.deepEqual(creates.items.map((e) => e.auditID), expected.map((e) => e.auditID));
    const verify = await server.cli(["audit", "verify"]);
    assert.equal(verify.code, 1, "verify still reads every record and names the damage");
    assert.match(verify.stdout, /seq 1 \(line 1 /);
  } finally {
    await server.stop();
    const now = await readFile(auditLog());
    now.write(first, 0, "utf8");
    await writeFile(auditLog(), now);
    await server.startProcess();
  }
  assert.match(await server.ok(["audit", "verify"]), /verified/);
});

void test("audit verify --expect-checkpoint detects the tail cut back with checkpoint.json deleted or replaced", { timeout: 120_000 }, async () => {
  await server.ok(["create", "namespace", "before-export"]);
  // A graceful stop writes a signed checkpoint: copy it off the host, as an operator's job would.
  await server.stop();
  const exported = join(outside, "checkpoint.json");
  await copyFile(join(server.home, "audit", "checkpoint.json"), exported);
  await server.startProcess();
  await server.ok(["create", "namespace", "after-export"]);
  await server.stop();
  assert.match(await server.ok(["audit", "verify", "--expect-checkpoint", exported]), /verified/);
  const lines = (await readFile(auditLog(), "utf8")).trimEnd().split("\n");
  const expectedSeq = (JSON.parse(await readFile(exported, "utf8")) as { seq: number }).seq;
  const earlier = lines.findIndex((line) => line.includes('"type":"checkpoint"'));
  assert.ok(earlier >= 0 && earlier + 1 < expectedSeq, "an older checkpoint to cut back to");
  // The attacker cuts the log back to the older checkpoint and makes checkpoint.json that checkpoint.
  await writeFile(auditLog(), `${lines.slice(0, earlier + 1).join("\n")}\n`);
  await writeFile(join(server.home, "audit", "checkpoint.json"), `${lines[earlier] ?? ""}\n`);
  assert.match(await server.ok(["audit", "verify"]), /verified/, "the home alone cannot show it (documented)");
  const caught = await server.cli(["audit", "verify", "--expect-checkpoint", exported]);
  assert.equal(caught.code, 1, caught.stdout);
  assert.ok(caught.stdout.includes(`the log ends at seq ${earlier + 1} but the expected checkpoint (${exported}) covers seq ${expectedSeq}`), caught.stdout);
  // Or deletes checkpoint.json and cuts the log before its first checkpoint.
  await writeFile(auditLog(), `${lines.slice(0, earlier).join("\n")}\n`);
  await rm(join(server.home, "audit", "checkpoint.json"));
  assert.match(await server.ok(["audit", "verify"]), /verified/);
  const deleted = await server.cli(["audit", "verify", "--expect-checkpoint", exported]);
  assert.equal(deleted.code, 1, deleted.stdout);
  assert.ok(deleted.stdout.includes(`covers seq ${expectedSeq}:`), deleted.stdout);
});
