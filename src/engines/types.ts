/** The engine contract: everything Holdfast knows about one database, behind one interface. */
import type { Readable } from "node:stream";
import type { ResourceRequirements } from "../api/index.ts";
import type { EngineParameters } from "./parameter-schema.ts";

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
  /**
   * Other passwords the server is to accept for this account besides `password`, for engines whose users hold several
   * (Redis ACL): set while a rotation is under way (ADR 0038), so a restart keeps both; never used to log in.
   */
  otherPasswords?: readonly string[];
}

/** A topology of the built-in cluster definition, e.g. `standalone`. */
export interface TopologyDefinition {
  name: string;
  /** Is this the default topology when a cluster names none? */
  default: boolean;
  /**
   * Component names this topology consists of; `replicated` ones run a primary and replicas (the engine's `replication`).
   * `defaultReplicas` is what `cluster create` asks for when the user names no count (else minReplicas).
   */
  components: { name: string; minReplicas: number; maxReplicas: number; defaultReplicas?: number; replicated?: boolean; arbiterOf?: string }[];
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

/** An instance's TLS files, in its own directory: its serving pair (key 0600, its OS user's) and the CA that signed it and its peers. */
export interface InstanceTls {
  certificateFile: string;
  keyFile: string;
  caFile: string;
}

/** What an engine needs to set up or run one instance. */
export interface InstanceContext extends InstanceLayout {
  version: EngineVersion;
  parameters: Record<string, string>;
  role: string;
  /** The address the server listens on besides loopback, and peers reach it at (absent: 127.0.0.1 only). */
  address?: string;
  /** The addresses of the instances of its component (itself included): replication is accepted from these alone. */
  peerAddresses?: readonly string[];
  /** TLS for connections between instances and for clients; absent: no TLS (tests of the engine alone). */
  tls?: InstanceTls;
  /**
   * Clients in TLS only, on loopback too (the component's `tls: true`, ADR 0042): the server refuses every plaintext
   * connection, and the node agent's own sessions use TLS. Needs `tls`.
   */
  tlsOnly?: boolean;
}

/** Live parameters to give a running server: `set` (name → value) and `removed` names, in the instance's full context. */
export interface LiveParameterChange {
  context: InstanceContext;
  set: Readonly<Record<string, string>>;
  removed: readonly string[];
}

/** What a client trusts: the CA file that signs Holdfast's instance certificates (the cluster CA). */
export interface ClientTrust {
  caFile: string;
}

/** A command line, never carrying secrets: those go through files or stdin. */
export interface CommandSpec {
  command: string;
  args: string[];
  /** Extra environment (never secrets). */
  env?: Record<string, string>;
  /** File-creation mask to run with, for servers that create files with the process's umask (e.g. 0o077). */
  umask?: number;
}

/** Operations on the host the engine may use, running as the unprivileged service user. */
export interface HostAccess {
  /** Run a command to completion as the service user; rejects with its stderr on a non-zero exit. */
  run(command: CommandSpec, options?: { stdin?: string; cwd?: string; timeoutMs?: number }): Promise<{ stdout: string; stderr: string }>;
  /** Write a file owned by the service user (mode 0600 unless given). */
  writeFile(path: string, content: string, mode?: number): Promise<void>;
  /** Create a directory owned by the service user (mode 0700), with parents. */
  mkdir(path: string): Promise<void>;
  /**
   * Run a command as the service user and hand its stdout to `consume` while it runs. Rejects when the command
   * fails (with its stderr) or when `consume` does (the command is then killed); `signal` kills it too.
   */
  runStreamingOut(command: CommandSpec, consume: (stdout: Readable) => Promise<void>, options?: StreamingOptions): Promise<void>;
  /** Run a command as the service user with `input` as its stdin; a failing `input` kills the command and rejects. */
  runStreamingIn(command: CommandSpec, input: Readable, options?: StreamingOptions): Promise<void>;
  /** Write a file owned by the service user (mode 0600 unless given) from a stream, atomically: all of it or nothing. */
  writeFileFrom(path: string, source: Readable, mode?: number): Promise<void>;
}

/** Options of a streaming command. */
export interface StreamingOptions {
  cwd?: string;
  signal?: AbortSignal;
}

/** Where the bytes of a backup go, one named stream at a time (`base.tar`, `dump.rdb`). */
export interface BackupSink {
  /** Store all of `source` as stream `name`; resolves (with what the sink tells of it) once it is stored. */
  writeStream(name: string, source: Readable, options?: BackupStreamOptions): Promise<unknown>;
  /** In an incremental backup: what the parent's method recorded of stream `name` (its attributes), if anything. */
  parentAttributes?(name: string): Readonly<Record<string, string>> | undefined;
  /**
   * Run the engine's data-directory archive of stream `request.stream` in a process of its own (ADR 0044: the walk,
   * the chunks' encoding and the repository writes there, its peak memory its own); resolves once the stream is
   * stored. Absent: the engine archives into this sink in the caller's process.
   */
  archiveInProcess?(request: ArchiveRequest): Promise<void>;
}

/**
 * A data-directory archive for a process of its own: the engine's job as plain data (JSON: no handle, no function),
 * and the calls the archive makes back into what stays with the caller (PostgreSQL: `start` and `stop` of the backup
 * over the SQL session that holds it), answered with plain data.
 */
export interface ArchiveRequest {
  stream: string;
  /** Which archive of the engine runs (the process knows each by name). */
  archive: "postgresql-datadir";
  job: object;
  call(name: string): Promise<unknown>;
}

/**
 * How a stream is written beyond its bytes (the backup writer's StreamOptions): `attributes` are kept sealed in the
 * manifest; in an incremental backup, `unchangedSince` gets the parent's attributes of the same stream and may
 * return a test of chunks of large tar members (file, file offset, bytes): a chunk it accepts, which the parent
 * holds at the same file and offset with the same size, is referenced instead of stored.
 */
export interface BackupStreamOptions {
  attributes?: Record<string, string>;
  unchangedSince?: (parentAttributes: Readonly<Record<string, string>>) => ((file: string, offset: number, data: Buffer) => boolean) | undefined;
  /**
   * In an incremental backup, called once before the source is read with what the parent holds of the stream: a
   * chunk the parent `holds` that the method knows unchanged may be written as `placeholder(size)` instead of being
   * read (one write, exactly that chunk); `note` keeps a line for the backup's summary.
   */
  withParent?: (parent: BackupParentStream) => void;
  /** The source's buffers are not used again once read: they may be moved to a worker thread uncopied. */
  handsOver?: boolean;
  /** With `handsOver`: receives the buffers the writer is done with without moving them, to be read into again. */
  recycle?: (data: Buffer) => void;
  /** False: chunks of large tar members get no content MAC (the method's `unchangedSince` decides them). */
  macPlacedChunks?: boolean;
}

/** Who owns what a tar unpack writes (when the unpacking process is root), and the base names it never writes. */
export interface TarTarget {
  owner?: { uid: number; gid: number } | undefined;
  excluded: ReadonlySet<string>;
}

/** What an incremental backup's parent holds of a stream (the backup writer's ParentStream). */
export interface BackupParentStream {
  attributes: Readonly<Record<string, string>>;
  holds(file: string, offset: number, size: number): boolean;
  placeholder(size: number): Buffer;
  /** Zeros standing for a tar member's data the method did not read and vouches unchanged since the parent. */
  unread(size: number, load: (offset: number, target: Buffer) => Promise<void>): Buffer;
  note(text: string): void;
}

/** The streams of a backup being restored; each is checked chunk by chunk as it is read and errors on bad data. */
export interface BackupSource {
  openStream(name: string): Readable;
  /**
   * Unpack the tar stream `name` into the empty `directory` as tar-unpack.ts does, in a process of its own (ADR 0050);
   * resolves once what it wrote is durable. Absent: the engine unpacks `openStream(name)` itself.
   */
  unpackTar?(name: string, directory: string, target: TarTarget): Promise<void>;
}

/** What a backup method needs of the running instance it backs up. */
export interface BackupContext {
  /** The instance: layout (its run directory takes temporary credential files), version, parameters. */
  instance: InstanceContext;
  /** The account to connect with. */
  account: Credentials;
  /** A private directory (service user, 0700) for files such as credentials; emptied when the control plane starts, so none outlives a crash. */
  scratchDirectory: string;
  /** Aborts the backup (the control plane is stopping, or the Backup was deleted). */
  signal: AbortSignal;
}

/** A way to back up an instance and restore it, as KubeBlocks' backup methods (and their ActionSets) are. */
export interface BackupMethodDefinition {
  name: string;
  description: string;
  /** The role to back up from, and the one to fall back to when no instance has it (KubeBlocks' policy templates). */
  targetRole: string;
  fallbackRole?: string;
  /** Stream a backup of the running instance into `sink`. */
  backup(context: BackupContext, sink: BackupSink, host: HostAccess): Promise<void>;
  /** The plaintext bytes `backup` is expected to stream, when a cheap question to the server tells (for an ETA). */
  estimateSize?(context: BackupContext): Promise<number | undefined>;
  /**
   * Fill the empty data directory of a new instance from a backup taken with this method, with the system
   * accounts set to `accounts` (or left for the engine's `finishStart` to set before the server admits clients,
   * PostgreSQL's `pg-basebackup`: ADR 0050), and mark it initialised last: a restore cut short is never taken for a
   * finished one.
   */
  restore(context: InstanceContext, source: BackupSource, accounts: readonly Credentials[], host: HostAccess): Promise<void>;
  /**
   * Fill the empty data directory of a replica being rebuilt (ADR 0045) from a backup of its component, left as the
   * backup has it and set up to start as a replica, which then catches up from its primary (configureRole points it
   * there); marked initialised last. Absent: this method's backups cannot rebuild a replica.
   */
  restoreReplica?(context: InstanceContext, source: BackupSource, host: HostAccess): Promise<void>;
  /** Set on a continuous method (KubeBlocks' `Continuous` backup type): it archives the server's log instead of streaming once. */
  readonly continuous?: ContinuousArchiving;
}

/** One archived log file (a PostgreSQL WAL segment or timeline history file), as a restore sees it. */
export interface ArchivedLogFile {
  /** The server's own file name, e.g. `000000010000000000000003` or `00000002.history`. */
  name: string;
  /** When the server last wrote it (its modification time when it was handed over). */
  writtenAt: Date;
  /** Its bytes, checked as they are read. */
  open(): Readable;
}

/** The archived log of a continuous backup, read back for a restore. */
export interface LogArchiveSource {
  /** The archived files' names, in no promised order. */
  names(): readonly string[];
  /** One file; NotFound when it is not archived. */
  file(name: string): Promise<ArchivedLogFile>;
}

/**
 * Continuous archiving of a server's log (PostgreSQL's WAL). The server hands each finished file to a spool
 * directory of its own (the service user's, inside the instance root) only while a flag file there says so; the
 * control plane, which holds the keys, encrypts spooled files into the repository and only then deletes them.
 */
export interface ContinuousArchiving {
  /** Full-backup methods whose backups this log can be replayed onto. */
  readonly baseMethods: readonly string[];
  /** Where the server leaves finished log files. */
  spoolDirectory(layout: InstanceLayout): string;
  /** The flag file whose presence makes the server hand files over; without it they are not kept. */
  flagFile(layout: InstanceLayout): string;
  /** Is this spool entry a finished log file to archive (not a partial copy or the flag)? */
  isLogFile(name: string): boolean;
  /** Order of log files (for uploads and pruning): negative when `a` comes first. */
  compare(a: string, b: string): number;
  /** Must this file be kept whatever its age (a timeline history file)? */
  keepAlways(name: string): boolean;
  /** Why the running server of `layout` does not archive into the spool (e.g. it needs a restart), or undefined when it does. */
  problem(layout: InstanceLayout, admin: Credentials): Promise<string | undefined>;
  /**
   * For servers that hand nothing over themselves (MariaDB's binlog): the node agent calls it on every pass while the
   * flag file exists, before draining the spool, to copy finished log files into the spool (and close the active one
   * when due). Absent: the server hands files over itself (PostgreSQL's archive_command).
   */
  collect?(layout: InstanceLayout, host: HostAccess, admin: Credentials): Promise<void>;
  /**
   * Fill the empty data directory of a new instance from a full backup (taken with one of `baseMethods`), replay the
   * archived log up to `target` and open the result with `accounts`' passwords; mark it initialised last.
   */
  restoreToTime(restore: TimeRestore, host: HostAccess): Promise<void>;
}

/** What a point-in-time restore reads and fills. */
export interface TimeRestore {
  context: InstanceContext;
  base: BackupSource;
  log: LogArchiveSource;
  target: Date;
  accounts: readonly Credentials[];
}

/** How to stop the server process gracefully. */
export interface StopBehaviour {
  signal: NodeJS.Signals;
  /** After this long, SIGKILL. */
  timeoutMs: number;
}

/** Where an exporter finds its instance, and where it serves. */
export interface ExporterOptions {
  /** `host:port` it listens on (the node's address, a port reserved host-wide). */
  listen: string;
  /** The least-privilege account it logs in with; only the password file holds its password. */
  account: Credentials;
  /** The file (0600, the instance's OS user's) the password goes to, in the exporter's format. */
  passwordFile: string;
}

/** A Prometheus exporter from the host's packages, run beside each instance as the instance's OS user (ADR 0035). */
export interface EngineExporter {
  /** The least-privilege monitoring account; its Secret is made with the component's other accounts. */
  readonly account: SystemAccount;
  /** The Debian package providing the exporter. */
  readonly package: string;
  /**
   * Create the account (or reset its password and rights) on the instance listening on `port` of this node, as the
   * administrator. An engine whose accounts replicate does it on the primary only (`role`), the others everywhere;
   * an engine whose accounts are not kept across restarts does it again after each.
   */
  ensureAccount(context: InstanceContext, admin: Credentials, account: Credentials, trust: ClientTrust): Promise<void>;
  /** The command (never carrying the password) and the password file's content. */
  command(context: InstanceContext, options: ExporterOptions): { command: CommandSpec; passwordFileContent: string };
}

/**
 * Changing a system account's password on a running instance, online (ADR 0038). The node agent calls `change` where
 * `scope` says, then, once every running instance accepts the new password, the Secret makes it the one in effect.
 */
export interface EnginePasswords {
  /** Where a change is made: on the primary alone (its accounts replicate to the replicas) or on every instance. */
  readonly scope: "primary" | "every";
  /** Why `account` cannot be changed online on this engine, or undefined when it can. */
  refuses(account: string): string | undefined;
  /** Make the running instance on `context` accept `account.password` for `account.username`; no plaintext reaches the server's log. */
  change(context: InstanceContext, admin: Credentials, account: Credentials, trust: ClientTrust): Promise<void>;
  /**
   * Make the instance's own connections that log in as `account` (a replica's to its primary, a Sentinel's to the
   * instances it watches) use its new password from their next connection on; `session` is how the node agent logs in to
   * the instance to change them at run time. Engines whose instances connect to none leave it out.
   */
  useForOwnConnections?(context: InstanceContext, account: Credentials, host: HostAccess, session: PasswordSession): Promise<void>;
  /**
   * Engines whose users hold two passwords at once (Redis ACL users): `change` adds the next password beside the one in
   * effect; once every server of the account accepts it, each instance moves its own connections to it (and confirms
   * `connectsWith`); once the next password is the one in effect, `retire` removes every other. No client is refused at
   * any step. Absent: `change` replaces the password.
   */
  readonly keepsPrevious?: boolean;
  /** Make the running instance accept `account.password` alone for `account.username` (keepsPrevious engines). */
  retire?(context: InstanceContext, admin: Credentials, account: Credentials, trust: ClientTrust): Promise<void>;
}

/** How the node agent logs in to its own instance during a rotation: as the administrator, trusting the cluster CA. */
export interface PasswordSession {
  admin: Credentials;
  trust: ClientTrust;
}

/**
 * A private file (0600, removed when the client exits) holding what a client reads its password from, named to the
 * client by the environment variable `envVar` (PGPASSFILE) or by a first argument `argumentPrefix` + its path
 * (`--defaults-extra-file=`, which the mariadb client accepts only first).
 */
export type ClientPasswordFile = { content: string } & ({ envVar: string } | { argumentPrefix: string });

/** How a client of an engine starts TLS on a new connection (see `Engine.clientTlsStart`). */
export interface ClientTlsStart {
  /** Exact messages a client may send before its TLS handshake; a TLS handshake record at once is always accepted. */
  readonly preambles: readonly Uint8Array[];
  /** The protocol's error carrying `message`, sent to a plaintext client before its connection is closed. */
  refusal(message: string): Uint8Array;
}

/** The value of one argument of an engine action: parameters are typed, never text spliced into a statement. */
export type ActionArgument = string | number | boolean;

/** One parameter an engine action takes (ADR 0054). */
export interface ActionParameter {
  name: string;
  type: "string" | "integer" | "boolean";
  description: string;
}

/** Why the arguments of an action cannot be run: the parameter at fault (absent: the combination) and why. */
export interface ActionProblem {
  parameter?: string;
  message: string;
}

/** Where and how an engine action runs: on the running instance of `context`, logged in as the administrator. */
export interface ActionTarget {
  context: InstanceContext;
  admin: Credentials;
  trust: ClientTrust;
  /** The engine's system account names: sessions of these are never ended by an action. */
  systemAccounts: readonly string[];
  timeoutMs: number;
}

/**
 * One action of an engine's fixed allow-list, run by the node agent in an instance's context when a `Custom`
 * OpsRequest names it through an OpsDefinition (ADR 0054). Arguments reach the server as bound parameters, quoted
 * identifiers or command arguments of the engine's own protocol, never as text of a statement or a shell.
 */
export interface EngineAction {
  readonly name: string;
  readonly description: string;
  /** Where it runs: the primary alone (what replicates, or what a replica refuses), or every instance. */
  readonly scope: "primary" | "every";
  readonly parameters: readonly ActionParameter[];
  /**
   * The problems of these arguments (pure; typed already): a missing one, two that exclude each other, a bad shape, a
   * user that is one of `systemAccounts` (the engine's own accounts, whose sessions are Holdfast's).
   */
  problems(args: Readonly<Record<string, ActionArgument>>, systemAccounts: readonly string[]): ActionProblem[];
  /** Run it; resolves with what it did, in a few words (e.g. "2 sessions terminated"). */
  run(target: ActionTarget, args: Readonly<Record<string, ActionArgument>>): Promise<string>;
}

/** A database engine module. No controller contains engine-specific branches; they live here. */
export interface Engine {
  readonly name: string;
  /**
   * Names of other servers of its family that this engine is not (MariaDB's `mysql`): a manifest naming one is refused
   * with a message saying that server is not installed and this engine is, never run under the other's name.
   */
  readonly relatedNames?: readonly string[];
  readonly definition: ClusterDefinition;
  /** System accounts; the first one is the administrator used for probes and `cluster connect`. */
  readonly systemAccounts: readonly SystemAccount[];
  /** The system account (one of `systemAccounts`) a component's BackupPolicy names for its backups; absent: the administrator. */
  readonly backupAccount?: string;
  /**
   * Give the running, ready instance on `context` every system account after the administrator, with its rights, as
   * `accounts` (all of them, administrator first) have them: created when missing (a data directory made before the
   * account existed), reset otherwise. Idempotent; the node agent calls it once per start of the server. Absent: the
   * engine's accounts are all made with the data directory.
   */
  ensureAccounts?(context: InstanceContext, accounts: readonly Credentials[]): Promise<void>;
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
  /** The parameters a Cluster's `configs` and a Reconfiguring may set, typed (absent: none may be set). */
  readonly parameterSchema?: EngineParameters;
  /** Engine parameters derived from the component's resources (pure). */
  parametersFor(resources: ResourceRequirements | undefined): Record<string, string>;
  /** Has `initialize` completed for this data directory? */
  isInitialized(layout: InstanceLayout): Promise<boolean>;
  /** Initialise a new data directory and set the system accounts' passwords. Idempotent from scratch: the caller empties the directory first. */
  initialize(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void>;
  /** (Re)write configuration before each start, so parameter and port changes take effect. */
  configure(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void>;
  /**
   * Let the running server accept replication from `context.peerAddresses` (a replica placed on another node) without
   * a restart: PostgreSQL rewrites pg_hba.conf and reloads. Engines that check no peer addresses leave it out.
   */
  allowPeers?(context: InstanceContext, admin: Credentials, host: HostAccess): Promise<void>;
  /**
   * Make the running server serve the TLS files rewritten in `context.tls` (a certificate naming a node that joined, or
   * renewed before it expires) without a restart: PostgreSQL reloads, Redis sets its TLS files again. Engines without it
   * load new files at their next start.
   */
  reloadTls?(context: InstanceContext, admin: Credentials): Promise<void>;
  /**
   * How its clients start TLS on a new connection, for the endpoints that forward TLS only (an Expose): the messages
   * sent before the handshake (PostgreSQL's SSLRequest; none for Redis, whose clients start with the handshake) and
   * the protocol's error a plaintext client gets. Absent: the engine's endpoints cannot be exposed.
   */
  readonly clientTlsStart?: ClientTlsStart;
  /**
   * Give the running server the live (dynamic) parameters of `context.parameters` without a restart: PostgreSQL rewrites
   * its configuration and reloads; Redis uses CONFIG SET. `removed`: live parameters no longer set. Resolves false when
   * the change needs a restart after all (the node agent then restarts the instance).
   */
  applyParameters?(change: LiveParameterChange, admin: Credentials, host: HostAccess, trust?: ClientTrust): Promise<boolean>;
  /**
   * Refuse (`refuse` true) or allow again the writes that would grow the data of the running server, at its storage
   * quota (ADR 0048): reads, and what frees space (DELETE, TRUNCATE, DEL) by an administrator, stay possible.
   * Idempotent; the node agent calls it again after each start. Engines without it report the quota, not protect it.
   */
  protectStorage?(context: InstanceContext, refuse: boolean, admin: Credentials, host: HostAccess, trust?: ClientTrust): Promise<void>;
  /** The foreground server command; it logs to stdout/stderr. */
  startCommand(context: InstanceContext): CommandSpec;
  /**
   * What a start left to finish on a server that admits no client yet, done before it is probed (PostgreSQL: a restored
   * data directory's passwords, set over its private socket, then its normal access rules; ADR 0050). The node agent
   * calls it after each start (and on a server it adopts) until it resolves, and probes nothing meanwhile; it rejects
   * while the server cannot be asked yet. Idempotent; nothing to do resolves at once. Absent: nothing to finish.
   */
  finishStart?(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void>;
  /** The engine's own pid file, read to re-adopt a running server whose pid Holdfast did not record. */
  pidFile(layout: InstanceLayout): string;
  /**
   * Does the server on `port` of loopback accept authenticated queries? Never throws. `trust`: the CA its certificate is
   * checked against, for engines whose servers speak only TLS when run with TLS files (Redis); others ignore it.
   */
  probeReady(port: number, admin: Credentials, trust?: ClientTrust): Promise<boolean>;
  /**
   * The server's role in replication (`primary`, `secondary`), or undefined when unreachable or not ready: a role is
   * only told by a server probeReady would find ready (the node agent takes it as readiness); `trust` as for probeReady.
   */
  probeRole(port: number, admin: Credentials, trust?: ClientTrust): Promise<string | undefined>;
  /**
   * Command that opens the engine's own client on `host`:`port`; the password reaches it through `passwordFile`/env
   * file, never argv. With `trust`, the client requires TLS and checks the server's certificate against `host`.
   */
  clientCommand(host: string, port: number, account: Credentials, trust?: ClientTrust): { command: string; args: string[]; env: Record<string, string>; passwordFile?: ClientPasswordFile };
  /** A connection URI (contains the password: shown only on request); with `trust`, one that requires verified TLS. */
  connectionUri(host: string, port: number, account: Credentials, trust?: ClientTrust): string;
  /** Backup methods, the first being the default. */
  readonly backupMethods: readonly BackupMethodDefinition[];
  /** Primary/replica replication, for engines whose topologies have `replicated` components. */
  readonly replication?: EngineReplication;
  /** The Prometheus exporter the node agent runs beside each instance (ADR 0035); absent: none. */
  readonly exporter?: EngineExporter;
  /** Online password changes (ADR 0038); absent: the engine's passwords are not rotated online. */
  readonly passwords?: EnginePasswords;
  /** Where the node agent sees logins of the engine's superusers (ADR 0036); absent: they are not watched. */
  readonly logins?: EngineLogins;
  /** Managed application users with grants (DatabaseUser, ADR 0046); absent: the engine has none. */
  readonly users?: EngineUsers;
  /** Managed named databases (Database, ADR 0053); absent: the engine has none (refused at admission). */
  readonly databases?: EngineDatabases;
  /** The actions a `Custom` OpsRequest may run (ADR 0054), its fixed allow-list; absent: none. */
  readonly actions?: readonly EngineAction[];
}

/** One login to a database server, as the engine saw it. */
export interface DatabaseLogin {
  /** When the server saw it (Unix ms), or undefined when it gave no time. */
  time: number | undefined;
  user: string;
  /** The database it logged in to (empty when the engine has no such notion, or did not say). */
  database: string;
  /** The name the client gave itself (PostgreSQL's application_name, Redis' client name), empty when none. */
  applicationName: string;
  /** The client's address and port (port 0 when the server gave none). */
  host: string;
  port: number;
  /** The server's id of the connection, when its log gives one (MariaDB's audit log) and no client port. */
  connectionId?: number;
  /** True for a login the server refused (a wrong password, no matching access rule): an attempt, not a session. */
  refused?: true;
}

/**
 * How the node agent sees logins of an engine's superusers, so that a login Holdfast did not make opens an incident
 * (rule `database-superuser-login`). Exactly one of `logParser` and `connectedClients` is given.
 */
export interface EngineLogins {
  /** The accounts whose logins are watched. */
  readonly superusers: readonly string[];
  /** Logins written in the instance's own log (PostgreSQL's log_connections): a parser fed the log's new text, chunk by chunk. */
  readonly logParser?: () => { read(chunk: string): DatabaseLogin[] };
  /**
   * The file `logParser` reads, when not the instance's own log (MariaDB's audit log, beside its data directory), and
   * the name it is renamed to when the server rotates it by size.
   */
  readonly logFile?: (layout: InstanceLayout) => { path: string; rotated?: string };
  /**
   * The clients connected now to the running server on loopback `port`, asked as `admin` (Redis' CLIENT LIST): a
   * server that logs no logins is polled, and a connection is one login for as long as it stays open. With them, the
   * logins it refused so far, counted per account (Redis' ACL LOG), when it keeps such counts.
   */
  readonly connectedClients?: (port: number, admin: Credentials, trust?: ClientTrust) => Promise<ConnectedClientsAnswer>;
}

/** What a polled server says of its clients: who is connected, and how many logins it refused per account. */
export interface ConnectedClientsAnswer {
  clients: DatabaseLogin[];
  refusals: RefusalTally[];
}

/** Logins a server refused for one account, counted since it started (as far as it keeps them); the last one's address. */
export interface RefusalTally {
  user: string;
  count: number;
  host: string;
  port: number;
}

/** One problem with a managed user's grants: the path below `spec.grants` (e.g. `[0].privileges[1]`) and what is wrong. */
export interface GrantProblem {
  path: string;
  message: string;
}

/**
 * Managed application users (ADR 0046): created, granted exactly what the spec lists (and no more) and dropped by
 * the node agent where `scope` says, logged in as the administrator; no password reaches argv, env or a server log.
 */
export interface EngineUsers {
  /** Where a user is applied: on the primary alone (its users replicate to the replicas) or on every instance. */
  readonly scope: "primary" | "every";
  /** Why `username` cannot be a managed user on this engine (a reserved name), or undefined. */
  usernameProblem(username: string): string | undefined;
  /** The problems of `grants`, as the engine types them (pure); none: `apply` accepts them. */
  grantProblems(grants: readonly Record<string, unknown>[]): GrantProblem[];
  /**
   * Create or update the user: it logs in with `account.password` (and `account.otherPasswords`, for engines whose
   * users hold several), and holds exactly `grants`. `admin` is the administrator it runs as. Idempotent.
   */
  apply(context: InstanceContext, admin: Credentials, account: Credentials, grants: readonly Record<string, unknown>[], trust: ClientTrust): Promise<void>;
  /** Drop the user (its privileges revoked first); idempotent. Fails saying why when the server will not (objects it owns). */
  drop(context: InstanceContext, admin: Credentials, username: string, trust: ClientTrust): Promise<void>;
}

/** A database as the engine applies it (Database, ADR 0053): its name, owner (absent: the administrator) and settings. */
export interface ServerDatabaseSpec {
  name: string;
  owner?: string | undefined;
  ensure: "present" | "absent";
  encoding?: string | undefined;
  locale?: string | undefined;
  connectionLimit: number;
  allowConnections: boolean;
}

/** One problem of a Database spec the engine cannot honour: the field below `spec` (e.g. `encoding`) and why. */
export interface DatabaseProblem {
  field: "name" | "encoding" | "locale" | "connectionLimit" | "allowConnections";
  message: string;
}

/**
 * Managed named databases (ADR 0053): created, altered and dropped by the node agent on the primary (databases
 * replicate), logged in as the administrator; names always quoted.
 */
export interface EngineDatabases {
  /** Why the engine cannot honour `database` (a reserved name, an encoding or locale off its allow-list), pure. */
  problems(database: ServerDatabaseSpec): DatabaseProblem[];
  /**
   * Make the server hold the database as specified (ensure present: create it, or alter its mutable fields; absent:
   * drop it). Fails saying why (an owner that does not exist yet, an existing database whose encoding differs).
   */
  apply(context: InstanceContext, admin: Credentials, database: ServerDatabaseSpec, trust: ClientTrust): Promise<void>;
  /** Drop the database, ending its sessions; idempotent. */
  drop(context: InstanceContext, admin: Credentials, name: string, trust: ClientTrust): Promise<void>;
}

/** A server another instance connects to: its address (loopback or a node's) and port. */
export interface UpstreamAddress {
  host: string;
  port: number;
}

/** The accounts replication work needs: the administrator and the replication account. */
export interface ReplicationCredentials {
  admin: Credentials;
  replication: Credentials;
}

/** The role an instance is to start in. */
/**
 * `rewind`: the data may hold history the upstream never had (a replica that was ahead of the primary a failover
 * chose): bring it onto the upstream's history before it starts, as a former primary is.
 */
export type DesiredReplicationRole = { role: "primary" } | { role: "secondary"; upstream: UpstreamAddress; rewind?: boolean };

/** What configureRole did beyond writing the settings, when the node agent should say so. */
export interface RoleConfigured {
  /** Why the data was replaced by a fresh copy of the upstream rather than rewound onto it (e.g. pg_rewind's error). */
  recloned?: string;
}

/** One replica as its primary sees it. */
export interface ReplicaObservation {
  /** The replica's replication name (see EngineReplication.replicaName). */
  name: string;
  /** Engine's word for the link, e.g. `streaming`, `catchup`. */
  state: string | undefined;
  /** Bytes the primary has written that the replica has not applied yet. */
  lagBytes: number | undefined;
  /** Time the replica is behind, when the engine reports it. */
  lagMs: number | undefined;
}

/** What a replication probe saw on one running instance. */
export interface ReplicationObservation {
  role: "primary" | "secondary";
  /** Which generation of primaries the instance follows (PostgreSQL's timeline); later is newer. */
  timeline: number;
  /** On a secondary: the position it has received, engine-specific (an LSN); compare only through the engine. */
  received: string | undefined;
  /** On a secondary: the position it has applied. */
  applied: string | undefined;
  /** On a secondary: the port of the server it streams from, when it streams. */
  streamingFrom: number | undefined;
  /** On a secondary: how far behind its upstream it says it is, when the engine reports that itself (MariaDB's Seconds_Behind_Master). */
  behindMs?: number | undefined;
  /** On a primary: its replicas. */
  replicas: ReplicaObservation[];
}

/** How commits on a primary wait for its replicas: not at all, or until `quorum` of them have the commit on disk. */
export type ReplicationDurability = { mode: "asynchronous" } | { mode: "synchronous"; quorum: number };

/** A replica that may be promoted, with what the probe saw. */
export interface FailoverCandidate {
  instanceName: string;
  observation: ReplicationObservation;
}

/** Why a running replica's settings no longer fit what a start would give it (EngineReplication.settingsDrift). */
export interface ReplicaSettingsDrift {
  /** It cannot go on replicating as it is (restart at once), rather than runs with more than it needs now. */
  urgent: boolean;
  message: string;
}

/**
 * The replication capability of an engine: everything a controller needs to run a primary with replicas,
 * switch over and fail over, without knowing the engine. Every operation is safe to repeat.
 */
export interface EngineReplication {
  /** The account replicas connect as; its Secret is created with the system accounts of a replicated component. */
  readonly account: SystemAccount;
  /** The name a replica goes by on its primary (slot, application name). */
  replicaName(instanceName: string): string;
  /** Does a replica whose link its primary reports in `state` (ReplicaObservation.state) follow it? PostgreSQL's `streaming`, Redis' `online`. */
  replicaFollows(state: string | undefined): boolean;
  /** Fill the empty data directory of `context` with a copy of the running primary at `upstream`, set up as its replica. */
  cloneReplica(context: InstanceContext, upstream: UpstreamAddress, credentials: ReplicationCredentials, host: HostAccess): Promise<void>;
  /**
   * Before each start, after `configure`: write the replication settings of `desired`. A data directory that last ran
   * as a primary and is to start as a replica is first rewound onto (or re-cloned from) the upstream, which must run.
   */
  configureRole(context: InstanceContext, desired: DesiredReplicationRole, credentials: ReplicationCredentials, host: HostAccess): Promise<RoleConfigured | undefined>;
  /** Is the data directory of `context` (initialised, not running) one that last ran as a primary? */
  lastRanAsPrimary(context: InstanceContext): Promise<boolean>;
  /**
   * Replication state of the running instance on `port`; undefined when it cannot be asked. `nameOfPort` names
   * replicas for engines that know them only by address (see ReplicaObservation.name); `trust` as for Engine.probeReady.
   */
  probe(port: number, admin: Credentials, nameOfPort?: (port: number) => string | undefined, trust?: ClientTrust): Promise<ReplicationObservation | undefined>;
  /** Promote the running replica on `context`, waiting until it accepts writes. */
  promote(context: InstanceContext, admin: Credentials, host: HostAccess): Promise<void>;
  /**
   * Write the running primary's dirty pages out while it still serves (a switchover is about to stop it), so the stop
   * that follows is short; absent for engines whose stop has nothing comparable to flush.
   */
  checkpoint?(port: number, admin: Credentials): Promise<void>;
  /** Stop the instance on `context` so it cannot accept writes (fast, then immediate, then killed with every process on its data); resolves once nothing runs. */
  fence(context: InstanceContext, host: HostAccess): Promise<void>;
  /** Where the WAL of the stopped instance on `context` ends, when it is known (a clean shutdown); read by its node agent. */
  finalPosition(context: InstanceContext, host: HostAccess): Promise<string | undefined>;
  /** Has a replica that received up to `received` everything a former primary whose WAL ends at `final` wrote (pure)? */
  hasReceived(final: string, received: string | undefined): boolean;
  /** Point the running replica on `context` at the primary `upstream`, without a restart. */
  follow(context: InstanceContext, upstream: UpstreamAddress, credentials: ReplicationCredentials, host: HostAccess): Promise<void>;
  /** The candidates in the order they should be promoted, best first; ineligible ones left out. */
  rankCandidates(candidates: readonly FailoverCandidate[]): string[];
  /**
   * Does the tail of a running replica's own log say its upstream no longer has what it needs to catch up (PostgreSQL:
   * the WAL it asks for was removed)? Then only a new copy brings it back (ADR 0045). The reason, or undefined.
   */
  cannotCatchUp?(logTail: string): string | undefined;
  /**
   * Do the running replica's start settings still fit its primary (PostgreSQL: a hot standby needs max_connections and
   * four others at least as high as its primary's, and starts with them raised; ADR 0041)? The drift, when a restart
   * would give it other values, else undefined; the node agent restarts it.
   */
  settingsDrift?(context: InstanceContext, admin: Credentials, host: HostAccess): Promise<ReplicaSettingsDrift | undefined>;
  /** Stop keeping data for a replica that is gone (its slot), on the primary on `port`. */
  forgetReplica(port: number, admin: Credentials, instanceName: string): Promise<void>;
  /** The engine's own arbiter (Redis Sentinel), when it, not Holdfast, decides who is primary; see EngineArbiter. */
  readonly arbiter?: EngineArbiter;
  /** The replication names of the replicas the primary on `port` keeps data for (its slots). */
  keptReplicas?(port: number, admin: Credentials): Promise<string[]>;
  /**
   * Has the replica on `port` (this node's) diverged from the history of the primary it is asked to follow, holding
   * changes that primary never had? It must then be rewound (configureRole with `rewind`) before it can follow.
   * `trust` as for Engine.probeReady (servers that refuse plain TCP).
   */
  diverged?(port: number, admin: Credentials, trust?: ClientTrust): Promise<boolean>;
  /**
   * Make the running instance on `context` acknowledge commits as `durability` says, counting the replicas named
   * `standbys` (instance names), and reload it. Written on every member, so a promoted replica already waits
   * for its quorum. Engines without it replicate asynchronously only.
   */
  configureDurability?(context: InstanceContext, durability: ReplicationDurability, standbys: readonly string[], admin: Credentials, host: HostAccess): Promise<void>;
}

/** An instance of an arbitrated component or of its arbiter component. */
export interface GroupMember {
  name: string;
  port: number;
  /** The address it is reached at (its Instance's status.host, 127.0.0.1 until its node agent reports one). */
  host: string;
}

/** The accounts of an arbitrated component: replication's, the arbiters' on the members, the arbiters' administrator. */
export interface ArbiterCredentials extends ReplicationCredentials {
  /** The account the arbiters log in to the members (and to each other) with. */
  arbiter: Credentials;
  /** The administrator of the arbiter instances (probes, questions, switchover). */
  arbiterAdmin: Credentials;
}

/** A replicated component watched by arbiters: everything configuring or asking either side needs. */
export interface ArbiterGroup {
  /** The name the arbiters know the component by, `<cluster>-<component>`. */
  name: string;
  /** The replicated component's instances. */
  members: readonly GroupMember[];
  /** The arbiter component's instances. */
  arbiters: readonly GroupMember[];
  /** The member Holdfast last recorded as primary: the initial primary, and the fallback when no majority of arbiters answers. */
  lastKnownPrimary: string;
  credentials: ArbiterCredentials;
  /** What the node agent's own connections to members and arbiters trust (the cluster CA); absent: plain TCP, for servers run without TLS. */
  trust?: ClientTrust | undefined;
}

/**
 * An arbiter the engine brings (Redis Sentinel): a separate component of the topology (`arbiterOf`) whose instances
 * decide who is primary and fail over by themselves. Holdfast runs them; each one's node agent asks it what it
 * says (`observe`) and carries out the switchovers and forgetting the controller asks of it, through it alone; the ha
 * controller follows what a majority says. Holdfast never promotes or fences a member of an arbitrated component on its own.
 */
export interface EngineArbiter {
  /** The account arbiters use on the members; its Secret is created with the replicated component's accounts. */
  readonly account: SystemAccount;
  /** How long the arbiters may take to replace a primary that stopped; one they did not replace by then restarts in place. */
  readonly failoverWindowMs: number;
  /** Before each start of an arbiter instance: write its configuration, keeping the state it saved. */
  configureArbiter(context: InstanceContext, group: ArbiterGroup, host: HostAccess): Promise<void>;
  /** The arbiter's foreground command. */
  arbiterCommand(context: InstanceContext): CommandSpec;
  /** Before each start of a member, after `configure`: ask the arbiters which role to start in and write it; the role. */
  configureMember(context: InstanceContext, group: ArbiterGroup, host: HostAccess): Promise<DesiredReplicationRole>;
  /**
   * Ask the arbiter `self` (run by this node) what it sees of `group`: the member it names primary and its epoch,
   * whether it sees enough arbiters for a failover, and removed members it still watches. Undefined when it does not
   * answer. Never throws.
   */
  observe(self: GroupMember, group: ArbiterGroup): Promise<ArbiterObservation | undefined>;
  /** Make the arbiter `self` forget members that are gone (a scale-in; it finds added ones itself); what it forgot, for an event, or undefined when nothing. */
  forgetDeparted(self: GroupMember, group: ArbiterGroup): Promise<string | undefined>;
  /**
   * Through the arbiter `self`, move the primary role from `from` to `candidate`; resolves once `self` names it.
   * `onPromoting` is called when writes on `from` are held and `candidate` has everything, just before the promotion.
   */
  switchover(self: GroupMember, group: ArbiterGroup, move: { from: string; candidate: string }, onPromoting?: () => void): Promise<{ primary: string; writesPausedMs: number }>;
}

/** What one arbiter says of its group (EngineArbiter.observe). */
export interface ArbiterObservation {
  /** The member it names primary; undefined when it names none, or an address that is no member. */
  primary: string | undefined;
  /** The address it names, `host:port`. */
  primaryAddress: string | undefined;
  /** Its configuration epoch for the group (the failover generation it knows). */
  epoch: number | undefined;
  /** Does it see enough arbiters for the quorum and a majority to authorise a failover? */
  quorum: boolean;
  /** Removed members (`host:port`) it still watches and sees down: what forgetDeparted would forget. */
  departed: string[];
}
