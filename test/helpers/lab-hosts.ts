/** A lab's hosts as a multihost test uses them: by name, those not killed right now, and each one's read-write endpoint. */
import assert from "node:assert/strict";
import type { Lab, LabHostPlan } from "../../src/lab/index.ts";

export class LabHosts {
  readonly #lab: Lab;
  /** The read-write endpoint's URI on each host's address, by host name (`cluster connect --show-uri` through that host). */
  readonly endpoints = new Map<string, string>();
  /** Hosts whose processes are killed right now: the API is asked through the others. */
  readonly down = new Set<string>();

  constructor(lab: Lab) {
    this.#lab = lab;
  }

  /** The host an instance is bound to (`spec.nodeName`). */
  host(name: string | undefined): LabHostPlan {
    return this.#lab.host(name ?? assert.fail("an instance bound to a node"));
  }

  /** The first host that is not down, other than `except`. */
  live(except?: string): LabHostPlan {
    return this.#lab.hosts.find((h) => !this.down.has(h.name) && h.name !== except) ?? assert.fail("a live host");
  }

  endpoint(name: string): string {
    return this.endpoints.get(name) ?? assert.fail(`the endpoint on ${name}`);
  }
}
