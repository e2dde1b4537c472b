//! Paired items the engine fills in after a node run when the node set none and n8n can tell
//! which input item an output item came from.

use sluice_model::{Item, PairedItem, PairedItems};

/// Fill in missing paired items the way n8n does when it can tell: one input item, equal counts,
/// or a single output item.
pub(super) fn assign_paired_items(output: &mut [Item], input_len: usize, input: usize) {
    let n = output.len();
    for (i, item) in output.iter_mut().enumerate() {
        if !item.paired_item.is_empty() {
            continue;
        }
        let paired = if input_len == 1 || n == 1 {
            Some(0)
        } else if n == input_len {
            Some(i)
        } else {
            None
        };
        if let Some(p) = paired {
            item.paired_item = PairedItems::one(PairedItem::with_input(p, input));
        }
    }
}
