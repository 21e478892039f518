/** The web console: its files, built at start-up from the TypeScript in web/, and how they are served. */
export { loadConsoleAssets, toJavaScript, type Asset, type ConsoleAssets, type Encoding } from "./assets.ts";
export { chooseEncoding, CONSOLE_CSP, CONSOLE_HEADERS, CONSOLE_PREFIX, isConsolePath, serveConsole } from "./serve.ts";
