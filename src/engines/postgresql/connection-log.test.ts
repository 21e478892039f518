import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectionLog } from "./connection-log.ts";

const RECEIVED = "2026-12-06 15:30:00.100 UTC [4242] [unknown]@[unknown] LOG:  connection received: host=127.0.0.1 port=51234\n";
const AUTHORIZED = "2026-12-06 15:30:00.120 UTC [4242] postgres@postgres LOG:  connection authorized: user=postgres database=postgres application_name=psql SSL enabled (protocol=TLSv1.3)\n";

describe("PostgreSQL connection log", () => {
  it("joins a login to the address it came from by the backend's pid, across chunks cut mid-line", () => {
    const log = new ConnectionLog();
    const text = `${RECEIVED}2026-12-06 15:30:00.110 UTC [4243] LOG:  connection received: host=10.0.0.9 port=40000\n${AUTHORIZED}`;
    const cut = text.length - 30;
    assert.deepEqual(log.read(text.slice(0, cut)), []);
    assert.deepEqual(log.read(text.slice(cut)), [{ time: Date.parse("2026-12-06T15:30:00.120Z"), user: "postgres", database: "postgres", applicationName: "psql", host: "127.0.0.1", port: 51234 }]);
  });

  it("reads a login without application_name or a received line, once the log has been followed longer than authentication may take", () => {
    const log = new ConnectionLog();
    assert.deepEqual(log.read(RECEIVED), []);
    const [login] = log.read("2026-12-06 15:31:00.120 UTC [7] app@shop LOG:  connection authorized: user=app database=shop\n");
    assert.deepEqual(login, { time: Date.parse("2026-12-06T15:31:00.120Z"), user: "app", database: "shop", applicationName: "", host: "", port: 0 });
  });

  it("does not report a connection received before the log was followed, whose address it cannot know", () => {
    const log = new ConnectionLog();
    // The watch began reading between this backend's "received" and "authorized" lines.
    assert.deepEqual(log.read("2026-12-06 15:30:00.050 UTC [99] postgres@postgres LOG:  connection authenticated: identity=\"postgres\" method=scram-sha-256\n"), []);
    assert.deepEqual(log.read("2026-12-06 15:30:00.060 UTC [99] postgres@postgres LOG:  connection authorized: user=postgres database=postgres\n"), []);
    const [later] = log.read(`${RECEIVED}${AUTHORIZED}`);
    assert.equal(later?.host, "127.0.0.1", "a connection received while followed is read as always");
  });

  it("reads a refused login (a wrong password, no pg_hba.conf rule) under the pid of its received line, and no other FATAL", () => {
    const log = new ConnectionLog();
    const lines = [
      RECEIVED,
      '2026-12-06 15:30:00.130 UTC [4242] postgres@postgres FATAL:  password authentication failed for user "postgres"\n',
      '2026-12-06 15:30:00.131 UTC [4242] postgres@postgres DETAIL:  Connection matched pg_hba.conf line 3: "host all all 127.0.0.1/32 scram-sha-256"\n',
      "2026-12-06 15:30:01.000 UTC [4250] [unknown]@[unknown] LOG:  connection received: host=10.0.0.7 port=40001\n",
      '2026-12-06 15:30:01.010 UTC [4250] eve@shop FATAL:  no pg_hba.conf entry for host "10.0.0.7", user "eve", database "shop", no encryption\n',
      "2026-12-06 15:30:02.000 UTC [4251] [unknown]@[unknown] LOG:  connection received: host=10.0.0.8 port=40002\n",
      '2026-12-06 15:30:02.010 UTC [4251] app@shop FATAL:  database "shop" does not exist\n',
      "2026-12-06 15:30:03.000 UTC [4252] [unknown]@[unknown] LOG:  connection received: host=10.0.0.9 port=40003\n",
      '2026-12-06 15:30:03.010 UTC [4252] bob@postgres FATAL:  password authentication failed for user "b"ob"\n',
    ].join("");
    assert.deepEqual(log.read(lines), [
      { time: Date.parse("2026-12-06T15:30:00.130Z"), user: "postgres", database: "", applicationName: "", host: "127.0.0.1", port: 51234, refused: true },
      { time: Date.parse("2026-12-06T15:30:01.010Z"), user: "eve", database: "shop", applicationName: "", host: "10.0.0.7", port: 40001, refused: true },
      { time: Date.parse("2026-12-06T15:30:03.010Z"), user: 'b"ob', database: "", applicationName: "", host: "10.0.0.9", port: 40003, refused: true },
    ]);
  });
});
