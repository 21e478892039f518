/**
 * Several control-plane nodes on this machine sharing one etcd: each its own home, loopback address and node name.
 * The first is initialised on the etcd and logs the CLI in; the others join with a join command of the first and use
 * its session. Every node and the etcd are removed by `destroy()`, also after a setup that failed halfway.
 */
import assert from "node:assert/strict";
import { startEtcd, type TestEtcd } from "./etcd.ts";
import { TestServer } from "./harness.ts";

/** One node: its name, the loopback address it advertises and listens on, and more `holdfast server` flags. */
export interface TestNodeSpec {
  name: string;
  address: string;
  serverArgs?: string[];
}

const LEASE_PATH = "/apis/coordination.k8s.io/v1/namespaces/holdfast-system/leases/holdfast-controllers";

/** The `init --join ...` arguments of a fresh join command from `from`. */
export async function joinArgs(from: TestServer): Promise<string[]> {
  const command = (await from.ok(["node", "join-command", "--ttl", "10m"])).trim();
  const words = command.split(/\s+/);
  assert.deepEqual(words.slice(0, 3), ["holdfast", "init", "--join"], command);
  return words.slice(2);
}

/** The holder of the controllers' lease, as `via` reads it (undefined when nobody holds it). */
export async function controllersLeader(via: TestServer): Promise<string | undefined> {
  const response = await via.fetch(LEASE_PATH);
  if (response.status === 404) return undefined;
  return ((await response.json()) as { spec?: { holderIdentity?: string } }).spec?.holderIdentity;
}

/** Nodes on one etcd, by name. */
export class TestNodes {
  etcd: TestEtcd | undefined;
  readonly servers = new Map<string, TestServer>();
  #first: TestServer | undefined;

  /** Start an etcd of `etcdMembers` members, the first node of `specs` on it, and join the others. */
  async start(specs: readonly TestNodeSpec[], options: { etcdMembers?: 1 | 3 } = {}): Promise<void> {
    const [first, ...others] = specs;
    assert.ok(first !== undefined, "at least one node");
    const etcd = await startEtcd({ members: options.etcdMembers ?? 1 });
    this.etcd = etcd;
    this.#first = await TestServer.start({
      initArgs: ["--store", etcd.url, "--node-name", first.name, "--advertise", first.address],
      listenHost: first.address,
      ...serverArgsOf(first),
    });
    this.servers.set(first.name, this.#first);
    for (const spec of others) await this.join(spec);
  }

  /** Join one more node with a join command of the first, start its server, and give it the first node's session. */
  async join(spec: TestNodeSpec): Promise<TestServer> {
    const first = this.#first ?? assert.fail("start the first node before joining others");
    const joined = await TestServer.join([...(await joinArgs(first)), "--node-name", spec.name, "--advertise", spec.address], { listenHost: spec.address, ...serverArgsOf(spec) });
    this.servers.set(spec.name, joined);
    await joined.startProcess();
    joined.session = await first.token();
    return joined;
  }

  /** The node called `name`. */
  node(name: string): TestServer {
    return this.servers.get(name) ?? assert.fail(`no node ${name}`);
  }

  /** Stop every node (and its databases), then the etcd, even when removing one of them fails (reported after). */
  async destroy(): Promise<void> {
    const failed: unknown[] = [];
    for (const server of this.servers.values()) await server.destroy().catch((error: unknown) => failed.push(error));
    await this.etcd?.destroy().catch((error: unknown) => failed.push(error));
    if (failed.length > 0) throw new AggregateError(failed, `${failed.length} of the nodes or their etcd were not removed cleanly`);
  }
}

function serverArgsOf(spec: TestNodeSpec): { serverArgs?: string[] } {
  return spec.serverArgs === undefined ? {} : { serverArgs: spec.serverArgs };
}
