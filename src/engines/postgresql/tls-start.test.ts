import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { POSTGRESQL_TLS_START, postgresqlErrorResponse } from "./tls-start.ts";

describe("PostgreSQL TLS start", () => {
  it("knows libpq's SSLRequest (length 8, code 80877103)", () => {
    const [request] = POSTGRESQL_TLS_START.preambles;
    assert.ok(request);
    const view = Buffer.from(request);
    assert.deepEqual([view.readInt32BE(0), view.readInt32BE(4)], [8, 80877103]);
  });

  it("answers plaintext with an ErrorResponse: FATAL, SQLSTATE 28000, the message", () => {
    const reply = Buffer.from(postgresqlErrorResponse("TLS only"));
    assert.equal(reply.toString("latin1", 0, 1), "E");
    assert.equal(reply.readInt32BE(1), reply.length - 1, "the length counts itself, not the type byte");
    const fields = reply.subarray(5).toString("utf8").split("\0");
    assert.deepEqual(fields, ["SFATAL", "VFATAL", "C28000", "MTLS only", "", ""]);
  });
});
