//! Tools for loading and measuring Sluice on one machine: `sluice dev upstream` (stand-in
//! external APIs that examples, tests and benchmarks call) and `sluice bench` (a load generator
//! for webhook workflows with a report and target checks). They live apart from the engine so
//! nothing in a production process depends on them.

mod args;
pub mod bench;
pub mod upstream;

pub use bench::{bench, BenchArgs};
pub use upstream::{dev, DevArgs, UpstreamArgs, UpstreamServer};

/// Exit code for bad input (the CLI's convention).
const BAD_INPUT: u8 = 2;
