/** The `holdfast` command line: its entry point and the API client it talks through. */
export { main, USAGE } from "./main.ts";
export { ApiClient, ApiError, ServerUnreachableError, resourcePath } from "./client.ts";
export type { ResourceList, WatchEvent, ListOptions, StatusCause } from "./client.ts";
export { processContext, readServerInfo, serverUrlOf } from "./context.ts";
export type { CliContext, Io, ServerInfo } from "./context.ts";
export { parseManifests, mergeForUpdate } from "./manifest.ts";
