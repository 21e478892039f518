/**
 * A stable endpoint: a fixed port on one address of this node that forwards each TCP connection to one of its
 * targets, wherever they run (kube-proxy's part of a Kubernetes Service). Targets change without the port changing;
 * while the endpoint is held (a switchover drains it, a primary is coming) new connections wait instead of failing.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import { tlsVerdict, type TlsStart } from "./tls-gate.ts";

/** How long a new connection to a TLS-only endpoint may take to send its first bytes. */
const FIRST_BYTES_TIMEOUT_MS = 10_000;

/** How an endpoint behaves. */
export interface EndpointOptions {
  name: string;
  /** The address it listens on (this node's advertised address). */
  host: string;
  port: number;
  /** How long a new connection may wait for a target (held, or none) before it is closed. */
  holdTimeoutMs: number;
  /** Forward only connections that start TLS as this says; plaintext is refused with the protocol's error (an exposed endpoint). */
  tlsOnly?: TlsStart | undefined;
}

/**
 * Where connections go now. With no targets and no hold, connections are refused at once (nothing is
 * expected to serve: a stopped cluster); while held they wait for a route with targets.
 */
export interface EndpointRoute {
  /** Where to spread new connections, round-robin. */
  targets: readonly EndpointTarget[];
  /** Hold new connections until a route without `hold` arrives (draining for a switchover, waiting for a primary). */
  hold?: boolean;
}

/** One address connections are forwarded to. */
export interface EndpointTarget {
  host: string;
  port: number;
}

interface Waiting {
  client: Socket;
  timer: NodeJS.Timeout;
  /** When the connection gives up waiting, kept across retries. */
  deadline: number;
}

/** One listening endpoint. */
export class EndpointProxy {
  readonly options: EndpointOptions;
  readonly #server: Server;
  /** Each forwarded client, its upstream connection and the target it reached (`host:port`). */
  readonly #forwarded = new Map<Socket, { upstream: Socket; target: string }>();
  readonly #waiting = new Set<Waiting>();
  #route: EndpointRoute = { targets: [] };
  #next = 0;

  constructor(options: EndpointOptions) {
    this.options = options;
    this.#server = createServer({ pauseOnConnect: true, noDelay: true }, (client) => this.#accept(client));
  }

  /** Start listening; rejects when the port cannot be bound (e.g. another program took it). */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const failed = (error: Error): void => reject(new UnavailableError(`endpoint ${this.options.name} cannot listen on ${this.options.host}:${this.options.port}: ${errorMessage(error)}; free the port`, { cause: error }));
      this.#server.once("error", failed);
      this.#server.listen({ host: this.options.host, port: this.options.port, exclusive: true }, () => {
        this.#server.off("error", failed);
        this.#server.on("error", () => undefined);
        resolve();
      });
    });
  }

  /** Send new connections to `route`; connections to targets no longer in it are closed (they reach an instance that lost the role). True when the route changed. */
  setRoute(route: EndpointRoute): boolean {
    const next = { targets: route.targets.map((t) => ({ host: t.host, port: t.port })), hold: route.hold === true };
    const changed = JSON.stringify(next) !== JSON.stringify(this.#route);
    this.#route = next;
    const kept = new Set(route.targets.map(targetKey));
    for (const [client, { upstream, target }] of this.#forwarded) {
      if (!kept.has(target)) {
        client.destroy();
        upstream.destroy();
      }
    }
    // Waiting connections try again when the route changes (a retry on the same targets would fail the same way).
    if (changed && !this.#isHeld()) for (const waiting of [...this.#waiting]) this.#release(waiting);
    return changed;
  }

  /** The route in force. */
  get route(): EndpointRoute {
    return this.#route;
  }

  /** Connections forwarded now, and connections waiting for a target. */
  get connections(): { forwarded: number; waiting: number } {
    return { forwarded: this.#forwarded.size, waiting: this.#waiting.size };
  }

  /** Stop listening and close every connection. */
  async close(): Promise<void> {
    for (const waiting of this.#waiting) {
      clearTimeout(waiting.timer);
      waiting.client.destroy();
    }
    this.#waiting.clear();
    for (const [client, { upstream }] of this.#forwarded) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #isHeld(): boolean {
    return this.#route.hold === true;
  }

  #accept(client: Socket): void {
    client.on("error", () => undefined);
    const tlsOnly = this.options.tlsOnly;
    if (tlsOnly === undefined) this.#admit(client);
    else this.#gate(client, tlsOnly);
  }

  #admit(client: Socket): void {
    const deadline = Date.now() + this.options.holdTimeoutMs;
    if (this.#isHeld()) this.#wait(client, deadline);
    else this.#forward(client, 0, deadline);
  }

  /** Read the client's first bytes: admit it (bytes put back) when they start TLS, else answer the protocol's error and close. */
  #gate(client: Socket, start: TlsStart): void {
    let seen = Buffer.alloc(0);
    const timer = setTimeout(() => client.destroy(), FIRST_BYTES_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      const verdict = tlsVerdict(seen, start);
      if (verdict === "more") return;
      client.off("data", onData);
      client.pause();
      clearTimeout(timer);
      if (verdict === "tls") {
        client.unshift(seen);
        this.#admit(client);
        return;
      }
      client.end(start.refusal(`endpoint ${this.options.name} accepts TLS connections only: connect with TLS (e.g. sslmode=verify-full, redis-cli --tls)`));
    };
    client.on("data", onData);
    client.once("close", () => clearTimeout(timer));
    client.resume();
  }

  /** Keep the client (paused, its bytes buffered) until the route changes or `deadline` passes. */
  #wait(client: Socket, deadline: number): void {
    const remaining = deadline - Date.now();
    if (remaining <= 0 || client.destroyed) {
      client.destroy();
      return;
    }
    const waiting: Waiting = { client, deadline, timer: setTimeout(() => this.#expire(waiting), remaining) };
    this.#waiting.add(waiting);
    client.once("close", () => this.#drop(waiting));
  }

  #release(waiting: Waiting): void {
    this.#drop(waiting);
    if (!waiting.client.destroyed) this.#forward(waiting.client, 0, waiting.deadline);
  }

  #drop(waiting: Waiting): void {
    clearTimeout(waiting.timer);
    this.#waiting.delete(waiting);
  }

  #expire(waiting: Waiting): void {
    this.#drop(waiting);
    waiting.client.destroy();
  }

  /** Connect to the next target; on refusal try the others once each, then wait for the route to change. */
  #forward(client: Socket, attempt: number, deadline: number): void {
    const targets = this.#route.targets;
    if (targets.length === 0) {
      client.destroy();
      return;
    }
    // Every target refused (the primary just died): wait for the route to change.
    if (attempt >= targets.length) {
      this.#wait(client, deadline);
      return;
    }
    const target = targets[this.#next++ % targets.length] ?? targets[0];
    if (target === undefined) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: target.host, port: target.port, noDelay: true });
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      this.#forwarded.set(client, { upstream, target: targetKey(target) });
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on("error", () => {
      if (!connected && !client.destroyed) this.#forward(client, attempt + 1, deadline);
    });
    upstream.once("close", () => {
      this.#forwarded.delete(client);
      if (connected) client.destroy();
    });
    client.once("close", () => upstream.destroy());
  }
}

function targetKey(target: EndpointTarget): string {
  return `${target.host}\0${target.port}`;
}
