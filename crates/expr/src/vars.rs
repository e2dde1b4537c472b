//! n8n's expression variables: `$json`, `$input`, `$('Node')`, `$node`, `$items`, `$now`,
//! `$workflow`, `$execution`, `$env`, ... All item data is read through [`Scope`] by reference.

use crate::ast::Global;
use crate::eval::Ctx;
use crate::luxon::{DateTime, Unit};
use crate::methods::arg;
use crate::value::*;
use crate::{ExprError, Scope};
use sluice_model::{Item, ObjectRef, Value};
use std::rc::Rc;

fn items_val<'a>(items: &'a [Item]) -> Val<'a> {
    new_arr(items.iter().map(Val::Item).collect())
}

fn opt_item(item: Option<&Item>) -> Val<'_> {
    item.map_or(Val::Undefined, Val::Item)
}

fn opt_index(v: &Val) -> Option<usize> {
    match v {
        Val::Undefined | Val::Null => None,
        other => Some(other.to_number().max(0.0) as usize),
    }
}

/// Value of an n8n variable identifier; namespaces and functions evaluate to themselves.
pub fn value<'a>(ctx: &mut Ctx<'a>, g: Global) -> Result<Val<'a>, ExprError> {
    if let Some(v) = crate::code::variable(ctx, g) {
        return Ok(v);
    }
    let scope = ctx.scope;
    Ok(match g {
        Global::Json => scope
            .item()
            .map_or(Val::Undefined, |i| Val::JsonObj(ObjectRef::Item(&i.json))),
        Global::Binary => match scope.item().and_then(|i| i.binary.as_deref()) {
            Some(b) => Val::JsonObj(ObjectRef::Map(b)),
            None => new_obj(Obj::default()),
        },
        Global::Now => Val::DateTime(Rc::new(DateTime::from_chrono(&scope.now(), ctx.zone()))),
        Global::Today => Val::DateTime(Rc::new(
            DateTime::from_chrono(&scope.now(), ctx.zone()).start_of(Unit::Day),
        )),
        Global::RunIndex => Val::Num(scope.run_index() as f64),
        Global::ItemIndex => Val::Num(scope.item_index() as f64),
        Global::Workflow => {
            let w = scope.workflow();
            obj_from([
                ("id", str_val(w.id)),
                ("name", str_val(w.name)),
                ("active", Val::Bool(w.active)),
            ])
        }
        Global::Execution => {
            let e = scope.execution();
            obj_from([
                ("id", str_val(e.id)),
                ("mode", str_val(e.mode)),
                ("resumeUrl", str_val(e.resume_url)),
                ("customData", new_obj(Obj::default())),
            ])
        }
        Global::Mode => str_val(scope.execution().mode),
        Global::Vars => scope.vars().map_or_else(
            || new_obj(Obj::default()),
            |o| Val::JsonObj(ObjectRef::Map(o)),
        ),
        Global::PrevNode => match scope.prev_node() {
            Some(p) => obj_from([
                ("name", str_val(p.name)),
                ("outputIndex", Val::Num(p.output_index as f64)),
                ("runIndex", Val::Num(p.run_index as f64)),
            ]),
            None => Val::Undefined,
        },
        Global::Parameter => scope
            .node_parameters(scope.current_node())
            .map_or(Val::Undefined, Val::from_json),
        other => Val::Global(other),
    })
}

/// Properties of the `$input`, `$env` and `$node` namespaces.
pub fn namespace_property<'a>(
    ctx: &mut Ctx<'a>,
    g: Global,
    key: &str,
) -> Result<Val<'a>, ExprError> {
    if g == Global::Input {
        if let Some(found) = crate::code::input(ctx, key, false) {
            return found;
        }
    }
    let scope = ctx.scope;
    Ok(match (g, key) {
        (Global::Input, "item") => opt_item(scope.item()),
        (Global::Input, "params") => match scope.prev_node() {
            Some(p) => scope
                .node_parameters(&p.name)
                .map_or(Val::Undefined, Val::from_json),
            None => Val::Undefined,
        },
        (Global::Input, "context") => new_obj(Obj::default()),
        (Global::Env, name) => scope.env(name)?.map_or(Val::Undefined, str_val),
        (Global::Node, name) => {
            check_node(ctx, name)?;
            Val::LegacyNode(JsStr::from(name))
        }
        _ => Val::Undefined,
    })
}

