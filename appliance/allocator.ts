/**
 * glibc malloc settings for a process that handles many short-lived buffers of 20-40 MB (relay
 * parts, WebCrypto's copies of them). By default glibc raises its mmap threshold after each large
 * free, so later large buffers come from per-thread arenas that fragment and are not returned:
 * measured on the relay benchmark (1000 instances), peak RSS 640-730 MB (A) and 920-985 MB (B)
 * with the defaults, 380-460 and 610-670 MB with a fixed mmap threshold, two arenas and a trim
 * threshold. The threshold is 4 MiB rather than 128 KiB: below it the spool's 128 KiB chunks and
 * their ciphertexts reuse heap memory instead of faulting in fresh zeroed pages each time, which
 * cost 12% of the gateways' CPU at the same peak RSS. Set through mallopt(3) at start, so it holds
 * however the appliance is started; where libc is not glibc or FFI is not allowed, nothing changes
 * and the reason is logged.
 */
import type { Logger } from "../modules/core/mod.ts";

// mallopt(3) parameter numbers from glibc's malloc.h.
const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;
const M_ARENA_MAX = -8;
const MIB_4 = 4 * 1024 * 1024;

export function tuneAllocator(log: Logger): void {
  if (Deno.build.os !== "linux") return;
  try {
    const libc = Deno.dlopen("libc.so.6", {
      mallopt: { parameters: ["i32", "i32"], result: "i32" },
    });
    const ok = [
      libc.symbols.mallopt(M_MMAP_THRESHOLD, MIB_4),
      libc.symbols.mallopt(M_TRIM_THRESHOLD, MIB_4),
      libc.symbols.mallopt(M_ARENA_MAX, 2),
    ].every((r) => r === 1);
    libc.close();
    if (!ok) log.warn("allocator settings not accepted by libc; memory use may be higher");
  } catch (error) {
    log.info("allocator settings left at their defaults", { reason: String(error) });
  }
}
