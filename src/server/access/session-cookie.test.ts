import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { completeObjectRef } from "./access.ts";
import { credentialOf, csrfRefusal, csrfTokenOf, sessionCookie, SESSION_COOKIE } from "./session-cookie.ts";

function request(method: string, headers: Record<string, string>): IncomingMessage {
  return { method, headers } as unknown as IncomingMessage;
}

describe("the console's session cookie", () => {
  it("is read only by its exact name and shape; an Authorization header wins", () => {
    assert.deepEqual(credentialOf(request("GET", { cookie: `a=b; ${SESSION_COOKIE}=hfs_x.y` })), { token: "hfs_x.y", from: "cookie" });
    assert.equal(credentialOf(request("GET", { cookie: `x${SESSION_COOKIE}=hfs_x` })), undefined);
    assert.equal(credentialOf(request("GET", { cookie: `${SESSION_COOKIE}=a b` })), undefined);
    assert.deepEqual(credentialOf(request("GET", { cookie: `${SESSION_COOKIE}=c`, authorization: "Bearer t" })), { token: "t", from: "bearer" });
  });

  it("is HttpOnly, Secure and SameSite=Strict, and lives as long as the session", () => {
    const cookie = sessionCookie("hfs_t", new Date(Date.now() + 3_600_000).toISOString());
    assert.match(cookie, /^__Host-holdfast-session=hfs_t; Path=\/; Max-Age=(3599|3600); Secure; HttpOnly; SameSite=Strict$/);
  });

  it("lets reads through but needs the session's CSRF token on writes, from this origin only", () => {
    const token = "hfs_session";
    const csrf = csrfTokenOf(token);
    assert.notEqual(csrf, csrfTokenOf("hfs_other"));
    assert.equal(csrfRefusal(request("GET", { host: "h:1" }), token), undefined);
    assert.equal(csrfRefusal(request("POST", { host: "h:1" }), token), "missing CSRF token");
    assert.equal(csrfRefusal(request("POST", { host: "h:1", "x-csrf-token": csrfTokenOf("hfs_other") }), token), "wrong CSRF token");
    assert.equal(csrfRefusal(request("DELETE", { host: "h:1", "x-csrf-token": csrf, origin: "https://h:1" }), token), undefined);
    assert.equal(csrfRefusal(request("GET", { host: "h:1", origin: "https://evil.example" }), token), "cross-origin request with the session cookie");
  });
});

describe("audit records of creates", () => {
  it("name the object from the body, as Kubernetes' audit does", () => {
    const ref = { resource: "opsrequests", apiGroup: "operations.kubeblocks.io", namespace: "demo" };
    assert.deepEqual(completeObjectRef(ref, { metadata: { name: "r1" } }), { ...ref, name: "r1" });
    assert.deepEqual(completeObjectRef({ ...ref, name: "kept" }, { metadata: { name: "r1" } }), { ...ref, name: "kept" });
    assert.deepEqual(completeObjectRef(ref, { metadata: { name: 7 } }), ref);
    assert.deepEqual(completeObjectRef(ref, undefined), ref);
  });
});
