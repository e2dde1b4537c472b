//! Long-lived services that nodes and the engine share across executions.
//!
//! The clock, file access, credentials and the TLS provider. Nodes never call the system clock or
//! file system directly, so tests (and `sluice test`) can run on a virtual clock, where a 42 s
//! Wait returns at once but still reads as 42 s later, and with virtual files. Credentials: one
//! lookup rule over a file (`sluice run`) or the store (`sluice serve`).

mod clock;
pub mod credentials;
mod files;
pub mod tls;

pub use clock::Clock;
pub use credentials::{
    Credential, CredentialError, CredentialRef, CredentialSet, CredentialSource,
};
pub use files::Files;
