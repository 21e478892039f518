import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OwnSessions } from "../engines/index.ts";
import { ConnectedClients, isForeignSuperuserLogin, type DatabaseLogin } from "./database-logins.ts";

describe("foreign superuser logins", () => {
  const login = (change: Partial<DatabaseLogin>): DatabaseLogin => ({ time: 0, user: "postgres", database: "postgres", applicationName: "psql", host: "127.0.0.1", port: 51234, ...change });
  const now = 1_000_000;

  it("are the superuser's logins not from this process' sessions or tools", () => {
    const own = new OwnSessions();
    own.opened(40001, now);
    assert.equal(isForeignSuperuserLogin(["postgres"], login({}), own, now), true);
    assert.equal(isForeignSuperuserLogin(["postgres"], login({ port: 40001 }), own, now), false, "a session of this process");
    assert.equal(isForeignSuperuserLogin(["postgres"], login({ port: 40001, host: "10.0.0.9" }), own, now), true, "the same port on another host is not ours");
    assert.equal(isForeignSuperuserLogin(["postgres"], login({ applicationName: own.toolApplicationName("pgdump") }), own, now), false, "a tool this process ran");
    assert.equal(isForeignSuperuserLogin(["postgres"], login({ applicationName: "holdfast_pgdump_0000000000000000" }), own, now), true, "a guessed tool name is not ours");
    assert.equal(isForeignSuperuserLogin(["postgres"], login({ applicationName: "holdfast" }), own, now), true, "nor Holdfast's sessions' name");
    assert.equal(isForeignSuperuserLogin(["postgres"], login({ user: "app" }), own, now), false, "not the superuser");
    assert.equal(isForeignSuperuserLogin([], login({}), own, now), false, "an engine whose logins are not watched");
  });

  it("forget a session's port after ten minutes", () => {
    const own = new OwnSessions();
    own.opened(40001, now);
    own.opened(40002, now + 11 * 60_000);
    assert.equal(own.holds(40001, now + 11 * 60_000), false);
    assert.equal(own.holds(40002, now + 11 * 60_000), true);
  });
});

describe("connected clients", () => {
  const client = (port: number, host = "127.0.0.1"): DatabaseLogin => ({ time: 0, user: "default", database: "0", applicationName: "", host, port });

  it("report each open connection once, and a connection from a port used before again once it reconnected", () => {
    const clients = new ConnectedClients();
    assert.deepEqual(clients.added([client(5000)]), [client(5000)]);
    assert.deepEqual(clients.added([client(5000), client(5001)]), [client(5001)], "5000 was already reported");
    assert.deepEqual(clients.added([client(5001, "10.0.0.9"), client(5001)]), [client(5001, "10.0.0.9")], "another host's port 5001 is another connection");
    assert.deepEqual(clients.added([]), []);
    assert.deepEqual(clients.added([client(5000)]), [client(5000)], "5000 closed in between: a new login");
  });
});
