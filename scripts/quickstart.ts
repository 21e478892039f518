/**
 * `npm run quickstart`: install missing engines, start the control plane in the background, create a
 * sample PostgreSQL cluster, wait for it and print how to connect. Running it again changes nothing.
 */
import { spawnSync } from "node:child_process";
import { ensureHost, HOLDFAST } from "./host.ts";

const CLUSTER = "quickstart-pg";
const MANIFEST = `apiVersion: apps.kubeblocks.io/v1
kind: Cluster
metadata:
  name: ${CLUSTER}
  namespace: default
spec:
  clusterDef: postgresql
  topology: replication
  terminationPolicy: Delete
  componentSpecs:
    - name: postgresql
      replicas: 1
      resources:
        limits:
          memory: 1Gi
`;

function holdfast(args: string[], input?: string): string {
  const result = spawnSync(HOLDFAST, args, { input, stdio: ["pipe", "pipe", "inherit"], encoding: "utf8" });
  if (result.status !== 0) {
    process.stdout.write(result.stdout);
    console.error(`\nquickstart stopped: holdfast ${args.join(" ")} failed (exit ${result.status ?? "signal"})`);
    process.exit(result.status ?? 1);
  }
  return result.stdout;
}

function step(text: string): void {
  console.log(`\n==> ${text}`);
}

step("Checking engines on this host");
await ensureHost();
step("Starting the control plane in the background");
process.stdout.write(holdfast(["server", "--detach"]));
step(`Creating the PostgreSQL cluster ${CLUSTER}`);
process.stdout.write(holdfast(["apply", "-f", "-"], MANIFEST));
step("Waiting for it to be Running");
process.stdout.write(holdfast(["wait", `cluster/${CLUSTER}`, "--for=phase=Running", "--timeout=180s"]));
const uri = holdfast(["cluster", "connect", CLUSTER, "--show-uri"]).trim();
console.log(`
PostgreSQL is running.

  Open psql:        bin/holdfast cluster connect ${CLUSTER}
  Connection URI:   ${uri}
                    (contains the generated password; it is stored encrypted, shown here once at your request)
  Try it:           psql "$(bin/holdfast cluster connect ${CLUSTER} --show-uri)" -c 'select 1'
  See it:           bin/holdfast get clusters; bin/holdfast describe cluster ${CLUSTER}
  Stop the server:  bin/holdfast server stop   (databases keep running and are re-adopted at the next start)
`);
