/** The engine contract: everything Holdfast knows about one database, behind one interface. */
import type { ResourceRequirements } from "../api/index.ts";

/** One version of an engine installed on this host. */
export interface EngineVersion {
  /** Full version as the server reports it, e.g. `15.18` or `7.0.15`. */
  version: string;
  /** Major version, e.g. `15` or `7`. */
  major: string;
  /** Directory holding the engine's server and tool binaries. */
  binDir: string;
}

/** A system account the engine creates in every instance. */
export interface SystemAccount {
  name: string;
  /** What the account is for, shown in docs and `describe`. */
  purpose: string;
}

/** Username and password of a system account, decrypted in memory only. */
export interface Credentials {
  username: string;
  password: string;
}

/** A topology of the built-in cluster definition, e.g. `standalone`. */
export interface TopologyDefinition {
  name: string;
  /** Is this the default topology when a cluster names none? */
  default: boolean;
  /** Component names this topology consists of. */
  components: { name: string; minReplicas: number; maxReplicas: number }[];
}

/** The built-in ClusterDefinition of an engine. */
export interface ClusterDefinition {
  name: string;
  topologies: TopologyDefinition[];
}

/** Where one instance lives and how it is reached. All paths absolute. */
export interface InstanceLayout {
  instanceName: string;
  /** Root of the instance's files; owned by the service user, mode 0700. */
  rootDirectory: string;
  /** The engine's data directory (PGDATA, Redis `dir`); inside rootDirectory. */
  dataDirectory: string;
  /** Config files, pid files, temporary files; inside rootDirectory. */
  runDirectory: string;
  port: number;
}

/** What an engine needs to set up or run one instance. */
export interface InstanceContext extends InstanceLayout {
  version: EngineVersion;
  parameters: Record<string, string>;
  role: string;
}

/** A command line, never carrying secrets: those go through files or stdin. */
export interface CommandSpec {
  command: string;
  args: string[];
  /** Extra environment (never secrets). */
  env?: Record<string, string>;
}

/** Operations on the host the engine may use, running as the unprivileged service user. */
export interface HostAccess {
  /** Run a command to completion as the service user; rejects with its stderr on a non-zero exit. */
  run(command: CommandSpec, options?: { stdin?: string; cwd?: string; timeoutMs?: number }): Promise<{ stdout: string; stderr: string }>;
  /** Write a file owned by the service user (mode 0600 unless given). */
  writeFile(path: string, content: string, mode?: number): Promise<void>;
  /** Create a directory owned by the service user (mode 0700), with parents. */
  mkdir(path: string): Promise<void>;
}

/** How to stop the server process gracefully. */
export interface StopBehaviour {
  signal: NodeJS.Signals;
  /** After this long, SIGKILL. */
  timeoutMs: number;
}

/** A database engine module. No controller contains engine-specific branches; they live here. */
export interface Engine {
  readonly name: string;
  readonly definition: ClusterDefinition;
  /** System accounts; the first one is the administrator used for probes and `cluster connect`. */
  readonly systemAccounts: readonly SystemAccount[];
  readonly stop: StopBehaviour;
  /** Versions installed on this host, newest first. */
  detectVersions(): Promise<EngineVersion[]>;
  /** Debian packages that provide the server and client. */
  readonly packages: readonly string[];
  /**
   * The installed version a cluster's `serviceVersion` asks for: undefined asks for the newest;
   * `15` or `15.18` or `15.18.0` match 15.18. Returns undefined when nothing installed matches.
   */
  matchVersion(requested: string | undefined, installed: readonly EngineVersion[]): EngineVersion | undefined;
  /** Engine parameters derived from the component's resources (pure). */
  parametersFor(resources: ResourceRequirements | undefined): Record<string, string>;
  /** Has `initialize` completed for this data directory? */
  isInitialized(layout: InstanceLayout): Promise<boolean>;
  /** Initialise a new data directory and set the system accounts' passwords. Idempotent from scratch: the caller empties the directory first. */
  initialize(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void>;
  /** (Re)write configuration before each start, so parameter and port changes take effect. */
  configure(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void>;
  /** The foreground server command; it logs to stdout/stderr. */
  startCommand(context: InstanceContext): CommandSpec;
  /** The engine's own pid file, read to re-adopt a running server whose pid Holdfast did not record. */
  pidFile(layout: InstanceLayout): string;
  /** Does the server accept authenticated queries? Never throws. */
  probeReady(port: number, admin: Credentials): Promise<boolean>;
  /** The server's role in replication (`primary`, `secondary`), or undefined when unreachable. */
  probeRole(port: number, admin: Credentials): Promise<string | undefined>;
  /** Command that opens the engine's own client; the password reaches it through `passwordFile`/env file, never argv. */
  clientCommand(port: number, account: Credentials): { command: string; args: string[]; env: Record<string, string>; passwordFile?: { envVar: string; content: string } };
  /** A connection URI (contains the password: shown only on request). */
  connectionUri(host: string, port: number, account: Credentials): string;
}
