//! Long-lived services that nodes and the engine share across executions.
//!
//! The clock and file access: nodes never call the system clock or file system directly, so
//! tests (and `sluice test`) can run on a virtual clock, where a 42 s Wait returns at once but
//! still reads as 42 s later, and with virtual files. Database connections: one Postgres pool
//! and one multiplexed Redis connection per credential per process.

mod clock;
mod files;
pub mod postgres;
pub mod redis;

pub use clock::Clock;
pub use files::Files;