/// Methods of `$input`.
pub fn input_method<'a>(ctx: &mut Ctx<'a>, name: &str) -> Option<Val<'a>> {
    let items = ctx.scope.input_items();
    Some(match name {
        "all" => items_val(items),
        "first" => opt_item(items.first()),
        "last" => opt_item(items.last()),
        "item" => opt_item(ctx.scope.item()),
        _ => return None,
    })
}

fn check_node(ctx: &Ctx, name: &str) -> Result<(), ExprError> {
    if ctx.scope.node_parameters(name).is_none() {
        return Err(ExprError::Eval {
            message: "Referenced node doesn't exist".into(),
            description: Some(format!(
                "The node '{name}' is used in an expression but is not in the workflow"
            )),
        });
    }
    Ok(())
}

/// `$('Node')`.
pub fn node_ref<'a>(ctx: &mut Ctx<'a>, args: &[Val<'a>]) -> Result<Val<'a>, ExprError> {
    let name = match args.first() {
        Some(Val::Str(s)) => s.clone(),
        _ => return Err(ExprError::eval("$() expects a node name as a string")),
    };
    check_node(ctx, &name)?;
    Ok(Val::NodeRef(name))
}

pub fn node_ref_property<'a>(
    ctx: &mut Ctx<'a>,
    node: &str,
    key: &str,
) -> Result<Val<'a>, ExprError> {
    let scope = ctx.scope;
    Ok(match key {
        "item" => Val::Item(scope.paired_item(node)?),
        "isExecuted" => Val::Bool(scope.node_executed(node)),
        "params" => scope
            .node_parameters(node)
            .map_or(Val::Undefined, Val::from_json),
        "context" => node_context(scope, node),
        _ => Val::Undefined,
    })
}

pub fn node_ref_method<'a>(
    ctx: &mut Ctx<'a>,
    node: &str,
    name: &str,
    args: &[Val<'a>],
) -> Result<Option<Val<'a>>, ExprError> {
    let scope = ctx.scope;
    let items = || scope.node_items(node, opt_index(&arg(args, 0)), opt_index(&arg(args, 1)));
    Ok(Some(match name {
        "all" => items_val(items()?),
        "first" => opt_item(items()?.first()),
        "last" => opt_item(items()?.last()),
        "item" | "pairedItem" => Val::Item(scope.paired_item(node)?),
        "itemMatching" => {
            let index = opt_index(&arg(args, 0)).ok_or_else(|| {
                ExprError::eval("itemMatching() expects the index of an input item")
            })?;
            Val::Item(scope.paired_item_at(node, index)?)
        }
        _ => return Ok(None),
    }))
}

/// `$node['Node'].json` (or `.data`, its older name) and friends: data of the item at the
/// current index in the node's last run (output 0), falling back to its first item.
pub fn legacy_node_property<'a>(
    ctx: &mut Ctx<'a>,
    node: &str,
    key: &str,
) -> Result<Val<'a>, ExprError> {
    let scope = ctx.scope;
    let item = || -> Result<Option<&'a Item>, ExprError> {
        let items = scope.node_items(node, Some(0), None)?;
        Ok(items.get(scope.item_index()).or_else(|| items.first()))
    };
    Ok(match key {
        "json" | "data" => {
            item()?.map_or(Val::Undefined, |i| Val::JsonObj(ObjectRef::Item(&i.json)))
        }
        "binary" => item()?.and_then(|i| i.binary.as_deref()).map_or_else(
            || new_obj(Obj::default()),
            |o| Val::JsonObj(ObjectRef::Map(o)),
        ),
        "parameter" => scope
            .node_parameters(node)
            .map_or(Val::Undefined, Val::from_json),
        "context" => node_context(scope, node),
        "isExecuted" => Val::Bool(scope.node_executed(node)),
        _ => Val::Undefined,
    })
}

/// A node's context as an object (`{}` when it keeps none).
fn node_context<'a>(scope: &dyn Scope, node: &str) -> Val<'a> {
    scope.node_context(node).map_or_else(
        || new_obj(Obj::default()),
        |state| Val::from_owned_json(Value::Object(state)),
    )
}

/// `$items(node?, output?, run?)`: a node's output items; without a node, the current input.
pub fn items<'a>(ctx: &mut Ctx<'a>, args: &[Val<'a>]) -> Result<Val<'a>, ExprError> {
    let scope = ctx.scope;
    match arg(args, 0) {
        Val::Undefined => Ok(items_val(scope.input_items())),
        name => {
            let name = name.to_str();
            check_node(ctx, &name)?;
            let list =
                scope.node_items(&name, opt_index(&arg(args, 1)), opt_index(&arg(args, 2)))?;
            Ok(items_val(list))
        }
    }
}
