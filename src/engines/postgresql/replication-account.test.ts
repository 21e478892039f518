import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { replicationAccountStatements } from "./replication-account.ts";

describe("replicationAccountStatements", () => {
  const verifier = "SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5";

  it("creates a login replication role that is nothing more, with the verifier as password, and grants pg_rewind's functions", () => {
    const statements = replicationAccountStatements("kbreplicator", verifier, false);
    assert.deepEqual(statements.slice(0, 3), [
      "SET LOCAL log_statement = 'none'",
      "SET LOCAL log_min_duration_statement = -1",
      `CREATE ROLE "kbreplicator" WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${verifier}'`,
    ]);
    assert.equal(statements.filter((s) => s.startsWith("GRANT EXECUTE ON FUNCTION pg_catalog.") && s.endsWith(' TO "kbreplicator"')).length, 4);
  });

  it("alters an existing role, quoting the name", () => {
    assert.match(replicationAccountStatements('we"ird', verifier, true)[2] ?? "", /^ALTER ROLE "we""ird" WITH LOGIN REPLICATION/);
  });
});
