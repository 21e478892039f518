// The signer against the worked examples AWS publishes for S3 SigV4 (Authorization header form).
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodePath, EMPTY_SHA256, sha256Hex, signRequest } from "./s3-signature.ts";

const credentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const date = new Date("2013-05-24T00:00:00Z");
const host = "examplebucket.s3.amazonaws.com";

function signatureOf(headers: Record<string, string>): { signature: string; signedHeaders: string } {
  const match = /SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(headers["authorization"] ?? "");
  assert.ok(match, `unexpected authorization header: ${headers["authorization"]}`);
  return { signedHeaders: match[1]!, signature: match[2]! };
}

test("GET object with a Range header", () => {
  const headers = signRequest(
    { method: "GET", host, path: "/test.txt", query: [], headers: { range: "bytes=0-9" }, payloadSha256: EMPTY_SHA256, date, region: "us-east-1" },
    credentials,
  );
  assert.deepEqual(signatureOf(headers), {
    signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
    signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
  });
  assert.equal(headers["x-amz-date"], "20130524T000000Z");
  assert.match(headers["authorization"]!, /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/20130524\/us-east-1\/s3\/aws4_request, /);
});

test("PUT object: a key that needs encoding, extra signed headers, a payload hash", () => {
  const payloadSha256 = sha256Hex("Welcome to Amazon S3.");
  assert.equal(payloadSha256, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  const headers = signRequest(
    {
      method: "PUT",
      host,
      path: encodePath(["test$file.text"]),
      query: [],
      headers: { date: "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY" },
      payloadSha256,
      date,
      region: "us-east-1",
    },
    credentials,
  );
  assert.equal(signatureOf(headers).signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
});

test("GET bucket lifecycle: a query parameter without a value", () => {
  const headers = signRequest(
    { method: "GET", host, path: "/", query: [["lifecycle", ""]], headers: {}, payloadSha256: EMPTY_SHA256, date, region: "us-east-1" },
    credentials,
  );
  assert.equal(signatureOf(headers).signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
});

test("list objects: query parameters are sorted", () => {
  const query: Array<[string, string]> = [["prefix", "J"], ["max-keys", "2"]];
  const headers = signRequest({ method: "GET", host, path: "/", query, headers: {}, payloadSha256: EMPTY_SHA256, date, region: "us-east-1" }, credentials);
  assert.equal(signatureOf(headers).signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
});

test("a different secret, region or body gives a different signature; a session token is signed", () => {
  const base = { method: "GET", host, path: "/test.txt", query: [], headers: {}, payloadSha256: EMPTY_SHA256, date, region: "us-east-1" } as const;
  const reference = signatureOf(signRequest(base, credentials)).signature;
  assert.notEqual(signatureOf(signRequest(base, { ...credentials, secretAccessKey: "other" })).signature, reference);
  assert.notEqual(signatureOf(signRequest({ ...base, region: "eu-west-1" }, credentials)).signature, reference);
  assert.notEqual(signatureOf(signRequest({ ...base, payloadSha256: sha256Hex("x") }, credentials)).signature, reference);
  const withToken = signRequest(base, { ...credentials, sessionToken: "token" });
  assert.equal(withToken["x-amz-security-token"], "token");
  assert.match(signatureOf(withToken).signedHeaders, /x-amz-security-token/);
  assert.doesNotMatch(JSON.stringify(withToken), /wJalrXUtnFEMI/);
});
