/**
 * `npm run lab -- up --hosts N [--home DIR] [--network M]`: a lab of N hosts on this machine (network namespaces
 * hf-lab-1…N on 10.213.7.0/24, or hf-labM-1…N on 10.213.(6+M).0/24 for network M ≥ 2, a 3-member etcd, a Holdfast
 * node in each); prints one JSON document describing it on stdout (use `npm run --silent`, or npm's banner comes
 * first), progress on stderr. The state file records the network, so `status` and `down` need only `--home`.
 * `npm run lab -- status [--home DIR]`: namespaces, processes and API readiness per host.
 * `npm run lab -- down [--home DIR]`: removes every namespace, process, OS user, mount and directory the lab made.
 * See docs/lab.md.
 */
import { parseArgs } from "node:util";
import { DEFAULT_LAB_HOME, Lab, MAX_NETWORK } from "../src/lab/index.ts";
import { ensureLabHost } from "./host.ts";

const USAGE = `Usage:
  npm run --silent lab -- up --hosts N [--home DIR] [--network M]   (default home ${DEFAULT_LAB_HOME}, network 1;
                                                                   M in 1..${MAX_NETWORK}: labs on different networks run side by side)
  npm run lab -- status [--home DIR]
  npm run lab -- down [--home DIR]
`;

const { values, positionals } = parseArgs({ options: { hosts: { type: "string" }, home: { type: "string" }, network: { type: "string" }, help: { type: "boolean", short: "h" } }, allowPositionals: true });
const home = values.home ?? DEFAULT_LAB_HOME;
const log = (line: string): void => void process.stderr.write(`lab: ${line}\n`);

async function up(): Promise<void> {
  const raw = values.hosts ?? "3";
  if (!/^\d+$/.test(raw)) throw new Error(`--hosts ${raw}: give a whole number from 1 to 20`);
  const hosts = Number(raw);
  const rawNetwork = values.network ?? "1";
  if (!/^\d+$/.test(rawNetwork)) throw new Error(`--network ${rawNetwork}: give a whole number from 1 to ${MAX_NETWORK}`);
  await ensureLabHost();
  const lab = await Lab.up({ hosts, home, network: Number(rawNetwork), log });
  process.stdout.write(`${JSON.stringify(lab.describe(), null, 2)}\n`);
}

async function status(): Promise<void> {
  if (!Lab.exists(home)) {
    process.stdout.write(`no lab at ${home}\n`);
    process.exitCode = 1;
    return;
  }
  const lab = Lab.open(home);
  const hosts = await lab.status();
  for (const host of hosts) {
    const processes = host.processes.map((p) => `${p.kind} ${p.name} pid ${p.pid} ${p.alive ? "alive" : "gone"}`).join(", ");
    process.stdout.write(`${host.name}  namespace ${host.namespace ? "yes" : "MISSING"}  link ${host.linkUp ? "up" : "down"}  api ${host.apiReady ? "ready" : "NOT READY"}  ${lab.host(host.name).api}  ${processes}\n`);
  }
  process.stdout.write(`phase: ${lab.state.phase}\n`);
  if (hosts.some((host) => !host.apiReady)) process.exitCode = 1;
}

async function down(): Promise<void> {
  const removed = await Lab.down(home, log);
  log(removed ? `removed the lab at ${home}` : `no lab recorded at ${home}; nothing to do`);
}

const commands: Record<string, () => Promise<void>> = { up, status, down };
const command = commands[positionals[0] ?? ""];
if (values.help === true || command === undefined || positionals.length !== 1) {
  process.stderr.write(USAGE);
  process.exit(values.help === true ? 0 : 2);
}
try {
  await command();
} catch (error) {
  process.stderr.write(`lab: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
