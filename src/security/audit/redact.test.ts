import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { auditLevelFor } from "./policy.ts";
import { keyedHmac, redact } from "./redact.ts";

const CANARY = "canary-Sup3rSecret-91f2";

describe("redact", () => {
  const hmac = keyedHmac(randomBytes(32));

  it("replaces values under sensitive keys at any depth, case-insensitively, and keeps the rest", () => {
    const body = {
      metadata: { name: "db", labels: { team: "a" } },
      spec: { Password: CANARY, nested: [{ accessToken: CANARY }, { other: "keep" }], port: 5432 },
      data: { username: CANARY, deeper: { x: CANARY } },
      StringData: { "pg-pass": CANARY },
      headers: { AUTHORIZATION: `Bearer ${CANARY}` },
      totpCode: 123456,
      recoveryCodes: [CANARY, CANARY],
      totpEnabled: true,
    };
    const redacted = redact(body, hmac) as Record<string, any>;
    assert.ok(!JSON.stringify(redacted).includes(CANARY));
    assert.deepEqual(redacted.metadata, body.metadata);
    assert.equal(redacted.spec.nested[1].other, "keep");
    assert.equal(redacted.spec.port, 5432);
    assert.match(String(redacted.spec.Password), /^hmac-sha256:[0-9a-f]{64}$/);
    assert.match(String(redacted.totpCode), /^hmac-sha256:[0-9a-f]{64}$/);
    assert.equal(redacted.totpEnabled, true);
    // Linkable: the same secret gives the same value everywhere.
    assert.equal(redacted.spec.Password, redacted.data.username);
    assert.equal(redacted.recoveryCodes[0], redacted.spec.nested[0].accessToken);
    // The input is not modified.
    assert.equal(body.spec.Password, CANARY);
  });

  it("gives different values under different keys and is idempotent", () => {
    const other = keyedHmac(randomBytes(32));
    assert.notEqual(hmac(CANARY), other(CANARY));
    const once = redact({ password: CANARY }, hmac);
    assert.deepEqual(redact(once, hmac), once);
  });

  it("does not treat metadata as data", () => {
    assert.deepEqual(redact({ metadata: { name: "x" } }, hmac), { metadata: { name: "x" } });
  });
});

describe("auditLevelFor", () => {
  it("keeps secret-bearing resources at Metadata, records other mutations with their body, reads at Metadata", () => {
    assert.equal(auditLevelFor("secrets", "", "create"), "Metadata");
    assert.equal(auditLevelFor("users", "security.holdfast.io", "update"), "Metadata");
    assert.equal(auditLevelFor("apitokens", "security.holdfast.io", "create"), "Metadata");
    assert.equal(auditLevelFor("roles", "security.holdfast.io", "create"), "Metadata");
    assert.equal(auditLevelFor("clusters", "apps.kubeblocks.io", "create"), "Request");
    assert.equal(auditLevelFor("clusters", "apps.kubeblocks.io", "delete"), "Request");
    assert.equal(auditLevelFor("clusters", "apps.kubeblocks.io", "get"), "Metadata");
    assert.equal(auditLevelFor("clusters", "apps.kubeblocks.io", "list"), "Metadata");
  });
});
