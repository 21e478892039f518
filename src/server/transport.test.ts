import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, TLS12_SUITES, transportOptions } from "./transport.ts";

const tls = { key: "k", cert: "c" };

void test("the documented timeouts are the defaults: headers 15 s, whole request 30 s, checked every second", () => {
  assert.equal(DEFAULT_HEADERS_TIMEOUT_MS, 15_000);
  assert.equal(DEFAULT_REQUEST_TIMEOUT_MS, 30_000);
  const options = transportOptions({ tls });
  assert.equal(options.headersTimeout, 15_000);
  assert.equal(options.requestTimeout, 30_000);
  assert.equal(options.handshakeTimeout, 15_000);
  assert.ok((options.connectionsCheckingInterval ?? 30_000) <= 1_000);
});

void test("smaller timeouts are checked often enough to be enforced on time", () => {
  const options = transportOptions({ tls, headersTimeoutMs: 400, requestTimeoutMs: 200 });
  assert.equal(options.requestTimeout, 400, "a whole request never has less time than its headers");
  assert.equal(options.connectionsCheckingInterval, 100);
});

void test("TLS 1.2 suites are ECDHE with AEAD ciphers only", () => {
  for (const suite of TLS12_SUITES) assert.match(suite, /^ECDHE-(ECDSA|RSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/);
  assert.equal(transportOptions({ tls }).minVersion, "TLSv1.2");
});
