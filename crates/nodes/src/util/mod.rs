//! Helpers shared by several node families, one module per concern. JavaScript value semantics
//! (`String(v)`, `Number(v)`, truthiness, ...) are not here: they live in
//! [`sluice_expr::json_js`], next to the expression evaluator that defines them.

pub(crate) mod binary;
pub(crate) mod dates;
pub(crate) mod errors;
pub(crate) mod fields;
pub(crate) mod html;
pub(crate) mod params;
pub(crate) mod path;
pub(crate) mod per_item;
pub(crate) mod process_group;
pub(crate) mod types;
pub(crate) mod values;
