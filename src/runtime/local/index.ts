/** The local runtime: OS-level primitives for running database instances as supervised processes. */
export { findAdoptableProcess, parsePidFile, type ProcessHandle } from "./adopt.ts";
export { createInstanceDirectories, type InstanceDirectories, isStrictlyInside, removeInstanceDirectory } from "./directories.ts";
export { createHostAccess } from "./host-access.ts";
export { diskUsage, freeDiskBytes } from "./disk-usage.ts";
export { EndpointProxy, type EndpointOptions, type EndpointRoute, type EndpointTarget } from "./endpoint-proxy.ts";
export { EndpointRegistry } from "./endpoint-registry.ts";
export { tlsVerdict, type TlsStart, type TlsVerdict } from "./tls-gate.ts";
export { accepts, allocatePort, canBind, type PortRange } from "./ports.ts";
export { PortReservations, type PortReservationsOptions } from "./port-reservations.ts";
export { isSameProcess, processExecutable, readProcessStartTicks } from "./process-identity.ts";
export { type ExitListener, ProcessSupervisor, type StopOutcome } from "./process-supervisor.ts";
export { CommandFailedError } from "./run-command.ts";
export { ensureServiceUser, lookupUser, removeServiceUser, type ServiceUser } from "./service-user.ts";
export { type InstanceUsers, OsUsers, type OsUsersOptions } from "./os-users.ts";
export { spawnDetached, type SpawnOptions } from "./spawn-detached.ts";
export { tailFile } from "./tail-file.ts";
export { ensureTraversable, revokeTraversal } from "./traversable.ts";
export { LOCAL_RUNTIME_PACKAGES } from "./prerequisites.ts";
