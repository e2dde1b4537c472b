//! Comparison operators (`==`, `!=`, `===`, `!==`, `<`, `>`, `<=`, `>=`) and a chunk's
//! precompiled form when it is one comparison of a `$json` path with a literal.
//!
//! This exists because `{{ $json.amount > 100 }}` is the commonest IF and Filter condition, and
//! the tree walker pays per node for it: a recursive call, a depth check and a
//! `Result<Val, ExprError>` moved through the stack for the path, the literal and the operator.
//! Recognised at parse time, the comparison reads the field and compares with no [`Ctx`] at
//! all. The operators' rules are here once, for the tree walker and this form alike.
//!
//! [`Ctx`]: crate::eval::Ctx

use crate::ast::{BinOp, Expr};
use crate::eval::{follow_json_path, PathEnd};
use crate::value::{JsStr, Val};
use sluice_model::Item;
use std::cmp::Ordering;
use std::sync::Arc;

/// A comparison operator.
#[derive(Clone, Copy)]
pub(crate) enum Comparison {
    LooseEq,
    LooseNe,
    StrictEq,
    StrictNe,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Comparison {
    /// The comparison `op` is, or `None` for the other binary operators.
    pub fn of(op: BinOp) -> Option<Comparison> {
        Some(match op {
            BinOp::Eq => Comparison::LooseEq,
            BinOp::Ne => Comparison::LooseNe,
            BinOp::StrictEq => Comparison::StrictEq,
            BinOp::StrictNe => Comparison::StrictNe,
            BinOp::Lt => Comparison::Lt,
            BinOp::Gt => Comparison::Gt,
            BinOp::Le => Comparison::Le,
            BinOp::Ge => Comparison::Ge,
            _ => return None,
        })
    }

    /// `l op r` with JavaScript's rules.
    pub fn apply<'a>(self, l: &Val<'a>, r: &Val<'a>) -> bool {
        use Comparison::*;
        if let (Val::Num(a), Val::Num(b)) = (l, r) {
            return match self {
                LooseEq | StrictEq => a == b,
                LooseNe | StrictNe => a != b,
                Lt => a < b,
                Gt => a > b,
                Le => a <= b,
                Ge => a >= b,
            };
        }
        match self {
            LooseEq => l.loose_eq(r),
            LooseNe => !l.loose_eq(r),
            StrictEq => l.strict_eq(r),
            StrictNe => !l.strict_eq(r),
            Lt => l.compare(r) == Some(Ordering::Less),
            Gt => l.compare(r) == Some(Ordering::Greater),
            Le => matches!(l.compare(r), Some(Ordering::Less | Ordering::Equal)),
            Ge => matches!(l.compare(r), Some(Ordering::Greater | Ordering::Equal)),
        }
    }
}

/// A literal operand of a [`JsonComparison`].
enum Literal {
    Undefined,
    Null,
    Bool(bool),
    Num(f64),
    Str(Arc<str>),
}

impl Literal {
    fn of(e: &Expr) -> Option<Literal> {
        Some(match e {
            Expr::Undefined => Literal::Undefined,
            Expr::Null => Literal::Null,
            Expr::Bool(b) => Literal::Bool(*b),
            Expr::Num(n) => Literal::Num(*n),
            Expr::Str(s) => Literal::Str(s.clone()),
            _ => return None,
        })
    }

    fn val(&self) -> Val<'_> {
        match self {
            Literal::Undefined => Val::Undefined,
            Literal::Null => Val::Null,
            Literal::Bool(b) => Val::Bool(*b),
            Literal::Num(n) => Val::Num(*n),
            Literal::Str(s) => Val::Str(JsStr::Borrowed(s)),
        }
    }
}

/// `$json.a.b <op> literal` or `literal <op> $json.a.b`, compiled from a chunk's tree.
pub(crate) struct JsonComparison {
    path: Vec<Arc<str>>,
    op: Comparison,
    literal: Literal,
    /// Whether the literal is the left operand.
    literal_first: bool,
}

impl JsonComparison {
    /// The comparison `expr` is, or `None` when it is any other expression.
    pub fn compile(expr: &Expr) -> Option<JsonComparison> {
        let Expr::Binary(op, l, r) = expr else {
            return None;
        };
        let op = Comparison::of(*op)?;
        let (path, literal, literal_first) = match (&**l, &**r) {
            (Expr::JsonPath(path), literal) => (path, literal, false),
            (literal, Expr::JsonPath(path)) => (path, literal, true),
            _ => return None,
        };
        Some(JsonComparison {
            path: path.clone(),
            op,
            literal: Literal::of(literal)?,
            literal_first,
        })
    }

    /// The comparison's value for the current item, or `None` when the tree walker must decide:
    /// there is no item, or the path leaves plain objects (a missing parent makes the whole
    /// chunk `undefined`; arrays and strings have properties of their own).
    pub fn eval(&self, item: Option<&Item>) -> Option<bool> {
        let PathEnd::Value(field) = follow_json_path(&item?.json, &self.path) else {
            return None;
        };
        let field = field.map_or(Val::Undefined, Val::from_json);
        let literal = self.literal.val();
        Some(if self.literal_first {
            self.op.apply(&literal, &field)
        } else {
            self.op.apply(&field, &literal)
        })
    }
}
