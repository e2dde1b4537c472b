//! Triggers, pass-throughs, canvas notes, Execution Data and the test/training nodes n8n's
//! fixtures use.

mod debug_helper;
mod execution_data;
mod manual_trigger;
mod no_op;
mod sticky_note;
mod test_data;
mod training;

use sluice_engine::NodeSpec;

pub fn specs() -> Vec<NodeSpec> {
    vec![
        manual_trigger::SPEC,
        manual_trigger::START_SPEC,
        no_op::SPEC,
        sticky_note::SPEC,
        test_data::SPEC,
        training::DATASTORE_SPEC,
        training::MESSENGER_SPEC,
        debug_helper::SPEC,
        execution_data::SPEC,
    ]
}
