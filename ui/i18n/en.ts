import type { MessageKey } from "./nl.ts";

/** English, on request. */
export const en: Record<MessageKey, string> = {
  "app.name": "Beeldpoort",
  "app.tagline": "Image exchange between hospitals",
  "nav.dashboard": "Dashboard",
  "nav.logout": "Sign out",
  "lang.switch": "Nederlands",
  "login.title": "Sign in",
  "login.username": "User name",
  "login.password": "Password",
  "login.submit": "Sign in",
  "login.failed": "User name or password is wrong.",
  "setup.title": "First-run setup",
  "setup.intro":
    "This Beeldpoort has no administrator yet. Choose a user name and a password of at least 12 characters.",
  "setup.username": "Administrator user name",
  "setup.password": "Password",
  "setup.passwordRepeat": "Repeat password",
  "setup.submit": "Create administrator",
  "setup.tokenInvalid":
    "This setup link is invalid, expired or already used. Restart Beeldpoort for a new link.",
  "setup.passwordMismatch": "The passwords do not match.",
  "setup.too_short": "The password must be at least 12 characters long.",
  "setup.usernameRequired": "Enter a user name.",
  "dashboard.title": "Dashboard",
  "dashboard.welcome": "Signed in as {user} ({role}).",
  "dashboard.arriving": "Arriving",
  "dashboard.waiting": "Waiting",
  "dashboard.sending": "Sending",
  "dashboard.failed": "Failed",
  "dashboard.empty": "No studies yet.",
  "error.forbidden": "You do not have access to this page.",
  "error.notFound": "Page not found.",
};
