import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tlsReloadCommand } from "./tls-reload.ts";

describe("tlsReloadCommand", () => {
  it("sets the instance's three TLS files again (Redis re-reads them even when the paths are the same)", () => {
    const tls = { certificateFile: "/i/tls/server.crt", keyFile: "/i/tls/server.key", caFile: "/i/tls/ca.crt" };
    assert.deepEqual(tlsReloadCommand({ tls }), ["CONFIG", "SET", "tls-cert-file", "/i/tls/server.crt", "tls-key-file", "/i/tls/server.key", "tls-ca-cert-file", "/i/tls/ca.crt"]);
    assert.equal(tlsReloadCommand({}), undefined);
  });
});
