import type { Kysely, Selectable } from "kysely";
import { createHash, randomInt, timingSafeEqual } from "node:crypto";
import { type Clock, newId, newToken } from "../core/mod.ts";
import type { DatabaseSchema } from "../db/mod.ts";
import {
  PortalGrantInvalid,
  PortalLinkExpired,
  PortalLinkLocked,
  PortalLinkNotFound,
  PortalLinkRevoked,
  PortalPinWrong,
} from "./errors.ts";

/** A patient download link as staff see it (never the token or the PIN: those are shown once). */
export interface PatientLink {
  id: string;
  studyInstanceUid: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
  failedPins: number;
  lockedAt: string | null;
  downloads: number;
  lastUsedAt: string | null;
  /** active, expired, revoked or locked, as of now. */
  status: "active" | "expired" | "revoked" | "locked";
}

/** A new link: the token for the URL and the PIN for the patient, each known only now. */
export interface NewPatientLink {
  link: PatientLink;
  token: string;
  pin: string;
}

/** How links behave. */
export interface LinkPolicy {
  /** Days a new link stays valid. Default 14. */
  validDays: number;
  /** Wrong PINs after which the link locks. Default 5. */
  pinAttempts: number;
  /** How long the patient's access lasts after the PIN. Default 30 minutes. */
  grantMinutes: number;
}

type Row = Selectable<DatabaseSchema["portal_links"]>;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The PIN's hash is salted with the link id, so equal PINs of two links do not look alike. */
const pinHash = (linkId: string, pin: string) => sha256(`${linkId}:${pin}`);

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function createLinks(db: Kysely<DatabaseSchema>, clock: Clock, policy: LinkPolicy) {
  const now = () => clock.now();

  function toLink(r: Row): PatientLink {
    const status = r.revoked_at
      ? "revoked"
      : r.locked_at
      ? "locked"
      : Date.parse(r.expires_at) <= now().getTime()
      ? "expired"
      : "active";
    return {
      id: r.id,
      studyInstanceUid: r.study_instance_uid,
      createdBy: r.created_by,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      revokedAt: r.revoked_at,
      revokedBy: r.revoked_by,
      failedPins: r.failed_pins,
      lockedAt: r.locked_at,
      downloads: r.downloads,
      lastUsedAt: r.last_used_at,
      status,
    };
  }

  async function byToken(token: string): Promise<Row> {
    const row = await db.selectFrom("portal_links").selectAll()
      .where("token_hash", "=", sha256(token)).executeTakeFirst();
    if (!row) throw new PortalLinkNotFound("no such link");
    return row;
  }

  /** Throws the named error for a link that cannot be used now. */
  function usable(row: Row): PatientLink {
    const link = toLink(row);
    if (link.status === "revoked") throw new PortalLinkRevoked(`link ${link.id} was revoked`);
    if (link.status === "locked") throw new PortalLinkLocked(`link ${link.id} is locked`);
    if (link.status === "expired") throw new PortalLinkExpired(`link ${link.id} expired`);
    return link;
  }

  return {
    async create(
      studyInstanceUid: string,
      createdBy: string,
      validDays = policy.validDays,
    ): Promise<NewPatientLink> {
      const id = newId(now().getTime());
      const token = newToken(24);
      // Six digits, read out by phone or sent by SMS; the lockout makes guessing useless.
      const pin = String(randomInt(0, 1_000_000)).padStart(6, "0");
      const createdAt = now();
      await db.insertInto("portal_links").values({
        id,
        token_hash: sha256(token),
        pin_hash: pinHash(id, pin),
        study_instance_uid: studyInstanceUid,
        created_by: createdBy,
        created_at: createdAt.toISOString(),
        expires_at: new Date(createdAt.getTime() + validDays * 86_400_000).toISOString(),
        revoked_at: null,
        revoked_by: null,
        locked_at: null,
        last_used_at: null,
      }).execute();
      return { link: await this.get(id), token, pin };
    },

    async get(id: string): Promise<PatientLink> {
      const row = await db.selectFrom("portal_links").selectAll().where("id", "=", id)
        .executeTakeFirst();
      if (!row) throw new PortalLinkNotFound(`no link ${id}`);
      return toLink(row);
    },

    async list(studyInstanceUid?: string): Promise<PatientLink[]> {
      let q = db.selectFrom("portal_links").selectAll();
      if (studyInstanceUid) q = q.where("study_instance_uid", "=", studyInstanceUid);
      return (await q.orderBy("id", "desc").limit(200).execute()).map(toLink);
    },

    async revoke(id: string, by: string): Promise<PatientLink> {
      await this.get(id);
      await db.updateTable("portal_links")
        .set({ revoked_at: now().toISOString(), revoked_by: by })
        .where("id", "=", id).where("revoked_at", "is", null).execute();
      return await this.get(id);
    },

    /** The link behind `token` if it can be used now; else the named error. */
    async open(token: string): Promise<PatientLink> {
      return usable(await byToken(token));
    },

    /**
     * Checks the PIN. Right: returns a grant (a cookie value) for `grantMinutes`. Wrong: counts
     * it, locks the link at `pinAttempts`, and throws PortalPinWrong or PortalLinkLocked.
     */
    async verifyPin(token: string, pin: string): Promise<{ link: PatientLink; grant: string }> {
      const row = await byToken(token);
      const link = usable(row);
      if (!sameHex(pinHash(row.id, pin.trim()), row.pin_hash)) {
        const failed = row.failed_pins + 1;
        const lock = failed >= policy.pinAttempts;
        await db.updateTable("portal_links").set({
          failed_pins: failed,
          locked_at: lock ? now().toISOString() : null,
        }).where("id", "=", row.id).execute();
        if (lock) throw new PortalLinkLocked(`link ${row.id} locked after ${failed} wrong PINs`);
        throw new PortalPinWrong(policy.pinAttempts - failed);
      }
      const grant = newToken();
      await db.deleteFrom("portal_link_grants").where("expires_at", "<", now().toISOString())
        .execute();
      await db.insertInto("portal_link_grants").values({
        grant_hash: sha256(grant),
        link_id: row.id,
        expires_at: new Date(now().getTime() + policy.grantMinutes * 60_000).toISOString(),
      }).execute();
      await db.updateTable("portal_links")
        .set({ failed_pins: 0, last_used_at: now().toISOString() })
        .where("id", "=", row.id).execute();
      return { link, grant };
    },

    /** The link a patient's grant opens; checks the link is still usable (not revoked since). */
    async granted(token: string, grant: string): Promise<PatientLink> {
      const row = await byToken(token);
      const link = usable(row);
      const g = await db.selectFrom("portal_link_grants").selectAll()
        .where("grant_hash", "=", sha256(grant)).executeTakeFirst();
      if (!g || g.link_id !== row.id || Date.parse(g.expires_at) <= now().getTime()) {
        throw new PortalGrantInvalid("no valid access for this link; enter the PIN");
      }
      return link;
    },

    /** Counts one download of the link's study. */
    async countDownload(id: string): Promise<void> {
      await db.updateTable("portal_links")
        .set((eb) => ({ downloads: eb("downloads", "+", 1), last_used_at: now().toISOString() }))
        .where("id", "=", id).execute();
    },
  };
}

export type Links = ReturnType<typeof createLinks>;
