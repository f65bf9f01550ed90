import assert from "node:assert/strict";
import { createLogger, NotFoundError } from "../../modules/core/mod.ts";

Deno.test("the logger writes one JSON object per line, honours the level and keeps patient data out", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", sink: (l) => lines.push(l) }).child({
    module: "dicom",
  });
  log.debug("hidden");
  log.info("stored", {
    patientName: "Jansen^Piet",
    PatientID: "123",
    bsn: "999999990",
    birthDate: "19700101",
    accessionNumber: "A1",
    callingAe: "CT1",
    username: "beheer",
  });
  log.error("failed", { error: new NotFoundError("gone") });
  assert.equal(lines.length, 2);
  const stored = JSON.parse(lines[0]);
  assert.equal(stored.level, "info");
  assert.equal(stored.msg, "stored");
  assert.equal(stored.module, "dicom");
  assert.equal(stored.callingAe, "CT1");
  assert.equal(stored.username, "beheer");
  for (const key of ["patientName", "PatientID", "bsn", "birthDate", "accessionNumber"]) {
    assert.equal(stored[key], "[redacted]", key);
  }
  assert.ok(!lines[0].includes("Jansen") && !lines[0].includes("999999990"));
  assert.deepEqual(JSON.parse(lines[1]).error, {
    name: "NotFoundError",
    message: "gone",
    code: "NOT_FOUND",
  });
});
