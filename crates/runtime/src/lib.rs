//! Long-lived services that nodes and the engine share across executions.
//!
//! The clock, file access, credentials, the TLS provider, HTTP and database connections. Nodes
//! never call the system clock or file system directly, so tests (and `sluice test`) can run on a
//! virtual clock, where a 42 s Wait returns at once but still reads as 42 s later, and with
//! virtual files. Credentials: one lookup rule over a file (`sluice run`) or the store (`sluice
//! serve`). HTTP: the process's pooled clients, and the rate-limit buckets, response caches and
//! circuit breakers every execution shares (global buckets and shared caches on the process's
//! Redis, for every process).
//! Binary data: items' files inline in memory or on disk under the data directory.
//! Database connections: one Postgres pool and one multiplexed Redis connection per credential
//! per process, and group commit for the requests executions make of them at the same time.

pub mod binary_data;
pub mod cache;
pub mod circuit;
mod clock;
pub mod credentials;
mod files;
pub mod group_commit;
pub mod http;
pub mod postgres;
pub mod rate_limit;
pub mod redis;
pub mod tls;

pub use binary_data::{BinaryData, BinaryDataMode};
pub use clock::Clock;
pub use credentials::{
    Credential, CredentialError, CredentialRef, CredentialSet, CredentialSource,
};
pub use files::Files;
