//! Nodes that do one slow thing per input item (run a command, read a feed, send an email) run
//! the items in turn through one loop: each item's results paired to it, a failure becoming an
//! error item under `continueOnFail` or failing the node with the item's index otherwise.

use sluice_engine::{ExecuteContext, NodeError};
use sluice_model::{Item, ItemJson};
use std::future::Future;

/// `run` for input items `0..count`, in turn.
pub(crate) async fn in_turn<F, Fut>(
    ctx: &ExecuteContext<'_>,
    count: usize,
    mut run: F,
) -> Result<Vec<Item>, NodeError>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<Vec<ItemJson>, NodeError>>,
{
    let mut out = Vec::with_capacity(count);
    for index in 0..count {
        match run(index).await {
            Ok(results) => out.extend(
                results
                    .into_iter()
                    .map(|json| Item::new(json).paired_to(index)),
            ),
            Err(e) if ctx.continue_on_fail() => out.push(ctx.error_item(&e, index)),
            Err(e) => return Err(e.with_item(index)),
        }
    }
    Ok(out)
}
