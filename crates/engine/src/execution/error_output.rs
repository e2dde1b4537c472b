//! Error routing for `onError: continueErrorOutput`: error items leave the regular outputs for
//! the node's extra error output.

use sluice_model::Item;

/// `continueErrorOutput`: items that only carry an error move to the extra last output, with
/// the input item they came from underneath.
pub(super) fn route_error_items(outputs: &mut [Vec<Item>], inputs: &[Vec<Item>]) {
    let Some((error_output, regular)) = outputs.split_last_mut() else {
        return;
    };
    for output in regular {
        let (errors, kept): (Vec<Item>, Vec<Item>) =
            std::mem::take(output).into_iter().partition(is_error_item);
        *output = kept;
        for mut item in errors {
            let origin = item
                .paired_item
                .first()
                .and_then(|p| inputs.get(p.input_index())?.get(p.item));
            if let Some(origin) = origin {
                let mut json = (*origin.json).clone();
                for (k, v) in item.json.iter() {
                    json.insert(k.clone(), v.clone());
                }
                item.json = json.into();
            }
            error_output.push(item);
        }
    }
}

fn is_error_item(item: &Item) -> bool {
    let json = &item.json;
    json.contains_key("error")
        && (json.len() == 1 || (json.len() == 2 && json.contains_key("message")))
}
