import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connectionConninfo, loopbackPassfile, peerPassfile, renderConninfo } from "./conninfo.ts";

describe("renderConninfo", () => {
  it("single-quotes values, escaping backslash and quote as libpq reads them", () => {
    assert.equal(renderConninfo({ host: "127.0.0.1", port: 5432, passfile: "/a b/it's\\x" }), "host='127.0.0.1' port='5432' passfile='/a b/it\\'s\\\\x'");
  });
});

describe("connectionConninfo", () => {
  it("names the passfile and never a password", () => {
    const text = connectionConninfo({ host: "127.0.0.1", port: 1, user: "kbreplicator", passfile: "/run/p" }, { dbname: "postgres" });
    assert.equal(text, "host='127.0.0.1' port='1' user='kbreplicator' passfile='/run/p' connect_timeout='5' dbname='postgres'");
  });
});

describe("loopbackPassfile", () => {
  it("matches any port and database on 127.0.0.1, with the password escaped", () => {
    assert.equal(loopbackPassfile({ username: "kbreplicator", password: "a:b\\c" }), "127.0.0.1:*:*:kbreplicator:a\\:b\\\\c\n");
  });
});

describe("peerPassfile", () => {
  it("matches the peer's address only, any port and database, with the password escaped", () => {
    assert.equal(peerPassfile({ username: "kbreplicator", password: "a:b\\c" }, "10.0.0.2"), "10.0.0.2:*:*:kbreplicator:a\\:b\\\\c\n");
  });
});
