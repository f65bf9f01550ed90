import assert from "node:assert/strict";
import {
  checkSpoolFilesystem,
  mountOf,
  parseMountinfo,
  spoolFilesystemWarning,
} from "../../appliance/spool_filesystem.ts";

// Lines in the format of proc(5), as a Debian host with a separate /var/lib and a tmpfs shows them.
const mountinfo = [
  "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,discard",
  "25 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw",
  "31 22 8:17 / /var/lib rw,relatime shared:9 - xfs /dev/sdb1 rw,attr2,inode64",
  "40 22 0:35 / /tmp rw,nosuid,nodev shared:20 - tmpfs tmpfs rw,size=4096k",
  "41 22 8:33 / /srv/beeldpoort\\040data rw,relatime - ext4 /dev/sdc1 rw",
  "",
].join("\n");

Deno.test("mountinfo: mount point, device, type and source of every line, escapes undone", () => {
  const mounts = parseMountinfo(mountinfo);
  assert.equal(mounts.length, 5);
  assert.deepEqual(mounts[2], {
    mountPoint: "/var/lib",
    device: "8:17",
    fsType: "xfs",
    source: "/dev/sdb1",
  });
  assert.equal(mounts[4].mountPoint, "/srv/beeldpoort data");
});

Deno.test("a path lives on the longest mount point above it, not on a name that only starts alike", () => {
  const mounts = parseMountinfo(mountinfo);
  assert.equal(mountOf(mounts, "/var/lib/beeldpoort/data")?.fsType, "xfs");
  assert.equal(mountOf(mounts, "/var/lib")?.fsType, "xfs");
  assert.equal(mountOf(mounts, "/var/library")?.mountPoint, "/");
  assert.equal(mountOf(mounts, "/tmp/data")?.fsType, "tmpfs");
  assert.equal(mountOf(mounts, "/srv/beeldpoort data/spool")?.source, "/dev/sdc1");
  assert.equal(mountOf([], "/srv"), null);
});

Deno.test("tmpfs and ext4 without a journal are warned about; journaled ext4 and xfs are not", () => {
  const [root, , lib, tmp] = parseMountinfo(mountinfo);
  assert.match(spoolFilesystemWarning(tmp, null) ?? "", /^in memory \(tmpfs at \/tmp\)/);
  assert.match(
    spoolFilesystemWarning(root, false) ?? "",
    /^ext4 without a journal \(\/dev\/vda1 at \/\): after a power cut it needs fsck/,
  );
  assert.equal(spoolFilesystemWarning(root, true), null);
  assert.equal(spoolFilesystemWarning(root, null), null); // cannot tell: no false alarm
  assert.equal(spoolFilesystemWarning(lib, null), null);
});

Deno.test({
  name:
    "the check on this machine names the filesystem /proc/self/mountinfo gives for the directory",
  // The doctor reads Linux's /proc; elsewhere it says it cannot tell.
  ignore: Deno.build.os !== "linux",
}, () => {
  const dir = Deno.makeTempDirSync();
  try {
    const mount = mountOf(
      parseMountinfo(Deno.readTextFileSync("/proc/self/mountinfo")),
      Deno.realPathSync(dir),
    )!;
    const finding = checkSpoolFilesystem(dir);
    assert.match(finding.detail, new RegExp(mount.fsType));
    assert.ok(finding.detail.includes(` at ${mount.mountPoint})`), finding.detail);
    // A machine with no journal at all (this kind of machine, measured): its ext4 has none either.
    const journals = [...Deno.readDirSync("/proc/fs/jbd2")].length;
    if (mount.fsType === "tmpfs" || (mount.fsType === "ext4" && journals === 0)) {
      assert.equal(finding.status, "warn");
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
