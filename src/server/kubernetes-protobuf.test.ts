import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../errors/index.ts";
import { UnsupportedMediaTypeError } from "./http-errors.ts";
import { decodeKubernetesProtobuf } from "./kubernetes-protobuf.ts";

// A minimal encoder, enough to write what client-go writes.
function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
function field(number: number, value: string | Buffer): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value) : value;
  return Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
}
function flag(number: number, value: boolean): Buffer {
  return Buffer.concat([varint(number << 3), varint(value ? 1 : 0)]);
}
function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([field(1, apiVersion), field(2, kind)]);
  return Buffer.concat([Buffer.from("k8s\0", "latin1"), field(1, typeMeta), field(2, raw), field(3, ""), field(4, "")]);
}

test("a Namespace as kubectl create namespace sends it", () => {
  const labels = Buffer.concat([field(1, "team"), field(2, "db")]);
  const metadata = Buffer.concat([field(1, "demo"), field(2, ""), field(11, labels)]);
  const decoded = decodeKubernetesProtobuf(envelope("v1", "Namespace", Buffer.concat([field(1, metadata), field(2, Buffer.alloc(0)), field(3, Buffer.alloc(0))])));
  assert.deepEqual(decoded, { apiVersion: "v1", kind: "Namespace", metadata: { name: "demo", labels: { team: "db" } }, spec: {} });
});

test("a Secret's data stays bytes (base64 in JSON); a SelfSubjectAccessReview keeps its attributes", () => {
  const data = Buffer.concat([field(1, "password"), field(2, Buffer.from([0, 255, 1]))]);
  const secret = decodeKubernetesProtobuf(envelope("v1", "Secret", Buffer.concat([field(1, field(1, "s1")), field(2, data), field(3, "Opaque"), flag(5, true)])));
  assert.deepEqual(secret, { apiVersion: "v1", kind: "Secret", metadata: { name: "s1" }, data: { password: "AP8B" }, type: "Opaque", immutable: true });
  const attributes = Buffer.concat([field(1, "demo"), field(2, "create"), field(3, "apps.kubeblocks.io"), field(5, "clusters")]);
  const review = decodeKubernetesProtobuf(envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", Buffer.concat([field(1, Buffer.alloc(0)), field(2, field(1, attributes))])));
  assert.deepEqual(review["spec"], { resourceAttributes: { namespace: "demo", verb: "create", group: "apps.kubeblocks.io", resource: "clusters" } });
});

test("other kinds are a 415 asking for JSON; broken bodies are a 400", () => {
  assert.throws(() => decodeKubernetesProtobuf(envelope("apps/v1", "Deployment", Buffer.alloc(0))), UnsupportedMediaTypeError);
  assert.throws(() => decodeKubernetesProtobuf(Buffer.from("{}")), InputError);
  assert.throws(() => decodeKubernetesProtobuf(Buffer.concat([Buffer.from("k8s\0", "latin1"), Buffer.from([0x0a, 0x7f])])), InputError);
  assert.throws(() => decodeKubernetesProtobuf(envelope("v1", "Namespace", Buffer.from([0x0a, 0xff]))), InputError);
  assert.throws(() => decodeKubernetesProtobuf(envelope("v1", "Secret", flag(3, true))), InputError, "a string field sent as a varint");
});
