//! Long-lived services that nodes and the engine share across executions.
//!
//! For now: the clock. Nodes never call the system clock directly, so tests (and `sluice test`)
//! can run on a virtual clock where a 42 s Wait returns at once but still reads as 42 s later.

mod clock;

pub use clock::Clock;
