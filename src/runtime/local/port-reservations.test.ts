import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { PortReservations } from "./port-reservations.ts";

async function freeRangeStart(): Promise<number> {
  const server = createServer();
  server.listen({ port: 0, host: "127.0.0.1" });
  await once(server, "listening");
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address !== null && typeof address === "object");
  // A port picked by the kernel, moved below the ephemeral range, where nothing of this test listens.
  return 20_000 + (address.port % 9_000);
}

interface Scratch {
  first: number;
  a: PortReservations;
  b: PortReservations;
  homeA: string;
  homeB: string;
  directory: string;
}

/** Two homes sharing a reservation directory, removed afterwards. */
async function withTwoHomes(use: (scratch: Scratch) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "holdfast-ports-"));
  try {
    const directory = join(root, "reservations");
    const homeA = await mkdtemp(join(root, "home-a-"));
    const homeB = await mkdtemp(join(root, "home-b-"));
    const a = new PortReservations({ directory, home: homeA });
    const b = new PortReservations({ directory, home: homeB });
    await use({ first: await freeRangeStart(), a, b, homeA, homeB, directory });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

void test("two homes allocating at once never get the same port, although every port stays bindable", () =>
  withTwoHomes(async ({ first, a, b, homeA, homeB, directory }) => {
    const range = { first, last: first + 40 };
    const taken = { a: new Set<number>(), b: new Set<number>() };
    // Nothing listens on the ports handed out: without reservations both homes would get `first` every time.
    // Each home allocates one port at a time (as its cluster controller does); the two homes run at once.
    const allocateTen = async (home: PortReservations, mine: Set<number>): Promise<void> => {
      for (let i = 0; i < 10; i++) mine.add(await home.allocate(range, new Set(mine)));
    };
    await Promise.all([allocateTen(a, taken.a), allocateTen(b, taken.b)]);
    assert.equal(taken.a.size, 10);
    assert.equal(taken.b.size, 10);
    const overlap = [...taken.a].filter((port) => taken.b.has(port));
    assert.deepEqual(overlap, []);
    const owners = await Promise.all((await readdir(directory)).map(async (f) => JSON.parse(await readFile(join(directory, f), "utf8")) as { home: string }));
    assert.ok(owners.some((o) => o.home === homeA) && owners.some((o) => o.home === homeB));
  }));

void test("a home reuses its own released ports; a deleted home's reservations are taken over", () =>
  withTwoHomes(async ({ first, a, b, homeA }) => {
    const range = { first, last: first + 10 };
    assert.equal(await a.allocate(range, new Set()), first);
    // B may not take A's port while home A exists and records it.
    assert.equal(await b.allocate(range, new Set()), first + 1);
    // A no longer records its port (its cluster was deleted): A gets it again, B still does not.
    assert.equal(await a.allocate(range, new Set()), first);
    await rm(homeA, { recursive: true });
    assert.equal(await b.allocate(range, new Set([first + 1])), first);
  }));

void test("a home that recorded ports before reservations existed claims them, so no other home takes them", () =>
  withTwoHomes(async ({ first, a, b }) => {
    const range = { first, last: first + 10 };
    assert.equal(await a.allocate(range, new Set([first, first + 1])), first + 2);
    assert.equal(await b.allocate(range, new Set()), first + 3);
  }));
