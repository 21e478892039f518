/** Several Holdfast nodes on one etcd and one machine, each advertising (and listening on) its own loopback address. */
import { TestServer } from "./harness.ts";

/**
 * Start the first of `nodes` (`[name, address]`) on the store at `storeUrl`, join each other one with a fresh join
 * command and start it, and give every node the first one's session. Each is put in `servers` as soon as it exists,
 * so the caller's clean-up stops it even when a later one fails to start.
 */
export async function startNodes(storeUrl: string, nodes: readonly (readonly [string, string])[], servers: Map<string, TestServer>): Promise<void> {
  const [first, ...others] = nodes;
  if (first === undefined) throw new Error("startNodes needs at least one node");
  const firstServer = await TestServer.start({ initArgs: ["--store", storeUrl, "--node-name", first[0], "--advertise", first[1]], listenHost: first[1] });
  servers.set(first[0], firstServer);
  const session = await firstServer.token();
  for (const [name, address] of others) {
    const words = (await firstServer.ok(["node", "join-command", "--ttl", "10m"])).trim().split(/\s+/).slice(2);
    const joined = await TestServer.join([...words, "--node-name", name, "--advertise", address], { listenHost: address });
    servers.set(name, joined);
    await joined.startProcess();
    joined.session = session;
  }
}
