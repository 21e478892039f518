/**
 * `npm run quickstart`: install missing engines, initialise the home (TLS, keys, the first administrator),
 * start the control plane in the background, log in, create a sample PostgreSQL cluster, wait for it and
 * print how to connect. Running it again changes nothing, and does not show the password again.
 *
 * Flags: `--listen HOST:PORT` is passed to `holdfast server` (default 127.0.0.1:7420).
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { homePaths, resolveHome } from "../src/config/index.ts";
import { base32Decode, totpAt } from "../src/security/index.ts";
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

function attempt(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(HOLDFAST, args, { input, stdio: ["pipe", "pipe", "pipe"], encoding: "utf8" });
}

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

interface AdminCredentials {
  username: string;
  password: string;
  totpSecret: string;
  recoveryCodes: string[];
}

const { values: flags } = parseArgs({ options: { listen: { type: "string" } }, allowPositionals: false });
const home = resolveHome(undefined);
const credentialsFile = `${home}/initial-admin.json`;

/** First run: `holdfast init`, keeping the administrator's credentials in a 0600 file in the (0700) home. */
function initialise(): void {
  if (existsSync(homePaths(home).tls.serverCertificate)) return;
  step(`Initialising ${home}`);
  const created = holdfast(["init", "-o", "json"]);
  writeFileSync(credentialsFile, created, { mode: 0o600 });
  console.log(`Administrator created. Its password, TOTP secret and recovery codes are in ${credentialsFile} (mode 0600).`);
  console.log("Add the TOTP secret to an authenticator app, keep the rest in a password manager, then delete that file.");
}

/** Log in as the administrator unless the CLI already has a working session; the code comes from the saved secret. */
function logIn(): void {
  if (attempt(["auth", "whoami"]).status === 0) return;
  step("Logging in as the administrator");
  if (!existsSync(credentialsFile)) {
    console.error(`quickstart stopped: not logged in, and ${credentialsFile} is gone. Log in yourself: bin/holdfast login --username admin`);
    process.exit(1);
  }
  const admin = JSON.parse(readFileSync(credentialsFile, "utf8")) as AdminCredentials;
  const secret = base32Decode(admin.totpSecret);
  // A code is accepted once; if this step's code was used already (a run moments ago), the next step's is valid too.
  for (const offset of [0, 30_000]) {
    const result = attempt(["login", "--username", admin.username, "--password-stdin", "--totp", totpAt(secret, Date.now() + offset)], `${admin.password}\n`);
    if (result.status === 0) {
      process.stdout.write(result.stdout);
      return;
    }
    if (offset > 0) {
      process.stderr.write(result.stderr);
      console.error("quickstart stopped: the login failed; log in yourself: bin/holdfast login --username admin");
      process.exit(1);
    }
  }
}

step("Checking engines on this host");
await ensureHost();
initialise();
step("Starting the control plane in the background");
process.stdout.write(holdfast(["server", "--detach", ...(flags.listen === undefined ? [] : ["--listen", flags.listen])]));
logIn();
// The URI holds the generated password: it is shown by the run that creates the cluster, never again.
const existed = attempt(["get", "cluster", CLUSTER]).status === 0;
step(existed ? `The PostgreSQL cluster ${CLUSTER} exists; applying it again` : `Creating the PostgreSQL cluster ${CLUSTER}`);
process.stdout.write(holdfast(["apply", "-f", "-"], MANIFEST));
step("Waiting for it to be Running");
process.stdout.write(holdfast(["wait", `cluster/${CLUSTER}`, "--for=phase=Running", "--timeout=180s"]));
const uriLine = existed
  ? `bin/holdfast cluster connect ${CLUSTER} --show-uri
                    (not repeated here: it contains the password, shown by the run that created the cluster)`
  : `${holdfast(["cluster", "connect", CLUSTER, "--show-uri"]).trim()}
                    (contains the generated password; it is stored encrypted, shown here once at your request)`;
console.log(`
PostgreSQL is running.

  Open psql:        bin/holdfast cluster connect ${CLUSTER}
  Connection URI:   ${uriLine}
  Try it:           psql "$(bin/holdfast cluster connect ${CLUSTER} --show-uri)" -c 'select 1'
  See it:           bin/holdfast get clusters; bin/holdfast describe cluster ${CLUSTER}
  Audit log:        bin/holdfast audit list; bin/holdfast audit verify
  Administrator:    ${existsSync(credentialsFile) ? `credentials in ${credentialsFile} (move them to a password manager, then delete the file)` : "log in with bin/holdfast login --username admin"}
  Stop the server:  bin/holdfast server stop   (databases keep running and are re-adopted at the next start)
`);
