/**
 * Host-wide port reservations, so that two Holdfast homes on one host never hand out the same port.
 *
 * A reservation is a file `<directory>/<port>` naming the home that holds it. Allocation runs under a
 * host-wide mutex held as an abstract Unix socket: the kernel releases it when its process dies, so a
 * crash never leaves the mutex taken. A reservation whose home no longer exists is stale and may be
 * taken; a home reuses its own reservations that it no longer records (a deleted cluster's ports).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { UnavailableError } from "../../errors/index.ts";
import { allocatePort, type PortRange } from "./ports.ts";

const Reservation = z.object({ home: z.string().min(1) });

/** How long to wait for another process's allocation before giving up. */
const MUTEX_TIMEOUT_MS = 30_000;

export interface PortReservationsOptions {
  /** Host-wide directory of reservation files (one per port). */
  directory: string;
  /** The home allocating: reservations name it. */
  home: string;
}

/** Allocates ports that no other home on this host holds, and records each one host-wide. */
export class PortReservations {
  readonly #directory: string;
  readonly #home: string;
  readonly #mutexName: string;

  constructor(options: PortReservationsOptions) {
    this.#directory = options.directory;
    this.#home = options.home;
    // One mutex per reservation directory, so a test with its own directory does not wait for the host's.
    this.#mutexName = `\0holdfast-ports-${createHash("sha256").update(options.directory).digest("hex").slice(0, 24)}`;
  }

  /**
   * A port in `range`, not in `exclude` (the ports this home records), not reserved by another live home
   * and bindable on 127.0.0.1 now; reserved for this home before it is returned.
   */
  async allocate(range: PortRange, exclude: ReadonlySet<number>): Promise<number> {
    return this.#withMutex(async () => {
      const foreign = await this.#foreignReservations();
      for (const port of exclude) if (!foreign.has(port) && inRange(port, range)) await this.#reserve(port, true);
      const port = await allocatePort(range, new Set([...exclude, ...foreign]));
      await this.#reserve(port, false);
      return port;
    });
  }

  /** Ports reserved by homes that still exist, other than this one. */
  async #foreignReservations(): Promise<Set<number>> {
    const ports = new Set<number>();
    for (const entry of await readdir(this.#directory)) {
      if (!/^\d+$/.test(entry)) continue;
      const owner = await this.#owner(Number(entry));
      if (owner !== undefined && owner !== this.#home && existsSync(owner)) ports.add(Number(entry));
    }
    return ports;
  }

  async #owner(port: number): Promise<string | undefined> {
    try {
      const parsed = Reservation.safeParse(JSON.parse(await readFile(this.#file(port), "utf8")));
      return parsed.success ? parsed.data.home : undefined;
    } catch {
      return undefined;
    }
  }

  /** Record `port` for this home; `onlyIfMissing` leaves an existing reservation of ours untouched. */
  async #reserve(port: number, onlyIfMissing: boolean): Promise<void> {
    if (onlyIfMissing && (await this.#owner(port)) === this.#home) return;
    const file = this.#file(port);
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify({ home: this.#home }), { mode: 0o600 });
    await rename(temporary, file);
  }

  #file(port: number): string {
    return join(this.#directory, String(port));
  }

  async #withMutex<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(this.#directory, { recursive: true, mode: 0o700 });
    const mutex = await this.#acquire();
    try {
      return await work();
    } finally {
      await new Promise<void>((resolve) => mutex.close(() => resolve()));
    }
  }

  async #acquire(): Promise<Server> {
    const deadline = Date.now() + MUTEX_TIMEOUT_MS;
    for (;;) {
      const server = await listenOnce(this.#mutexName);
      if (server !== undefined) return server;
      if (Date.now() > deadline) throw new UnavailableError(`Another Holdfast process has held the host's port allocation for over ${MUTEX_TIMEOUT_MS / 1000} s; try again`);
      await sleep(10 + Math.random() * 20);
    }
  }
}

function inRange(port: number, range: PortRange): boolean {
  return port >= range.first && port <= range.last;
}

/** Listen on an abstract socket: the server when this process got it, undefined when another holds it. */
function listenOnce(name: string): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen({ path: name, exclusive: true }, () => resolve(server));
  });
}
