/** The endpoints this node serves, by name: opened on their recorded ports, routed, closed. */
import { EndpointProxy, type EndpointOptions, type EndpointRoute } from "./endpoint-proxy.ts";

/** Every endpoint this node serves; constructed once and handed to the node agent's endpoint controller. */
export class EndpointRegistry {
  readonly #endpoints = new Map<string, EndpointProxy>();
  readonly #opening = new Map<string, Promise<EndpointProxy>>();

  /** The endpoint `options.name` listening on `options.port`; opened (or moved to that port) when needed. */
  async ensure(options: EndpointOptions): Promise<EndpointProxy> {
    const pending = this.#opening.get(options.name);
    if (pending) await pending.catch(() => undefined);
    const existing = this.#endpoints.get(options.name);
    if (existing && existing.options.port === options.port && existing.options.host === options.host) return existing;
    const opening = this.#open(options, existing);
    this.#opening.set(options.name, opening);
    try {
      return await opening;
    } finally {
      this.#opening.delete(options.name);
    }
  }

  async #open(options: EndpointOptions, existing: EndpointProxy | undefined): Promise<EndpointProxy> {
    if (existing) {
      this.#endpoints.delete(options.name);
      await existing.close();
    }
    const endpoint = new EndpointProxy(options);
    await endpoint.listen();
    this.#endpoints.set(options.name, endpoint);
    return endpoint;
  }

  /** Route the endpoint `name`, if it is open; true when that changed its route. */
  route(name: string, route: EndpointRoute): boolean {
    return this.#endpoints.get(name)?.setRoute(route) ?? false;
  }

  get(name: string): EndpointProxy | undefined {
    return this.#endpoints.get(name);
  }

  /** Names of the open endpoints. */
  names(): string[] {
    return [...this.#endpoints.keys()];
  }

  /** Close one endpoint (its cluster is gone). */
  async remove(name: string): Promise<void> {
    const endpoint = this.#endpoints.get(name);
    this.#endpoints.delete(name);
    await endpoint?.close();
  }

  /** Close every endpoint (the node's server stops; clients reconnect once it is back, or use another node). */
  async closeAll(): Promise<void> {
    const all = [...this.#endpoints.values()];
    this.#endpoints.clear();
    await Promise.all(all.map((e) => e.close()));
  }
}
