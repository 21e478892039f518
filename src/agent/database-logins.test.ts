import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Instance } from "../api/index.ts";
import { homePaths } from "../config/index.ts";
import { OwnSessions, type Engine, type EngineLogins } from "../engines/index.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { silentLogger } from "../util/index.ts";
import { AwaitedLogins, CONNECTION_ID_GRACE_MS, ConnectedClients, DatabaseLoginWatch, isForeignSuperuserLogin, MAX_REFUSED_PER_READ, RefusalCounts, refusedToRecord, type DatabaseLogin, type OwnConnection } from "./database-logins.ts";

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

/** What two settlings at `nowMs` and half a second later report. */
function settled(awaited: AwaitedLogins, nowMs: number, own: OwnConnection): DatabaseLogin[] {
  return [...awaited.settle(nowMs, own), ...awaited.settle(nowMs + 500, own)];
}

describe("logins known by connection id (MariaDB)", () => {
  const PORT = 20001;
  const login = (connectionId: number): DatabaseLogin => ({ time: 0, user: "root", database: "", applicationName: "", host: "127.0.0.1", port: 0, connectionId });
  const now = 1_000_000;
  const ownBy = (own: OwnSessions): OwnConnection => (l, readMs, final) =>
    l.connectionId !== undefined && (own.holdsConnection(PORT, l.connectionId, readMs) || (final && own.takeExpected(PORT, readMs)));

  it("are the superuser's logins not from this process' sessions or tools", () => {
    const own = new OwnSessions();
    assert.equal(isForeignSuperuserLogin(["root"], login(7), own, now), true, "no client port to go by: it waits for its id");
    assert.equal(isForeignSuperuserLogin(["root"], { ...login(7), host: "localhost" }, own, now), true, "the socket is no exception");
  });

  it("are Holdfast's when a client of this process tells the id within the grace, and foreign when none does", () => {
    const own = new OwnSessions();
    const awaited = new AwaitedLogins();
    own.connected(PORT, 41, now - 300);
    awaited.add(login(41), now);
    awaited.add(login(42), now);
    awaited.add(login(43), now);
    own.connected(PORT, 42, now + 200);
    own.connected(PORT + 1, 43, now + 200);
    assert.deepEqual(awaited.settle(now + 500, ownBy(own)), [], "41 and 42 told, 43 still within its grace");
    assert.deepEqual(awaited.settle(now + CONNECTION_ID_GRACE_MS, ownBy(own)), [], "the grace ended: judged at the next settling");
    assert.deepEqual(awaited.settle(now + CONNECTION_ID_GRACE_MS + 500, ownBy(own)), [login(43)], "43 was told of another server");
    assert.deepEqual(awaited.settle(now + 2 * CONNECTION_ID_GRACE_MS, ownBy(own)), [], "each login reported once");
  });

  it("do not take an id told long before the login for Holdfast's (ids start again when the server restarts)", () => {
    const own = new OwnSessions();
    own.connected(PORT, 5, now - 5 * 60_000);
    const awaited = new AwaitedLogins();
    awaited.add(login(5), now);
    assert.deepEqual(settled(awaited, now + CONNECTION_ID_GRACE_MS, ownBy(own)), [login(5)]);
  });

  it("take one announced connection of a tool for Holdfast's, once", () => {
    const own = new OwnSessions();
    own.expectConnection(PORT, now);
    const awaited = new AwaitedLogins();
    awaited.add(login(8), now + 100);
    awaited.add(login(9), now + 100);
    assert.deepEqual(settled(awaited, now + 100 + CONNECTION_ID_GRACE_MS, ownBy(own)), [login(9)], "the announcement explains one login, not two");
    const later = new AwaitedLogins();
    own.expectConnection(PORT, now);
    later.add(login(10), now + 60_000);
    assert.deepEqual(settled(later, now + 60_000 + CONNECTION_ID_GRACE_MS, ownBy(own)), [login(10)], "an announcement expires");
  });
});

describe("a busy event loop", () => {
  it("does not make a login foreign whose id was told while the settling timer waited to run", () => {
    const own = new OwnSessions();
    const awaited = new AwaitedLogins();
    const login: DatabaseLogin = { time: 0, user: "root", database: "", applicationName: "", host: "127.0.0.1", port: 0, connectionId: 77 };
    const ownBy: OwnConnection = (l, readMs) => l.connectionId !== undefined && own.holdsConnection(20001, l.connectionId, readMs);
    awaited.add(login, 0);
    assert.deepEqual(awaited.settle(CONNECTION_ID_GRACE_MS + 3000, ownBy), [], "the loop was blocked past the grace");
    own.connected(20001, 77, CONNECTION_ID_GRACE_MS + 3001);
    assert.deepEqual(awaited.settle(CONNECTION_ID_GRACE_MS + 3500, ownBy), [], "the client's output, read meanwhile, tells it is Holdfast's");
  });
});

