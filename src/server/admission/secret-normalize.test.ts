import { test } from "node:test";
import assert from "node:assert/strict";
import type { Resource } from "../../api/index.ts";
import { foldStringData, immutableSecretCauses } from "./secret-normalize.ts";

function secret(fields: Record<string, unknown>): Resource {
  return { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "demo" }, type: "Opaque", ...fields };
}

void test("stringData folds into base64 data and wins over data on the same key", () => {
  const folded = foldStringData(secret({ data: { a: "b2xk", keep: "eA==" }, stringData: { a: "new", "tls.key": "ünï" } }));
  assert.equal(folded["stringData"], undefined);
  assert.deepEqual(folded["data"], { a: Buffer.from("new").toString("base64"), keep: "eA==", "tls.key": Buffer.from("ünï", "utf8").toString("base64") });
});

void test("a secret without stringData is unchanged", () => {
  const value = secret({ data: { a: "eA==" } });
  assert.equal(foldStringData(value), value);
});

void test("an immutable secret keeps its data", () => {
  const old = secret({ immutable: true, data: { a: "eA==" } });
  assert.deepEqual(immutableSecretCauses(secret({ immutable: true, data: { a: "eA==" } }), old), []);
  assert.deepEqual(immutableSecretCauses(secret({ immutable: true, data: { a: "eQ==" } }), old).map((c) => c.field), ["data"]);
  assert.deepEqual(immutableSecretCauses(secret({ data: { a: "eQ==" } }), secret({ data: {} })), []);
});
