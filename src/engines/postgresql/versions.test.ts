import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parsePostgresVersion } from "./versions.ts";

describe("parsePostgresVersion", () => {
  it("reads Debian's postgres --version", () => {
    assert.deepEqual(parsePostgresVersion("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", "/b"), { version: "15.18", major: "15", binDir: "/b" });
  });

  it("keeps two-part majors before 10", () => {
    assert.deepEqual(parsePostgresVersion("postgres (PostgreSQL) 9.6.24", "/b"), { version: "9.6.24", major: "9.6", binDir: "/b" });
  });

  it("returns undefined for anything else", () => {
    assert.equal(parsePostgresVersion("bash: postgres: command not found", "/b"), undefined);
  });
});
