/**
 * glibc malloc settings for a process that handles many short-lived buffers of 20-40 MB (relay
 * parts, WebCrypto's copies of them). By default glibc raises its mmap threshold after each large
 * free, so later large buffers come from per-thread arenas that fragment and are not returned:
 * measured on the relay benchmark, peak RSS 730 MB (A) and 985 MB (B) with the defaults, 470 and
 * 520 MB with a fixed 128 KiB mmap threshold, two arenas and a 128 KiB trim threshold. Set through
 * mallopt(3) at start, so it holds however the appliance is started; where libc is not glibc or
 * FFI is not allowed, nothing changes and the reason is logged.
 */
import type { Logger } from "../modules/core/mod.ts";

// mallopt(3) parameter numbers from glibc's malloc.h.
const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;
const M_ARENA_MAX = -8;
const KIB_128 = 128 * 1024;

export function tuneAllocator(log: Logger): void {
  if (Deno.build.os !== "linux") return;
  try {
    const libc = Deno.dlopen("libc.so.6", {
      mallopt: { parameters: ["i32", "i32"], result: "i32" },
    });
    const ok = [
      libc.symbols.mallopt(M_MMAP_THRESHOLD, KIB_128),
      libc.symbols.mallopt(M_TRIM_THRESHOLD, KIB_128),
      libc.symbols.mallopt(M_ARENA_MAX, 2),
    ].every((r) => r === 1);
    libc.close();
    if (!ok) log.warn("allocator settings not accepted by libc; memory use may be higher");
  } catch (error) {
    log.info("allocator settings left at their defaults", { reason: String(error) });
  }
}
