/**
 * What filesystem the data directory is on, for `beeldpoort doctor`. Two setups that work at first
 * sight lose or slow down what the spool holds:
 *
 * - tmpfs (or ramfs): every image accepted with a C-STORE success or an SMTP 250 is gone at the
 *   next reboot.
 * - ext4 without a journal (some cloud images mount it so): after a power cut the filesystem needs
 *   fsck before it can be trusted, and every new file costs a scan past the inodes deleted in the
 *   last minutes. Measured on such a machine: 4000 new 64 KiB files took 2.4-3.9 s right after
 *   4000 were deleted, against 0.17-0.37 s on ext4 with a journal (docs/benchmarks.md, seventeenth
 *   session); a relay creates and deletes thousands.
 *
 * Reads /proc and /sys only; on another system it says it cannot tell.
 * @module
 */

/** One line of /proc/self/mountinfo (proc(5)), the parts we need. */
export interface Mount {
  mountPoint: string;
  /** "major:minor" of the device. */
  device: string;
  fsType: string;
  source: string;
}

/** Mount points escape space, tab, newline and backslash as octal (\040 and so on). */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses /proc/self/mountinfo text. */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    const dash = fields.indexOf("-", 6);
    if (fields.length < 7 || dash < 0 || dash + 2 >= fields.length) continue;
    mounts.push({
      mountPoint: unescapeOctal(fields[4]),
      device: fields[2],
      fsType: fields[dash + 1],
      source: unescapeOctal(fields[dash + 2]),
    });
  }
  return mounts;
}

/** The mount `path` (absolute, symlinks resolved) lives on: the longest mount point above it. */
export function mountOf(mounts: readonly Mount[], path: string): Mount | null {
  let best: Mount | null = null;
  for (const m of mounts) {
    const root = m.mountPoint === "/" ? "/" : `${m.mountPoint}/`;
    const inside = path === m.mountPoint || path.startsWith(root);
    // Mounted later over the same point wins, as in the kernel's view: hence >=.
    if (inside && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/** What the doctor says about a filesystem: a warning, or null when it is fit for the spool. */
export function spoolFilesystemWarning(
  mount: Mount,
  ext4Journaled: boolean | null,
): string | null {
  if (mount.fsType === "tmpfs" || mount.fsType === "ramfs") {
    return `in memory (${mount.fsType} at ${mount.mountPoint}): every stored image is lost at a ` +
      "reboot; put the data directory on a disk";
  }
  if (mount.fsType === "ext4" && ext4Journaled === false) {
    return `ext4 without a journal (${mount.source} at ${mount.mountPoint}): after a power cut it ` +
      "needs fsck, and new files get slow while many were deleted recently; use a journaled " +
      "filesystem (tune2fs -O has_journal)";
  }
  return null;
}

/** Whether the ext4 filesystem on device "major:minor" has a journal, or null if unknown. */
function ext4HasJournal(device: string): boolean | null {
  try {
    // /sys/dev/block/8:1 -> .../block/sda/sda1; jbd2 names its journals "<device name>-<inode>".
    const name = Deno.realPathSync(`/sys/dev/block/${device}`).split("/").pop()!;
    for (const entry of Deno.readDirSync("/proc/fs/jbd2")) {
      if (entry.name.startsWith(`${name}-`)) return true;
    }
    return false;
  } catch {
    return null;
  }
}

/** The doctor's finding for the filesystem under `dir`. */
export function checkSpoolFilesystem(
  dir: string,
): { status: "ok" | "warn"; detail: string } {
  let mount: Mount | null = null;
  try {
    mount = mountOf(
      parseMountinfo(Deno.readTextFileSync("/proc/self/mountinfo")),
      Deno.realPathSync(dir),
    );
  } catch {
    // not Linux, or the directory is missing (the data directory check says so)
  }
  if (!mount) return { status: "ok", detail: `cannot tell which filesystem ${dir} is on` };
  const journaled = mount.fsType === "ext4" ? ext4HasJournal(mount.device) : null;
  const warning = spoolFilesystemWarning(mount, journaled);
  if (warning) return { status: "warn", detail: warning };
  const journal = journaled ? " with a journal" : "";
  return {
    status: "ok",
    detail: `${mount.fsType}${journal} (${mount.source} at ${mount.mountPoint})`,
  };
}
