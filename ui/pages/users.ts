import { html } from "htm/preact";
import type { UserListing } from "../../modules/auth/mod.ts";
import { errorBox, type PageContext, renderPage } from "./layout.ts";

/** The admin's list of accounts, with a form to add one. */
export function usersPage(ctx: PageContext, users: UserListing[], error?: string): string {
  const t = ctx.t;
  return renderPage(
    ctx,
    t("users.title"),
    html`
      ${errorBox(error)}
      <table class="users">
        <thead>
          <tr>
            <th scope="col">${t("login.username")}</th>
            <th scope="col">${t("users.role")}</th>
            <th scope="col">${t("users.totp")}</th>
            <th scope="col">${t("users.status")}</th>
            <th scope="col"></th>
          </tr>
        </thead>
        <tbody>
          ${users.map((u) =>
            html`
              <tr data-user=${u.username}>
                <td>${u.username}</td>
                <td>${u.role}</td>
                <td>${u.totpEnrolled ? t("users.yes") : t("users.no")}</td>
                <td>${u.disabled ? t("users.disabled") : u.lockedUntil ? t("users.locked") : t(
                  "users.active",
                )}</td>
                <td>
                  ${!u.disabled &&
                    html`
                      <form method="post" action=${`/users/${
                        encodeURIComponent(u.username)
                      }/disable`}
                        class="inline">
                        <input type="hidden" name="csrf" value=${ctx.csrfToken} />
                        <button type="submit">${t("users.disable")}</button>
                      </form>
                    `}
                  <form method="post" action=${`/users/${
                    encodeURIComponent(u.username)
                  }/reset-totp`}
                    class="inline">
                    <input type="hidden" name="csrf" value=${ctx.csrfToken} />
                    <button type="submit">${t("users.resetTotp")}</button>
                  </form>
                </td>
              </tr>
            `
          )}
        </tbody>
      </table>
      <h2>${t("users.add")}</h2>
      <form method="post" action="/users" class="card form">
        <input type="hidden" name="csrf" value=${ctx.csrfToken} />
        <label for="username">${t("login.username")}</label>
        <input id="username" name="username" required />
        <label for="role">${t("users.role")}</label>
        <select id="role" name="role">
          <option value="sender">sender</option>
          <option value="caregiver">caregiver</option>
          <option value="auditor">auditor</option>
          <option value="admin">admin</option>
        </select>
        <label for="department">${t("users.department")}</label>
        <input id="department" name="department" />
        <label for="password">${t("login.password")}</label>
        <input id="password" name="password" type="password" autocomplete="new-password" minlength="12"
          required />
        <button type="submit">${t("users.add")}</button>
      </form>
    `,
  );
}
