use std::process::ExitCode;

use clap::Parser;
use clientele::cli::{Cli, run};
use clientele::config::Settings;

fn main() -> ExitCode {
    bound_resident_memory();
    let cli = Cli::parse();
    clientele::telemetry::init_logging();
    let outcome = Settings::load()
        .map_err(|e| format!("configuration: {e}").into())
        .and_then(|settings| run(cli, settings));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("clientele: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Bounds what glibc's allocator keeps resident (peak RSS, bench/run).
///
/// Every argon2 verification allocates its 19 MiB of memory blocks at once.
/// glibc serves the first such block with mmap, then raises its mmap
/// threshold to that size, so later ones came from a thread's heap and stayed
/// resident after they were freed: peak RSS grew by 19 MiB per verification
/// (31 to 135 MiB over a benchmark run). A fixed threshold keeps blocks of
/// 1 MiB and more in their own mappings, returned on free.
///
/// glibc also gives threads up to eight arenas per core; the blocking pool's
/// threads (pool size + 4 per worker) each fragmented their own, which took
/// SQLite's peak RSS from 32 to 49 MiB over a few list runs. One arena per
/// core kept it at 32 MiB with no throughput change measured.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn bound_resident_memory() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only changes allocator tuning, and it runs before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn bound_resident_memory() {}
