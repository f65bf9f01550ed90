import { createLogger, newToken } from "../../modules/core/mod.ts";
import { isRole, roles, UnknownUser, WeakPassword } from "../../modules/auth/mod.ts";
import { openServices, type Services } from "../services.ts";
import { type Command, type CommandContext, configOption } from "./command.ts";

/** Who ran a CLI command, for the audit trail: the operating-system account. */
export function cliActor(): { kind: "user"; id: string; role: string } {
  return {
    kind: "user",
    id: `os:${Deno.env.get("USER") ?? Deno.env.get("LOGNAME") ?? "?"}`,
    role: "cli",
  };
}

/** An audit event for a change to a user's account made from the CLI. */
function recordUserChange(services: Services, username: string, detail: Record<string, string>) {
  return services.audit.record({
    action: "user-admin",
    outcome: "success",
    actor: cliActor(),
    object: { kind: "user", id: username },
    detail,
  });
}

async function withServices(ctx: CommandContext, run: (s: Services) => Promise<number>) {
  const services = await openServices(ctx.config(), createLogger({ level: "warn" }));
  try {
    return await run(services);
  } finally {
    await services.close();
  }
}

async function readStdin(): Promise<string> {
  const text = await new Response(Deno.stdin.readable).text();
  return text.replace(/\r?\n$/, "");
}

export const userAddCommand: Command = {
  name: "user add",
  summary: "add a user with a role",
  help:
    `Usage: beeldpoort user add NAME --role ROLE [--department D] [--password-stdin] [--config FILE]

Adds a user. ROLE is one of ${roles.join(", ")}. With --password-stdin the password is read from
standard input (at least 12 characters, not containing the name); without it a random password is
generated and printed once. Admins enrol TOTP at their first sign-in.

Options:
  --role ROLE         admin, sender, caregiver or auditor
  --department D      a caregiver's department
  --password-stdin    read the password from standard input
  --config FILE       configuration file (JSON)
`,
  options: {
    ...configOption,
    role: { type: "string" },
    department: { type: "string" },
    "password-stdin": { type: "boolean" },
  },
  positionals: { min: 1, max: 1 },
  run(ctx) {
    const [username] = ctx.positionals;
    const role = String(ctx.values.role ?? "");
    if (!isRole(role)) {
      console.error(`beeldpoort user add: --role must be one of ${roles.join(", ")}`);
      return Promise.resolve(2);
    }
    return withServices(ctx, async (services) => {
      const generated = !ctx.values["password-stdin"];
      const password = generated ? newToken(15) : await readStdin();
      try {
        await services.auth.createUser(username, password, role, {
          department: ctx.values.department as string | undefined,
        });
      } catch (error) {
        if (error instanceof WeakPassword) {
          console.error(`beeldpoort user add: password refused (${error.reason})`);
          return 1;
        }
        throw error;
      }
      await recordUserChange(services, username, { change: "created", role });
      console.log(`added ${username} (${role})`);
      if (generated) console.log(`password: ${password}`);
      return 0;
    });
  },
};

export const userListCommand: Command = {
  name: "user list",
  summary: "list users, roles and their state",
  help: `Usage: beeldpoort user list [--json] [--config FILE]

Lists every user: name, role, whether TOTP is enrolled, locked until, disabled.

Options:
  --json            one JSON object per line
`,
  options: { ...configOption, json: { type: "boolean" } },
  run: (ctx) =>
    withServices(ctx, async (services) => {
      const users = await services.auth.listUsers();
      if (ctx.values.json) {
        for (const u of users) console.log(JSON.stringify(u));
        return 0;
      }
      console.log(["USER", "ROLE", "TOTP", "STATE", "DEPARTMENT"].join("\t"));
      for (const u of users) {
        const state = u.disabled
          ? "disabled"
          : u.lockedUntil
          ? `locked until ${u.lockedUntil}`
          : "active";
        console.log(
          [u.username, u.role, u.totpEnrolled ? "yes" : "no", state, u.department ?? ""].join("\t"),
        );
      }
      return 0;
    }),
};

function userChange(
  name: "user disable" | "user reset-totp",
  summary: string,
  help: string,
  change: "disabled" | "totp reset",
): Command {
  return {
    name,
    summary,
    help,
    options: configOption,
    positionals: { min: 1, max: 1 },
    run: (ctx) =>
      withServices(ctx, async (services) => {
        const [username] = ctx.positionals;
        try {
          if (change === "disabled") await services.auth.disableUser(username);
          else await services.auth.resetTotp(username);
        } catch (error) {
          if (error instanceof UnknownUser) {
            console.error(`beeldpoort ${name}: no user ${username}`);
            return 1;
          }
          throw error;
        }
        await recordUserChange(services, username, { change });
        console.log(`${username}: ${change}`);
        return 0;
      }),
  };
}

export const userDisableCommand = userChange(
  "user disable",
  "disable a user and end their sessions",
  `Usage: beeldpoort user disable NAME [--config FILE]

Disables the account (it can no longer sign in) and ends all its sessions at once.
`,
  "disabled",
);

export const userResetTotpCommand = userChange(
  "user reset-totp",
  "forget a user's TOTP secret (lost phone)",
  `Usage: beeldpoort user reset-totp NAME [--config FILE]

Forgets the user's TOTP secret, lifts a lockout and ends their sessions. An admin enrols a new
authenticator at the next sign-in.
`,
  "totp reset",
);