describe("refused logins", () => {
  const refused = (user: string): DatabaseLogin => ({ time: 0, user, database: "", applicationName: "", host: "10.0.0.9", port: 4000, refused: true });
  it("are never taken for a superuser's session, and are recorded one by one up to a bound per read, the rest as a count", () => {
    assert.equal(isForeignSuperuserLogin(["postgres"], refused("postgres"), new OwnSessions(), 0), false);
    const accepted: DatabaseLogin = { time: 0, user: "postgres", database: "", applicationName: "", host: "10.0.0.9", port: 4000 };
    const many = [accepted, ...Array.from({ length: MAX_REFUSED_PER_READ + 5 }, (_, i) => refused(`u${i}`))];
    const { each, omitted } = refusedToRecord(many);
    assert.equal(each.length, MAX_REFUSED_PER_READ);
    assert.ok(each.every((login) => login.refused === true));
    assert.equal(omitted, 5);
    assert.deepEqual(refusedToRecord([accepted]), { each: [], omitted: 0 });
  });
});

describe("the watch over a real embedded store", () => {
  it("follows an instance bound here once it appears, and lists Instances again only after one changed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "holdfast-login-watch-"));
    const store = openSqliteStore({ path: join(dir, "store.db") });
    let lists = 0;
    const counted = new Proxy(store, {
      get(target, property, receiver) {
        if (property === "list") return (...args: Parameters<Store["list"]>) => ((lists += 1), target.list(...args));
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const logFile = join(dir, "postgresql.log");
    await writeFile(logFile, "");
    const logins: EngineLogins = {
      superusers: ["postgres"],
      logParser: () => ({ read: (chunk) => (chunk.includes("LOGIN") ? [{ time: 1, user: "postgres", database: "postgres", applicationName: "psql", host: "10.0.0.9", port: 5000 }] : []) }),
      logFile: () => ({ path: logFile }),
    };
    const recorded: string[] = [];
    const watch = new DatabaseLoginWatch({
      store: counted,
      paths: homePaths(dir),
      nodeName: "n1",
      logger: silentLogger(),
      own: new OwnSessions(),
      engine: (name) => (name === "postgresql" ? ({ logins } as Engine) : undefined),
      record: (instance, login) => Promise.resolve(void recorded.push(`${instance.metadata.name} ${login.user}@${login.host}`)),
      listMs: 20,
      readMs: 20,
    });
    try {
      await store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "demo" } });
      watch.start();
      await sleep(200);
      assert.equal(lists, 1, "nothing changed: listed once");
      const instance = { apiVersion: "holdfast.io/v1", kind: "Instance", metadata: { name: "pg-0", namespace: "demo" }, spec: { engine: "postgresql", version: "16", clusterName: "pg", componentName: "postgresql", ordinal: 0, port: 20000, running: true, parameters: {}, deleteData: true, nodeName: "n1" } };
      await store.create(instance as Instance);
      await sleep(200);
      assert.equal(lists, 2, "one listing after the change");
      await appendFile(logFile, "LOGIN\n");
      await sleep(200);
      assert.deepEqual(recorded, ["pg-0 postgres@10.0.0.9"], "the new instance's log is followed");
    } finally {
      watch.stop();
      store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("refusal counts of a polled server", () => {
  it("takes the first answer as the base, then reports each account's growth as that many refused logins", () => {
    const counts = new RefusalCounts();
    assert.deepEqual(counts.added([{ user: "default", count: 4, host: "10.0.0.9", port: 4000 }], 1), [], "refused before the watch");
    assert.deepEqual(counts.added([{ user: "default", count: 4, host: "10.0.0.9", port: 4000 }], 2), []);
    const grown = counts.added([{ user: "default", count: 7, host: "10.0.0.8", port: 4001 }, { user: "bob", count: 1, host: "10.0.0.7", port: 4002 }], 3);
    assert.deepEqual(grown.map((l) => [l.user, l.host, l.port, l.refused]), [["default", "10.0.0.8", 4001, true], ["default", "10.0.0.8", 4001, true], ["default", "10.0.0.8", 4001, true], ["bob", "10.0.0.7", 4002, true]]);
    assert.deepEqual(counts.added([{ user: "default", count: 2, host: "10.0.0.8", port: 4001 }], 4), [], "a count that fell (a restart) is the new base");
    assert.equal(counts.added([{ user: "default", count: 3, host: "10.0.0.8", port: 4001 }], 5).length, 1);
  });
});

