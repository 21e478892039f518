import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describeError } from "./output.ts";
import type { CliContext } from "./context.ts";
import { KEYRING_PATH, runSecrets } from "./secrets.ts";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
}

const KEYRING = {
  primaryKeyId: "bbbb2222",
  keys: [
    { id: "aaaa1111", createdAt: "2025-05-01T12:00:00.000Z", primary: false },
    { id: "bbbb2222", createdAt: "2025-06-01T11:00:00.000Z", primary: true },
  ],
};

let server: Server;
let url: string;
const seen: Seen[] = [];
/** The next answer's status and body, per path. */
const answers = new Map<string, { status: number; body: unknown }>();

function reply(request: IncomingMessage): { status: number; body: unknown } {
  const path = request.url ?? "";
  const set = answers.get(path);
  if (set !== undefined) return set;
  if (request.method === "GET" && path === KEYRING_PATH) return { status: 200, body: KEYRING };
  if (request.method === "POST" && path === `${KEYRING_PATH}/rotate`) return { status: 200, body: { primaryKeyId: "cccc3333", previousPrimaryKeyId: "bbbb2222" } };
  if (request.method === "POST" && path === `${KEYRING_PATH}/rewrap`) return { status: 200, body: { primaryKeyId: "cccc3333", secrets: 4, authRecords: 1, historyPurged: 17 } };
  return { status: 404, body: { kind: "Status", status: "Failure", message: "not found", reason: "NotFound", code: 404 } };
}

before(async () => {
  server = createServer((request, response) => {
    seen.push({ method: request.method ?? "", url: request.url ?? "", authorization: request.headers.authorization });
    request.resume();
    request.on("end", () => {
      const { status, body } = reply(request);
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

function capture(): { ctx: CliContext; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const env = { HOLDFAST_HOME: "/nonexistent-holdfast-home", HOLDFAST_SERVER: url, HOLDFAST_TOKEN: "hfs_test-token" };
  return {
    ctx: { io: { out: (t) => (out += t), err: (t) => (err += t), errIsTTY: false }, env, now: () => new Date("2025-06-01T12:00:00Z") },
    out: () => out,
    err: () => err,
  };
}

describe("holdfast secrets", () => {
  it("lists the keys as a table, marking the primary one, with the session token", async () => {
    const io = capture();
    assert.equal(await runSecrets(io.ctx, ["keys"]), 0);
    assert.equal(io.out(), "ID         PRIMARY   CREATED                    AGE\naaaa1111   false     2025-05-01T12:00:00.000Z   31d\nbbbb2222   true      2025-06-01T11:00:00.000Z   60m\n");
    assert.deepEqual(seen.at(-1), { method: "GET", url: KEYRING_PATH, authorization: "Bearer hfs_test-token" });
    const json = capture();
    assert.equal(await runSecrets(json.ctx, ["keys", "-o", "json"]), 0);
    assert.deepEqual(JSON.parse(json.out()), KEYRING);
  });

  it("rotates with a POST and says how to rewrap", async () => {
    const io = capture();
    assert.equal(await runSecrets(io.ctx, ["rotate-key"]), 0);
    assert.deepEqual(seen.at(-1), { method: "POST", url: `${KEYRING_PATH}/rotate`, authorization: "Bearer hfs_test-token" });
    assert.match(io.out(), /New primary key cccc3333 \(replaces bbbb2222\)/);
    assert.match(io.err(), /holdfast secrets rewrap/);
  });

  it("rewraps with a POST and reports the counts", async () => {
    const io = capture();
    assert.equal(await runSecrets(io.ctx, ["rewrap"]), 0);
    assert.deepEqual(seen.at(-1), { method: "POST", url: `${KEYRING_PATH}/rewrap`, authorization: "Bearer hfs_test-token" });
    assert.equal(io.out(), "Everything is now encrypted with key cccc3333: re-encrypted 4 Secrets and 1 authentication record, dropped 17 change-history entries.\n");
    assert.match(io.err(), /410 Gone/);
    const yaml = capture();
    assert.equal(await runSecrets(yaml.ctx, ["rewrap", "-o", "yaml"]), 0);
    assert.equal(yaml.out(), "primaryKeyId: cccc3333\nsecrets: 4\nauthRecords: 1\nhistoryPurged: 17\n");
  });

  it("shows the server's refusal as kubectl does", async () => {
    answers.set(`${KEYRING_PATH}/rewrap`, {
      status: 403,
      body: { kind: "Status", status: "Failure", message: 'user "bob" cannot create resource "keyring/rewrap"', reason: "Forbidden", code: 403 },
    });
    try {
      const error = await runSecrets(capture().ctx, ["rewrap"]).then(() => undefined, (caught: unknown) => caught);
      assert.deepEqual(describeError(error), { text: 'Error from server (Forbidden): user "bob" cannot create resource "keyring/rewrap"\n', exitCode: 1 });
    } finally {
      answers.delete(`${KEYRING_PATH}/rewrap`);
    }
  });

  it("refuses an answer of the wrong shape instead of printing undefined", async () => {
    answers.set(KEYRING_PATH, { status: 200, body: { primaryKeyId: "x", keys: [{ id: 1 }] } });
    try {
      await assert.rejects(runSecrets(capture().ctx, ["keys"]), /not what this CLI expects/);
    } finally {
      answers.delete(KEYRING_PATH);
    }
  });

  it("has help for itself and each subcommand, and usage errors for mistakes", async () => {
    const none = capture();
    assert.equal(await runSecrets(none.ctx, []), 2);
    assert.match(none.out(), /rotate-key/);
    for (const subcommand of ["keys", "rotate-key", "rewrap"]) {
      const io = capture();
      assert.equal(await runSecrets(io.ctx, [subcommand, "--help"]), 0);
      assert.ok(io.out().includes(`holdfast secrets ${subcommand}`), subcommand);
      assert.match(io.out(), /Example/);
    }
    const before = seen.length;
    await assert.rejects(runSecrets(capture().ctx, ["retire"]), (error: unknown) => describeError(error).exitCode === 2);
    await assert.rejects(runSecrets(capture().ctx, ["keys", "-o", "wide"]), /unknown output format "wide"/);
    await assert.rejects(runSecrets(capture().ctx, ["rewrap", "now"]), /unexpected argument "now"/);
    assert.equal(seen.length, before, "a usage error sends nothing");
  });
});
