/**
 * The lab's state file, `<lab home>/lab.json` (0600): the plan, what `up` changed on the machine and the processes it
 * started. Written before anything is made and after each step, so `down` and `status` find everything, even after
 * an `up` that crashed half-way.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { NotFoundError } from "../errors/index.ts";

/** A lab name: `hf-lab-…` (network 1) or `hf-labN-…` (network N). */
const labName = z.string().regex(/^hf-lab[2-9]?-/, "not a lab name (hf-lab-… or hf-labN-…)");

const hostSchema = z.object({
  index: z.number().int().positive(),
  name: labName,
  namespace: labName,
  address: z.string(),
  api: z.string(),
  home: z.string(),
  bridgePort: labName,
});

const etcdSchema = z.object({
  name: z.string(),
  host: z.number().int().positive(),
  namespace: labName,
  clientUrl: z.string(),
  peerUrl: z.string(),
  dataDir: z.string(),
  logFile: z.string(),
});

const processSchema = z.object({
  kind: z.enum(["etcd", "server"]),
  name: z.string(),
  namespace: labName,
  pid: z.number().int().positive(),
  startTicks: z.string(),
});

const adminSchema = z.object({ username: z.string(), passwordFile: z.string(), totpSecretFile: z.string(), recoveryCodesFile: z.string() });

const stateSchema = z.object({
  version: z.literal(1),
  home: z.string(),
  /** `up` made the home directory itself (so `down` removes it whole). */
  createdHome: z.boolean(),
  /** /run/netns before `up`: iproute2 mounts it on first use, `down` undoes that when nothing else uses it. */
  netnsDir: z.object({ existed: z.boolean(), mounted: z.boolean() }),
  phase: z.enum(["creating", "up", "failed"]),
  /** The lab network (1..9); state files written before networks existed are network 1. */
  network: z.number().int().min(1).max(9).default(1),
  hosts: z.array(hostSchema),
  etcd: z.array(etcdSchema),
  adminDir: z.string(),
  processes: z.array(processSchema),
  admin: adminSchema.optional(),
});

/** Everything `down` and `status` need. */
export type LabState = z.infer<typeof stateSchema>;
/** Where the administrator's credentials are (0600 files). */
export type LabAdmin = z.infer<typeof adminSchema>;

/** The state file of the lab at `home`. */
export function stateFile(home: string): string {
  return join(home, "lab.json");
}

/** Whether a lab (complete or not) is recorded at `home`. */
export function hasState(home: string): boolean {
  return existsSync(stateFile(home));
}

/** Read and check the state file. */
export function readState(home: string): LabState {
  const file = stateFile(home);
  if (!existsSync(file)) throw new NotFoundError(`no lab at ${home} (${file} does not exist); start one with npm run lab -- up --hosts 3 --home ${home}`);
  return stateSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}

/** Write the state file atomically, 0600. */
export function writeState(state: LabState): void {
  const file = stateFile(state.home);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}
