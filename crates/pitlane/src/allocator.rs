//! glibc's allocator, set for a server that holds many small, long-lived
//! requests and sometimes a few very large blocks.
//!
//! - One arena. By default glibc gives threads arenas of their own (up to
//!   eight per core); a block freed by another thread goes back to the
//!   arena it came from, and memory freed in one arena cannot serve the
//!   next allocation in another. With 10,000 held matchmaking polls that
//!   was 6 MB more resident memory than with one arena, and the single
//!   arena cost no measurable throughput on Login or EnterMatchmaking2
//!   (docs/performance.md).
//! - A fixed mmap threshold of 128 KiB. glibc raises the threshold after
//!   the first large block is freed, so Motor City Online's argon2 blocks
//!   (19 MiB per password check) would then come from the arenas and stay
//!   there after use; with the threshold fixed they are mapped and given
//!   back.
//!
//! An operator's own `MALLOC_ARENA_MAX` or `MALLOC_MMAP_THRESHOLD_` in the
//! environment wins over these.

/// Applies the settings. Call before any thread is started.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 128 * 1024;
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            // SAFETY: mallopt only changes allocator parameters; it is
            // called before any other thread exists.
            unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            // SAFETY: as above.
            unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
        }
    }
}
