//! Long-lived services that nodes and the engine share across executions.
//!
//! For now: the clock, file access and the TLS provider. Nodes never call the system clock or
//! file system directly, so tests (and `sluice test`) can run on a virtual clock, where a 42 s
//! Wait returns at once but still reads as 42 s later, and with virtual files.

mod clock;
mod files;
pub mod tls;

pub use clock::Clock;
pub use files::Files;
