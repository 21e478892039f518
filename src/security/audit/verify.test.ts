import { after, before, beforeEach, afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog } from "./audit-log.ts";
import { recordHash } from "./chain.ts";
import type { AuditRecord } from "./record.ts";
import { makeCheckpoint } from "./checkpoint.ts";
import { keyIdOf } from "./keys.ts";
import { auditFixture, sampleEvent, type AuditFixture } from "./test-fixtures.ts";
import { verifyAuditLog } from "./verify.ts";

// 300 events, a checkpoint after every 50: checkpoints are on lines 51, 102, 153, 204, 255, 306; seq equals line.
let fx: AuditFixture;
let dir: string;
before(async () => {
  fx = auditFixture();
  const log = await AuditLog.open({ ...fx.options, checkpointEvery: 50 });
  for (let i = 1; i <= 300; i++) await log.append(sampleEvent(i));
  await log.close();
});
after(() => fx.remove());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "holdfast-audit-tamper-"));
  cpSync(fx.options.directory, dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const verify = () => verifyAuditLog({ directory: dir, publicKeyFile: fx.publicKeyFile });
/** A record as edited by an attacker: any field, typed where the tests read it. */
interface Row {
  [field: string]: any;
  seq: number;
  hash: string;
  prevHash: string;
  timestamp: string;
}
const read = (): Row[] => readFileSync(join(dir, "audit.log"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as Row);
const rehash = (record: Row): string => recordHash(record as unknown as AuditRecord);
const write = (records: Row[]): void => writeFileSync(join(dir, "audit.log"), records.map((r) => `${JSON.stringify(r)}\n`).join(""));
const attackerKey = () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { signingKey: privateKey, keyId: keyIdOf(publicKey) };
};

/** Rewrite hashes from `from` (0-based) on, as someone without the signing key would to hide an edit. */
function rechain(records: Row[], from: number, resign?: ReturnType<typeof attackerKey>): void {
  for (let i = from; i < records.length; i++) {
    const prevHash = records[i - 1]!.hash;
    const record = records[i]!;
    const replaced: Row = record["type"] === "checkpoint" && resign ? { ...makeCheckpoint(record.seq, prevHash, resign), timestamp: record.timestamp } : record;
    replaced.prevHash = prevHash;
    replaced.hash = rehash(replaced);
    records[i] = replaced;
  }
}

function assertBad(result: Awaited<ReturnType<typeof verify>>, seq: number, line: number, problem: RegExp): void {
  if (result.ok) assert.fail(`tampering went undetected: ${JSON.stringify(result)}`);
  assert.deepEqual({ seq: result.seq, line: result.line }, { seq, line }, result.problem);
  assert.match(result.problem, problem);
}

describe("verifyAuditLog", () => {
  it("accepts the untouched log", async () => {
    assert.deepEqual(await verify(), { ok: true, records: 300, checkpoints: 6 });
  });

  it("names an edited field", async () => {
    const records = read();
    records[119]!.verb = "delete";
    write(records);
    assertBad(await verify(), 120, 120, /edited/);
  });

  it("names an edit deep inside the request body", async () => {
    const records = read();
    records[9]!.requestObject.spec.replicas = 3;
    write(records);
    assertBad(await verify(), 10, 10, /edited/);
  });

  it("names a deleted record", async () => {
    const records = read();
    records.splice(119, 1);
    write(records);
    assertBad(await verify(), 120, 120, /expected seq 120 but found 121/);
  });

  it("names an inserted record", async () => {
    const records = read();
    records.splice(119, 0, records[39]!);
    write(records);
    assertBad(await verify(), 120, 120, /expected seq 120 but found 40/);
  });

  it("names the record after a well-formed inserted record, whose successor no longer links to it", async () => {
    const records = read();
    const forged: Row = { ...records[119]!, verb: "get", auditID: "1b4e28ba-2fa1-41d2-883f-0016d3cca427" };
    forged.hash = rehash(forged);
    records.splice(119, 0, forged);
    write(records);
    assertBad(await verify(), 121, 121, /expected seq 121 but found 120/);
  });

  it("names two swapped records", async () => {
    const records = read();
    [records[119], records[120]] = [records[120]!, records[119]!];
    write(records);
    assertBad(await verify(), 120, 120, /expected seq 120 but found 121/);
  });

  it("detects truncation behind the checkpoint", async () => {
    write(read().slice(0, 200));
    assertBad(await verify(), 201, 201, /checkpoint\.json covers seq 306/);
  });

  it("detects truncation when checkpoint.json was deleted too", async () => {
    write(read().slice(0, 200));
    unlinkSync(join(dir, "checkpoint.json"));
    assertBad(await verify(), 201, 201, /checkpoint\.json is missing/);
  });

  it("names a forged checkpoint in the log", async () => {
    const records = read();
    const forged: Row = { ...makeCheckpoint(153, records[151]!.hash, attackerKey()), timestamp: records[152]!.timestamp };
    forged.hash = rehash(forged);
    records[152] = forged;
    write(records);
    assertBad(await verify(), 153, 153, /signature does not verify/);
  });

  it("detects a forged checkpoint.json", async () => {
    const records = read();
    writeFileSync(join(dir, "checkpoint.json"), JSON.stringify(makeCheckpoint(306, records[304]!.hash, attackerKey())));
    assertBad(await verify(), 306, 0, /checkpoint\.json .*signature/);
  });

  it("names the first checkpoint after an edit hidden by recomputing every hash", async () => {
    const records = read();
    records[119]!.verb = "delete";
    rechain(records, 119);
    write(records);
    assertBad(await verify(), 153, 153, /does not cover/);
  });

  it("names the first checkpoint after an edit hidden by recomputing hashes and re-signing with another key", async () => {
    const records = read();
    records[119]!.verb = "delete";
    rechain(records, 119, attackerKey());
    write(records);
    assertBad(await verify(), 153, 153, /signature does not verify/);
  });

  describe("with a checkpoint exported before the tampering (--expect-checkpoint)", () => {
    /** checkpoint.json as copied off the host before the attack (seq 306). */
    let exported: string;
    beforeEach(() => {
      exported = join(dir, "..", `${dir.split("/").at(-1) ?? "x"}-exported.json`);
      cpSync(join(dir, "checkpoint.json"), exported);
    });
    afterEach(() => rmSync(exported, { force: true }));
    const verifyExpecting = (file = exported) => verifyAuditLog({ directory: dir, publicKeyFile: fx.publicKeyFile, expectCheckpointFile: file });

    it("accepts the untouched log, and a log that grew after the export", async () => {
      assert.deepEqual(await verifyExpecting(), { ok: true, records: 300, checkpoints: 6 });
    });

    it("detects the tail cut back to an earlier checkpoint with checkpoint.json replaced by that checkpoint", async () => {
      const records = read().slice(0, 255);
      write(records);
      writeFileSync(join(dir, "checkpoint.json"), `${JSON.stringify(records[254])}
`);
      assert.deepEqual(await verify(), { ok: true, records: 250, checkpoints: 5 }, "without an outside anchor this cannot be told from an intact log");
      assertBad(await verifyExpecting(), 256, 256, /the log ends at seq 255 but the expected checkpoint .* covers seq 306: records after seq 255 were removed/);
    });

    it("detects the tail and checkpoint.json both deleted", async () => {
      write(read().slice(0, 40));
      unlinkSync(join(dir, "checkpoint.json"));
      assert.equal((await verify()).ok, true, "a log with no checkpoint yet looks like a young log");
      assertBad(await verifyExpecting(), 41, 41, /covers seq 306/);
    });

    it("still detects a log rewritten after the export, with checkpoint.json deleted", async () => {
      const records = read();
      records[119]!.verb = "delete";
      rechain(records, 119);
      write(records);
      unlinkSync(join(dir, "checkpoint.json"));
      assertBad(await verifyExpecting(), 153, 153, /does not cover/);
    });

    it("refuses an exported checkpoint not signed by the log's key", async () => {
      const records = read();
      const forged: Row = { ...makeCheckpoint(306, records[304]!.hash, attackerKey()), timestamp: records[305]!.timestamp };
      writeFileSync(exported, JSON.stringify({ ...forged, hash: rehash(forged) }));
      assertBad(await verifyExpecting(), 306, 0, /expected checkpoint .*signature that does not verify/);
    });

    it("refuses an expected checkpoint that is missing or not a checkpoint", async () => {
      assertBad(await verifyExpecting(join(dir, "nowhere.json")), 0, 0, /cannot read the expected checkpoint/);
      writeFileSync(exported, "{}\n");
      assertBad(await verifyExpecting(), 0, 0, /is not a valid checkpoint/);
    });
  });
});
