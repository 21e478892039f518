/** Sign in with password and a TOTP code, through the same login (and audit) as the CLI's. */
import { ApiError, login, type Session } from "../api.ts";
import { h, on, replace, valueOf } from "../dom.ts";

/** The login form; `done` gets the session once the server has set its cookie. */
export function loginPage(done: (session: Session) => void): HTMLElement {
  const message = h("p", { id: "login-error", role: "alert" });
  const form = h(
    "form",
    { id: "login", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Sign in to Holdfast"),
    h("label", { for: "username" }, "User name"),
    h("input", { id: "username", name: "username", autocomplete: "username", required: true }),
    h("label", { for: "password" }, "Password"),
    h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    h("label", { for: "totp" }, "One-time code"),
    h("input", { id: "totp", name: "totp", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", required: true }),
    h("button", { type: "submit" }, "Sign in"),
    message,
  );
  on(form, "submit", (event) => {
    event.preventDefault();
    login(valueOf(form, "username"), valueOf(form, "password"), valueOf(form, "totp")).then(done, (error: unknown) => {
      replace(message, error instanceof ApiError ? error.message : "the server cannot be reached");
    });
  });
  return h("main", { id: "main" }, form);
}
