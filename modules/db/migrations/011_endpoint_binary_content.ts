import type { Kysely } from "kysely";

// Whether a peer's endpoint takes binary parts inside the encryption (RFC 8551 §3.1.2): then an
// XDM zip is sent unencoded in the signed entity instead of as base64, 27% fewer bytes a part.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("addressbook_endpoints")
    .addColumn("binary_content", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("addressbook_endpoints").dropColumn("binary_content").execute();
}
