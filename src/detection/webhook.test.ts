import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { signingKeyOf, signWebhook, verifyWebhook, webhookUrlProblem } from "./webhook.ts";

void test("signatures follow Standard Webhooks: v1, base64 HMAC-SHA256 of id.timestamp.body under the whsec_ key bytes", () => {
  const raw = Buffer.from("0123456789abcdef0123456789abcdef");
  const key = signingKeyOf(`whsec_${raw.toString("base64")}`);
  assert.deepEqual(key, raw);
  const expected = createHmac("sha256", raw).update("msg_1.1700000000.{\"a\":1}").digest("base64");
  assert.equal(signWebhook(key, "msg_1", 1700000000, '{"a":1}'), `v1,${expected}`);
  assert.deepEqual(signingKeyOf("plain-secret"), Buffer.from("plain-secret"));
});

void test("a receiver verifies the signature, and a tampered body, id or timestamp does not verify", () => {
  const key = signingKeyOf("whsec_c2VjcmV0LWtleS1ieXRlcw==");
  const body = '{"type":"incident.opened"}';
  const signature = signWebhook(key, "msg_2", 1700000001, body);
  const headers = { id: "msg_2", timestamp: "1700000001", signature };
  assert.equal(verifyWebhook(key, headers, body), true);
  assert.equal(verifyWebhook(key, headers, body.replace("opened", "closed")), false);
  assert.equal(verifyWebhook(key, { ...headers, id: "msg_3" }, body), false);
  assert.equal(verifyWebhook(key, { ...headers, timestamp: "1700000002" }, body), false);
  assert.equal(verifyWebhook(signingKeyOf("other"), headers, body), false);
  assert.equal(verifyWebhook(key, { ...headers, signature: `v1,bad ${signature}` }, body), true, "any of several space-separated signatures");
});

void test("webhook URLs: https anywhere, http only to loopback, never credentials", () => {
  assert.equal(webhookUrlProblem("https://hooks.example.com/x"), undefined);
  assert.equal(webhookUrlProblem("http://127.0.46.1:19100/hook"), undefined);
  assert.equal(webhookUrlProblem("http://localhost:8080/"), undefined);
  assert.equal(webhookUrlProblem("http://[::1]:8080/"), undefined);
  assert.match(webhookUrlProblem("http://hooks.example.com/x") ?? "", /https/);
  assert.match(webhookUrlProblem("http://10.0.0.1/x") ?? "", /https/);
  assert.match(webhookUrlProblem("https://user:pw@hooks.example.com/") ?? "", /credentials/);
  assert.match(webhookUrlProblem("ftp://127.0.0.1/") ?? "", /https/);
  assert.match(webhookUrlProblem("not a url") ?? "", /absolute URL/);
  assert.match(webhookUrlProblem("http://127.0.0.1.example.com/") ?? "", /https/);
});
