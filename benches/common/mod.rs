//! Helpers shared by the benchmarks.

// Each bench uses a part of these.
#[allow(dead_code)]
pub mod corpus;
#[allow(dead_code)]
pub mod desk;

use std::path::Path;

/// Bytes on disk under `path`, recursively.
pub fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The postdesk binary to time: `BENCH_BIN` if set (another build, say an older
/// commit's, timed on the same generated data), else the one cargo just built.
pub fn postdesk_binary() -> std::path::PathBuf {
    std::env::var_os("BENCH_BIN")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_postdesk").into())
}
