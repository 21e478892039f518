/** The console's entry: sign in (or find the session), draw the frame, and show the page the location names. */
import { currentSession, logout, type Session } from "./api.ts";
import { abilitiesCache, type Cleanup, type PageContext } from "./context.ts";
import { h, on, replace } from "./dom.ts";
import { accessPage } from "./pages/access.ts";
import { auditPage } from "./pages/audit.ts";
import { clusterPage } from "./pages/cluster.ts";
import { clustersPage } from "./pages/clusters.ts";
import { createPage } from "./pages/create.ts";
import { loginPage } from "./pages/login.ts";

const root = document.getElementById("app");
let leave: Cleanup | undefined;

async function start(): Promise<void> {
  if (root === null) return;
  const session = await currentSession();
  if (session === undefined) showLogin(root);
  else await showConsole(root, session);
}

function showLogin(container: HTMLElement): void {
  leave?.();
  leave = undefined;
  replace(container, loginPage((session) => void showConsole(container, session)));
}

async function showConsole(container: HTMLElement, session: Session): Promise<void> {
  const abilities = abilitiesCache();
  const main = h("main", { id: "main", tabindex: "-1" });
  const signOut = on(h("button", { type: "button", id: "logout" }, "Log out"), "click", () => {
    void logout().finally(() => showLogin(container));
  });
  const nav = h("nav", { "aria-label": "Console" }, h("a", { href: "#/clusters" }, "Clusters"), h("a", { href: "#/access" }, "My access"));
  replace(container, h("header", {}, h("strong", {}, "Holdfast"), nav, h("span", { id: "whoami" }, session.username), signOut), main);
  const context: PageContext = { session, main, abilities, navigate: (route) => (location.hash = route) };
  window.onhashchange = () => route(context);
  route(context);
  // The links to what the user may do come when the server has answered; the page does not wait for them.
  const everywhere = await abilities();
  nav.append(...[everywhere.createClusters && h("a", { href: "#/create", id: "nav-create" }, "Create cluster"), everywhere.readAudit && h("a", { href: "#/audit", id: "nav-audit" }, "Audit")].filter((a) => a !== false));
}

function route(context: PageContext): void {
  leave?.();
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const [page = "clusters", ...rest] = parts;
  leave = pageFor(page, rest)(context);
}

function pageFor(page: string, rest: string[]): (context: PageContext) => Cleanup {
  if (page === "clusters" && rest.length === 2) return (c) => clusterPage(c, rest[0] ?? "", rest[1] ?? "");
  if (page === "create") return createPage;
  if (page === "audit") return (c) => auditPage(c, rest);
  if (page === "access") return accessPage;
  return clustersPage;
}

void start();
