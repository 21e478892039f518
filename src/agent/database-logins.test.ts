import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OwnSessions } from "../engines/index.ts";
import { ConnectionLog, isForeignSuperuserLogin, type DatabaseLogin } from "./database-logins.ts";

const RECEIVED = "2026-12-06 15:30:00.100 UTC [4242] [unknown]@[unknown] LOG:  connection received: host=127.0.0.1 port=51234\n";
const AUTHORIZED = "2026-12-06 15:30:00.120 UTC [4242] postgres@postgres LOG:  connection authorized: user=postgres database=postgres application_name=psql SSL enabled (protocol=TLSv1.3)\n";

describe("connection log", () => {
  it("joins a login to the address it came from by the backend's pid, across chunks cut mid-line", () => {
    const log = new ConnectionLog();
    const text = `${RECEIVED}2026-12-06 15:30:00.110 UTC [4243] LOG:  connection received: host=10.0.0.9 port=40000\n${AUTHORIZED}`;
    const cut = text.length - 30;
    assert.deepEqual(log.read(text.slice(0, cut)), []);
    assert.deepEqual(log.read(text.slice(cut)), [{ time: Date.parse("2026-12-06T15:30:00.120Z"), user: "postgres", database: "postgres", applicationName: "psql", host: "127.0.0.1", port: 51234 }]);
  });

  it("reads a login without application_name or a received line", () => {
    const [login] = new ConnectionLog().read("2026-12-06 15:30:00.120 UTC [7] app@shop LOG:  connection authorized: user=app database=shop\n");
    assert.deepEqual(login, { time: Date.parse("2026-12-06T15:30:00.120Z"), user: "app", database: "shop", applicationName: "", host: "", port: 0 });
  });
});

describe("foreign superuser logins", () => {
  const login = (change: Partial<DatabaseLogin>): DatabaseLogin => ({ time: 0, user: "postgres", database: "postgres", applicationName: "psql", host: "127.0.0.1", port: 51234, ...change });
  const now = 1_000_000;

  it("are the superuser's logins not from this process' sessions or tools", () => {
    const own = new OwnSessions();
    own.opened(40001, now);
    assert.equal(isForeignSuperuserLogin("postgresql", login({}), own, now), true);
    assert.equal(isForeignSuperuserLogin("postgresql", login({ port: 40001 }), own, now), false, "a session of this process");
    assert.equal(isForeignSuperuserLogin("postgresql", login({ port: 40001, host: "10.0.0.9" }), own, now), true, "the same port on another host is not ours");
    assert.equal(isForeignSuperuserLogin("postgresql", login({ applicationName: own.toolApplicationName("pgdump") }), own, now), false, "a tool this process ran");
    assert.equal(isForeignSuperuserLogin("postgresql", login({ applicationName: "holdfast_pgdump_0000000000000000" }), own, now), true, "a guessed tool name is not ours");
    assert.equal(isForeignSuperuserLogin("postgresql", login({ applicationName: "holdfast" }), own, now), true, "nor Holdfast's sessions' name");
    assert.equal(isForeignSuperuserLogin("postgresql", login({ user: "app" }), own, now), false, "not the superuser");
    assert.equal(isForeignSuperuserLogin("redis", login({}), own, now), false, "an engine whose log is not read");
  });

  it("forget a session's port after ten minutes", () => {
    const own = new OwnSessions();
    own.opened(40001, now);
    own.opened(40002, now + 11 * 60_000);
    assert.equal(own.holds(40001, now + 11 * 60_000), false);
    assert.equal(own.holds(40002, now + 11 * 60_000), true);
  });
});
