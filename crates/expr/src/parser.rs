//! Recursive-descent (precedence-climbing) parser from tokens to [`Expr`].
//!
//! Covers the JavaScript expression grammar n8n users write in `{{ }}`: operators, member and
//! optional chains, calls, `new`, literals (including template and regex literals), spread, arrow
//! functions with expression or block bodies (`const`/`let`, `if`, `for..of`, `return`).
//!
//! Nesting is counted as it is parsed, so code nested deeper than [`MAX_NESTING`] is a syntax
//! error instead of a stack overflow here, in the evaluator or when the tree is dropped.

use crate::ast::*;
use crate::jsregex::JsRegex;
use crate::lexer::{syntax, tokenize, Tok, Token};
use crate::{nests_too_deep, ExprError, MAX_NESTING};
use std::sync::Arc;

/// Parses one chunk of code (the text between `{{` and `}}`). Empty code is `undefined`.
pub fn parse_chunk(src: &str) -> Result<Expr, ExprError> {
    let mut p = Parser::new(src, None)?;
    if p.at_eof() {
        return Ok(Expr::Undefined);
    }
    let e = p.expression()?;
    while p.eat(";") {}
    if !p.at_eof() {
        return Err(p.unexpected());
    }
    Ok(e)
}

/// Parses the body of a Code node script (statements, `return` at the top level) in the
/// native Code subset. Anything outside it is an error, so the script runs in QuickJS instead:
/// names the Code node's JavaScript does not see natively (`require`, `$getWorkflowStaticData`,
/// `Error`, keywords such as `try` and `switch`, which read as unknown names), a name used
/// before its declaration or outside its block, and a `const` that is assigned.
pub fn parse_script(src: &str) -> Result<Vec<Stmt>, ExprError> {
    let mut p = Parser::new(src, Some(Script::default()))?;
    p.scopes.push(Vec::new());
    let mut stmts = Vec::new();
    while !p.at_eof() {
        if let Some(s) = p.statement()? {
            stmts.push(s);
        }
    }
    let script = p.script.take().expect("script mode");
    if let Some(reason) = script.refused {
        return Err(syntax(reason));
    }
    if let Some(name) = script.free.iter().find(|n| script.declared.contains(n)) {
        return Err(syntax(format!(
            "`{name}` is used outside its declaration's block or before it"
        )));
    }
    if let Some(name) = script.assigned.iter().find(|n| script.consts.contains(n)) {
        return Err(syntax(format!(
            "`{name}` is assigned but may be a constant"
        )));
    }
    Ok(stmts)
}

/// Names a Code script may use natively besides its own: those that mean the same to the
/// native evaluator as to the Code node's JavaScript (`items`, `item` and `console` are
/// resolved separately).
const SCRIPT_GLOBALS: &[&str] = &[
    "$input",
    "$json",
    "$binary",
    "$",
    "$runIndex",
    "$itemIndex",
    "$workflow",
    "$now",
    "$today",
    "$vars",
    "$if",
    "$ifEmpty",
    "undefined",
    "NaN",
    "Infinity",
    "Math",
    "JSON",
    "Object",
    "Array",
    "Number",
    "String",
    "Boolean",
    "Date",
    "RegExp",
    "parseInt",
    "parseFloat",
    "isNaN",
    "isFinite",
    "encodeURIComponent",
    "decodeURIComponent",
    "encodeURI",
    "decodeURI",
];

/// What the parser records about a Code script's names, checked when the script is parsed.
#[derive(Default)]
struct Script {
    /// Why the script is outside the native subset (the first reason found).
    refused: Option<String>,
    /// Names resolved outside any declaration (globals).
    free: Vec<Arc<str>>,
    /// Names the script declares anywhere.
    declared: Vec<Arc<str>>,
    /// Names declared `const` anywhere.
    consts: Vec<Arc<str>>,
    /// Local names assigned anywhere.
    assigned: Vec<Arc<str>>,
    /// Loops around the current statement (a `var` in a loop is one binding in JavaScript,
    /// not one per iteration, so it is refused there).
    loops: usize,
}

struct Parser {
    src: String,
    toks: Vec<Token>,
    i: usize,
    /// Names bound by enclosing arrow functions and blocks, innermost last.
    scopes: Vec<Vec<Arc<str>>>,
    /// Nesting levels entered so far: recursive rules and operator chains, which make the tree
    /// one level deeper per operator.
    depth: usize,
    /// Arrow functions parsed so far: a loop whose parts hold none has no closure that could
    /// keep one iteration's `let` bindings.
    functions: usize,
    /// Set when parsing a Code script rather than an expression chunk.
    script: Option<Script>,
}

fn binary_prec(p: &str) -> Option<(u8, BinOrLog)> {
    use BinOp::*;
    Some(match p {
        "??" => (1, BinOrLog::Log(LogOp::Nullish)),
        "||" => (2, BinOrLog::Log(LogOp::Or)),
        "&&" => (3, BinOrLog::Log(LogOp::And)),
        "|" => (4, BinOrLog::Bin(BitOr)),
        "^" => (5, BinOrLog::Bin(BitXor)),
        "&" => (6, BinOrLog::Bin(BitAnd)),
        "==" => (7, BinOrLog::Bin(Eq)),
        "!=" => (7, BinOrLog::Bin(Ne)),
        "===" => (7, BinOrLog::Bin(StrictEq)),
        "!==" => (7, BinOrLog::Bin(StrictNe)),
        "<" => (8, BinOrLog::Bin(Lt)),
        ">" => (8, BinOrLog::Bin(Gt)),
        "<=" => (8, BinOrLog::Bin(Le)),
        ">=" => (8, BinOrLog::Bin(Ge)),
        "<<" => (9, BinOrLog::Bin(Shl)),
        ">>" => (9, BinOrLog::Bin(Shr)),
        ">>>" => (9, BinOrLog::Bin(UShr)),
        "+" => (10, BinOrLog::Bin(Add)),
        "-" => (10, BinOrLog::Bin(Sub)),
        "*" => (11, BinOrLog::Bin(Mul)),
        "/" => (11, BinOrLog::Bin(Div)),
        "%" => (11, BinOrLog::Bin(Rem)),
        "**" => (12, BinOrLog::Bin(Pow)),
        _ => return None,
    })
}

#[derive(Clone, Copy)]
enum BinOrLog {
    Bin(BinOp),
    Log(LogOp),
}

fn assign_op(p: &str) -> Option<Option<AssignOp>> {
    use BinOp::*;
    Some(match p {
        "=" => None,
        "+=" => Some(AssignOp::Bin(Add)),
        "-=" => Some(AssignOp::Bin(Sub)),
        "*=" => Some(AssignOp::Bin(Mul)),
        "/=" => Some(AssignOp::Bin(Div)),
        "%=" => Some(AssignOp::Bin(Rem)),
        "**=" => Some(AssignOp::Bin(Pow)),
        "&&=" => Some(AssignOp::Log(LogOp::And)),
        "||=" => Some(AssignOp::Log(LogOp::Or)),
        "??=" => Some(AssignOp::Log(LogOp::Nullish)),
        _ => return None,
    })
}

impl Parser {
    fn new(src: &str, script: Option<Script>) -> Result<Parser, ExprError> {
        Ok(Parser {
            src: src.to_string(),
            toks: tokenize(src)?,
            i: 0,
            scopes: Vec::new(),
            depth: 0,
            functions: 0,
            script,
        })
    }

    /// Marks a Code script as outside the native subset.
    fn refuse(&mut self, reason: impl FnOnce() -> String) {
        if let Some(script) = &mut self.script {
            script.refused.get_or_insert_with(reason);
        }
    }

    /// True when a line break separates the previous token from the next one (JavaScript
    /// ends a `return` or a statement before a postfix `++` there).
    fn newline_before(&self) -> bool {
        self.i > 0
            && self.src
                [self.toks[self.i - 1].end..self.toks[self.i].start.max(self.toks[self.i - 1].end)]
                .contains('\n')
    }

    /// Goes one nesting level deeper; fails past [`MAX_NESTING`].
    fn nest(&mut self) -> Result<(), ExprError> {
        if self.depth >= MAX_NESTING {
            return Err(nests_too_deep());
        }
        self.depth += 1;
        Ok(())
    }

    /// Runs a rule one nesting level deeper.
    fn nested<T>(
        &mut self,
        rule: impl FnOnce(&mut Self) -> Result<T, ExprError>,
    ) -> Result<T, ExprError> {
        self.nest()?;
        let result = rule(self);
        self.depth -= 1;
        result
    }

    /// Runs a rule that may nest several levels (one per operator of a chain) and returns to
    /// the current level afterwards.
    fn chain<T>(
        &mut self,
        rule: impl FnOnce(&mut Self) -> Result<T, ExprError>,
    ) -> Result<T, ExprError> {
        let level = self.depth;
        let result = rule(self);
        self.depth = level;
        result
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.i].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.i + n).min(self.toks.len() - 1)].tok
    }

    fn at_eof(&self) -> bool {
        matches!(self.peek(), Tok::Eof)
    }

    fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(n) if &**n == w)
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.is(p) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.i].tok.clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }

    /// The code being parsed, for error messages: on one line, whitespace runs as one space.
    fn source_on_one_line(&self) -> String {
        self.src.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn unexpected(&self) -> ExprError {
        let t = &self.toks[self.i];
        if t.tok == Tok::Eof {
            syntax(format!(
                "unexpected end of expression in `{}`",
                self.source_on_one_line()
            ))
        } else {
            syntax(format!(
                "unexpected token '{}' in `{}`",
                &self.src[t.start..t.end],
                self.source_on_one_line()
            ))
        }
    }

    fn expect(&mut self, p: &str) -> Result<(), ExprError> {
        if self.eat(p) {
            Ok(())
        } else {
            let t = &self.toks[self.i];
            let found = if t.tok == Tok::Eof {
                "end of expression".to_string()
            } else {
                format!("'{}'", &self.src[t.start..t.end])
            };
            Err(syntax(format!(
                "expected '{p}' but found {found} in `{}`",
                self.source_on_one_line()
            )))
        }
    }

    fn ident_name(&mut self) -> Result<Arc<str>, ExprError> {
        match self.peek() {
            Tok::Ident(n) => {
                let n = n.clone();
                self.i += 1;
                Ok(n)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn resolve(&mut self, name: &Arc<str>) -> Expr {
        if self.scopes.iter().any(|s| s.contains(name)) {
            return Expr::Local(name.clone());
        }
        if let Some(script) = &mut self.script {
            script.free.push(name.clone());
            match &**name {
                "items" => return Expr::Global(Global::CodeItems),
                "item" => return Expr::Global(Global::CodeItem),
                "console" => return Expr::Global(Global::Console),
                "true" | "false" | "null" => {}
                name if SCRIPT_GLOBALS.contains(&name) => {}
                name => {
                    let reason = format!("`{name}` is outside the native Code subset");
                    self.refuse(|| reason);
                }
            }
        }
        match &**name {
            "true" => Expr::Bool(true),
            "false" => Expr::Bool(false),
            "null" => Expr::Null,
            "undefined" => Expr::Undefined,
            _ => Global::from_name(name).map_or_else(|| Expr::Unknown(name.clone()), Expr::Global),
        }
    }

    /// Comma expression.
    fn expression(&mut self) -> Result<Expr, ExprError> {
        let first = self.assignment()?;
        if !self.is(",") {
            return Ok(first);
        }
        let mut all = vec![first];
        while self.eat(",") {
            all.push(self.assignment()?);
        }
        Ok(Expr::Seq(all))
    }

    fn assignment(&mut self) -> Result<Expr, ExprError> {
        self.nested(Self::assignment_at_level)
    }

    fn assignment_at_level(&mut self) -> Result<Expr, ExprError> {
        if self.arrow_ahead() {
            return self.arrow();
        }
        let lhs = self.conditional()?;
        if let Tok::Punct(p) = self.peek() {
            if let Some(op) = assign_op(p) {
                if !matches!(lhs, Expr::Local(_) | Expr::Member(..) | Expr::Index(..)) {
                    return Err(syntax(format!(
                        "invalid assignment target in `{}`",
                        self.source_on_one_line()
                    )));
                }
                self.assigned(&lhs);
                self.i += 1;
                let rhs = self.assignment()?;
                return Ok(Expr::Assign(op, Box::new(lhs), Box::new(rhs)));
            }
        }
        Ok(lhs)
    }

    fn conditional(&mut self) -> Result<Expr, ExprError> {
        let cond = self.binary(1)?;
        if !self.eat("?") {
            return Ok(cond);
        }
        let a = self.assignment()?;
        self.expect(":")?;
        let b = self.assignment()?;
        Ok(Expr::Cond(Box::new(cond), Box::new(a), Box::new(b)))
    }

    fn binary(&mut self, min_prec: u8) -> Result<Expr, ExprError> {
        self.chain(|p| p.binary_chain(min_prec))
    }

    fn binary_chain(&mut self, min_prec: u8) -> Result<Expr, ExprError> {
        let mut lhs = self.unary()?;
        loop {
            let (prec, op) = match self.peek() {
                Tok::Punct(p) => match binary_prec(p) {
                    Some(x) => x,
                    None => break,
                },
                Tok::Ident(w) if &**w == "in" => (8, BinOrLog::Bin(BinOp::In)),
                Tok::Ident(w) if &**w == "instanceof" => (8, BinOrLog::Bin(BinOp::InstanceOf)),
                _ => break,
            };
            if prec < min_prec {
                break;
            }
            self.i += 1;
            self.nest()?;
            // `**` is right-associative: its right side is parsed at the same level.
            let rhs = self.binary(if prec == 12 { prec } else { prec + 1 })?;
            lhs = match op {
                BinOrLog::Bin(op) => Expr::Binary(op, Box::new(lhs), Box::new(rhs)),
                BinOrLog::Log(op) => Expr::Logical(op, Box::new(lhs), Box::new(rhs)),
            };
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        self.nested(Self::unary_at_level)
    }

    fn unary_at_level(&mut self) -> Result<Expr, ExprError> {
        let op = match self.peek() {
            Tok::Punct("!") => Some(UnOp::Not),
            Tok::Punct("-") => Some(UnOp::Neg),
            Tok::Punct("+") => Some(UnOp::Plus),
            Tok::Punct("~") => Some(UnOp::BitNot),
            Tok::Ident(w) if &**w == "typeof" => Some(UnOp::TypeOf),
            Tok::Ident(w) if &**w == "void" => Some(UnOp::Void),
            _ => None,
        };
        if let Some(op) = op {
            self.i += 1;
            let operand = self.unary()?;
            return Ok(Expr::Unary(op, Box::new(operand)));
        }
        if self.is("++") || self.is("--") {
            let delta = if self.is("++") { 1.0 } else { -1.0 };
            self.i += 1;
            let target = self.unary()?;
            self.assigned(&target);
            return Ok(Expr::Update(delta, true, Box::new(target)));
        }
        let e = self.postfix()?;
        if (self.is("++") || self.is("--")) && !(self.script.is_some() && self.newline_before()) {
            let delta = if self.is("++") { 1.0 } else { -1.0 };
            self.i += 1;
            self.assigned(&e);
            return Ok(Expr::Update(delta, false, Box::new(e)));
        }
        Ok(e)
    }

    /// Records an assignment to a local in a Code script (a `const` must not be assigned).
    fn assigned(&mut self, target: &Expr) {
        if let (Some(script), Expr::Local(name)) = (&mut self.script, target) {
            script.assigned.push(name.clone());
        }
    }

    /// `obj.key`; in expressions, static key chains on `$json` fold into [`Expr::JsonPath`]
    /// (a Code script's `$json` is the item object it may change, read like any object).
    fn member(&self, obj: Expr, key: Arc<str>) -> Expr {
        match obj {
            obj @ Expr::Global(Global::Json) if self.script.is_some() => {
                Expr::Member(Box::new(obj), key)
            }
            obj => member(obj, key),
        }
    }

    fn arguments(&mut self) -> Result<Vec<Elem>, ExprError> {
        let mut args = Vec::new();
        while !self.eat(")") {
            args.push(self.element()?);
            if !self.is(")") {
                self.expect(",")?;
            }
        }
        Ok(args)
    }

    fn element(&mut self) -> Result<Elem, ExprError> {
        Ok(if self.eat("...") {
            Elem::Spread(self.assignment()?)
        } else {
            Elem::Expr(self.assignment()?)
        })
    }

    fn postfix(&mut self) -> Result<Expr, ExprError> {
        self.chain(Self::postfix_chain)
    }

    fn postfix_chain(&mut self) -> Result<Expr, ExprError> {
        let mut e = if self.eat_word("new") {
            let callee = self.member_only()?;
            let args = if self.eat("(") {
                self.arguments()?
            } else {
                Vec::new()
            };
            Expr::New(Box::new(callee), args)
        } else {
            self.primary()?
        };
        // Each access or call wraps the tree built so far: one level deeper.
        let mut optional = false;
        loop {
            if self.eat(".") {
                self.nest()?;
                let name = self.ident_name()?;
                e = self.member(e, name);
            } else if self.eat("?.") {
                self.nest()?;
                // Reading from null/undefined is a TypeError (in expressions, the whole chunk's
                // value is `undefined`); `?.` ends the chain there instead.
                self.nest()?;
                e = Expr::Opt(Box::new(e));
                optional = true;
                if self.eat("(") {
                    e = Expr::Call(Box::new(e), self.arguments()?);
                } else if self.eat("[") {
                    let idx = self.expression()?;
                    self.expect("]")?;
                    e = Expr::Index(Box::new(e), Box::new(idx));
                } else {
                    let name = self.ident_name()?;
                    e = Expr::Member(Box::new(e), name);
                }
            } else if self.eat("[") {
                self.nest()?;
                let idx = self.expression()?;
                self.expect("]")?;
                e = match idx {
                    Expr::Str(key) => self.member(e, key),
                    idx => Expr::Index(Box::new(e), Box::new(idx)),
                };
            } else if self.eat("(") {
                self.nest()?;
                e = Expr::Call(Box::new(e), self.arguments()?);
            } else if optional {
                self.nest()?;
                return Ok(Expr::OptChain(Box::new(e)));
            } else {
                return Ok(e);
            }
        }
    }

    /// The callee of `new`: a primary with member accesses but no calls.
    fn member_only(&mut self) -> Result<Expr, ExprError> {
        self.chain(Self::member_chain)
    }

    fn member_chain(&mut self) -> Result<Expr, ExprError> {
        let mut e = self.primary()?;
        while self.eat(".") {
            self.nest()?;
            let name = self.ident_name()?;
            e = Expr::Member(Box::new(e), name);
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        match self.next() {
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Template { quasis, exprs } => {
                let exprs = exprs
                    .iter()
                    .map(|src| self.embedded(src))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Expr::Template(quasis, exprs))
            }
            Tok::Regex { pattern, flags } => {
                Ok(Expr::Regex(Arc::new(JsRegex::new(&pattern, &flags)?)))
            }
            Tok::Ident(name) if &*name == "function" => {
                // `function name?(params) { body }`: treated like an arrow function.
                if matches!(self.peek(), Tok::Ident(_)) {
                    self.i += 1;
                }
                let func = self.function_rest()?;
                Ok(Expr::Arrow(Box::new(func)))
            }
            Tok::Ident(name) => {
                if matches!(&*name, "class" | "this" | "async" | "await") {
                    self.i -= 1;
                    return Err(self.unexpected());
                }
                let expr = self.resolve(&name);
                // `$node` is a proxy over every node; natively only its members have values.
                if matches!(expr, Expr::Global(Global::Node))
                    && !matches!(self.peek(), Tok::Punct("." | "[" | "?."))
                {
                    return Err(syntax("`$node` as a value of its own is not native"));
                }
                Ok(expr)
            }
            Tok::Punct("(") => {
                let e = self.expression()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Punct("[") => {
                let mut elems = Vec::new();
                while !self.eat("]") {
                    if self.is(",") {
                        self.i += 1;
                        elems.push(Elem::Expr(Expr::Undefined));
                        continue;
                    }
                    elems.push(self.element()?);
                    if !self.is("]") {
                        self.expect(",")?;
                    }
                }
                Ok(Expr::Array(elems))
            }
            Tok::Punct("{") => self.object(),
            Tok::Eof => Err(self.unexpected()),
            _ => {
                self.i -= 1;
                Err(self.unexpected())
            }
        }
    }

    fn object(&mut self) -> Result<Expr, ExprError> {
        let mut props = Vec::new();
        while !self.eat("}") {
            if self.eat("...") {
                props.push(Prop::Spread(self.assignment()?));
            } else if self.eat("[") {
                let key = self.assignment()?;
                self.expect("]")?;
                self.expect(":")?;
                props.push(Prop::Computed(key, self.assignment()?));
            } else {
                let key: Arc<str> = match self.next() {
                    Tok::Ident(n) => n,
                    Tok::Str(s) => s,
                    Tok::Num(n) => Arc::from(crate::numfmt::js_number_to_string(n)),
                    _ => {
                        self.i -= 1;
                        return Err(self.unexpected());
                    }
                };
                if self.eat(":") {
                    props.push(Prop::Key(key, self.assignment()?));
                } else if self.is("(") {
                    // Method shorthand `name(args) { ... }`.
                    let func = self.function_rest()?;
                    props.push(Prop::Key(key, Expr::Arrow(Box::new(func))));
                } else {
                    let value = self.resolve(&key);
                    props.push(Prop::Key(key, value));
                }
            }
            if !self.is("}") {
                self.expect(",")?;
            }
        }
        Ok(Expr::Object(props))
    }

    fn embedded(&mut self, src: &str) -> Result<Expr, ExprError> {
        let toks = tokenize(src)?;
        let saved_toks = std::mem::replace(&mut self.toks, toks);
        let saved_i = std::mem::replace(&mut self.i, 0);
        let saved_src = std::mem::replace(&mut self.src, src.to_string());
        let result = self.expression().and_then(|e| {
            if self.at_eof() {
                Ok(e)
            } else {
                Err(self.unexpected())
            }
        });
        self.toks = saved_toks;
        self.i = saved_i;
        self.src = saved_src;
        result
    }

    /// True when the tokens ahead start an arrow function.
    fn arrow_ahead(&self) -> bool {
        match self.peek() {
            Tok::Ident(n) if &**n == "async" => false,
            Tok::Ident(_) => matches!(self.peek_at(1), Tok::Punct("=>")),
            Tok::Punct("(") => {
                let mut depth = 0usize;
                for (n, t) in self.toks[self.i..].iter().enumerate() {
                    match t.tok {
                        Tok::Punct("(" | "[" | "{") => depth += 1,
                        Tok::Punct(")" | "]" | "}") => {
                            depth -= 1;
                            if depth == 0 {
                                return matches!(self.peek_at(n + 1), Tok::Punct("=>"));
                            }
                        }
                        Tok::Eof => return false,
                        _ => {}
                    }
                }
                false
            }
            _ => false,
        }
    }

    fn arrow(&mut self) -> Result<Expr, ExprError> {
        let params = if let Tok::Ident(name) = self.peek() {
            let name = name.clone();
            self.i += 1;
            vec![PatElem {
                pattern: Pattern::Name(name),
                default: None,
                rest: false,
            }]
        } else {
            self.expect("(")?;
            self.params()?
        };
        self.expect("=>")?;
        let func = self.function_body(params)?;
        Ok(Expr::Arrow(Box::new(func)))
    }

    /// `(params) { body }` of a method shorthand.
    fn function_rest(&mut self) -> Result<Func, ExprError> {
        self.expect("(")?;
        let params = self.params()?;
        if !self.is("{") {
            return Err(self.unexpected());
        }
        self.function_body(params)
    }

    /// Parameter list after `(`, through `)`.
    fn params(&mut self) -> Result<Vec<PatElem>, ExprError> {
        let mut params = Vec::new();
        while !self.eat(")") {
            params.push(self.pat_elem()?);
            if !self.is(")") {
                self.expect(",")?;
            }
        }
        Ok(params)
    }

    fn function_body(&mut self, params: Vec<PatElem>) -> Result<Func, ExprError> {
        let mut names = Vec::new();
        for p in &params {
            p.pattern.names(&mut names);
        }
        self.scopes.push(names);
        let body = if self.eat("{") {
            self.block_rest().map(Body::Block)
        } else {
            self.assignment().map(Body::Expr)
        };
        self.scopes.pop();
        self.functions += 1;
        Ok(Func {
            params,
            body: body?,
        })
    }

    fn pat_elem(&mut self) -> Result<PatElem, ExprError> {
        let rest = self.eat("...");
        let pattern = self.pattern()?;
        let default = if self.eat("=") {
            Some(self.assignment()?)
        } else {
            None
        };
        Ok(PatElem {
            pattern,
            default,
            rest,
        })
    }

    fn pattern(&mut self) -> Result<Pattern, ExprError> {
        self.nested(Self::pattern_at_level)
    }

    fn pattern_at_level(&mut self) -> Result<Pattern, ExprError> {
        if self.eat("[") {
            let mut elems = Vec::new();
            while !self.eat("]") {
                if self.eat(",") {
                    elems.push(None);
                    continue;
                }
                elems.push(Some(self.pat_elem()?));
                if !self.is("]") {
                    self.expect(",")?;
                }
            }
            Ok(Pattern::Array(elems))
        } else if self.eat("{") {
            let mut props = Vec::new();
            while !self.eat("}") {
                let rest = self.eat("...");
                let key = self.ident_name()?;
                let pattern = if !rest && self.eat(":") {
                    self.pattern()?
                } else {
                    Pattern::Name(key.clone())
                };
                let default = if self.eat("=") {
                    Some(self.assignment()?)
                } else {
                    None
                };
                props.push((
                    key,
                    PatElem {
                        pattern,
                        default,
                        rest,
                    },
                ));
                if !self.is("}") {
                    self.expect(",")?;
                }
            }
            Ok(Pattern::Object(props))
        } else {
            Ok(Pattern::Name(self.ident_name()?))
        }
    }

    /// Statements through the closing `}` (the `{` is consumed), in a new block scope.
    fn block_rest(&mut self) -> Result<Vec<Stmt>, ExprError> {
        self.scopes.push(Vec::new());
        let mut stmts = Vec::new();
        let result = loop {
            if self.eat("}") {
                break Ok(stmts);
            }
            if self.at_eof() {
                break Err(self.unexpected());
            }
            match self.statement() {
                Ok(Some(s)) => stmts.push(s),
                Ok(None) => {}
                Err(e) => break Err(e),
            }
        };
        self.scopes.pop();
        result
    }

    /// A statement or a braced block (for `if`/`for` bodies).
    fn body_stmts(&mut self) -> Result<Vec<Stmt>, ExprError> {
        if self.eat("{") {
            self.block_rest()
        } else {
            self.scopes.push(Vec::new());
            let s = self.statement();
            self.scopes.pop();
            Ok(s?.into_iter().collect())
        }
    }

    /// Binds a declaration's names in the current block. In a Code script a name declared
    /// twice in one block is refused, and the names are recorded for the script's checks.
    fn declare(&mut self, pattern: &Pattern, constant: bool) {
        let mut names = Vec::new();
        pattern.names(&mut names);
        if let (Some(script), Some(scope)) = (&mut self.script, self.scopes.last()) {
            if let Some(name) = names.iter().find(|n| scope.contains(n)) {
                script
                    .refused
                    .get_or_insert_with(|| format!("`{name}` is declared twice"));
            }
            script.declared.extend(names.iter().cloned());
            if constant {
                script.consts.extend(names.iter().cloned());
            }
        }
        if let Some(scope) = self.scopes.last_mut() {
            scope.extend(names);
        }
    }

    /// `const`, `let` or `var` ahead: consumed, with whether it is `const` and whether it is
    /// `var`. `None` when the next token is not one of them.
    fn declaration_keyword(&mut self) -> Option<(bool, bool)> {
        let kind = ["const", "let", "var"]
            .into_iter()
            .find(|w| self.is_word(w))?;
        self.i += 1;
        if kind == "var" && self.script.as_ref().is_some_and(|s| s.loops > 0) {
            self.refuse(|| "`var` inside a loop".to_string());
        }
        Some((kind == "const", kind == "var"))
    }

    /// The declarations after `const`/`let`/`var`.
    fn declarations(&mut self, constant: bool) -> Result<Stmt, ExprError> {
        let mut decls = Vec::new();
        loop {
            let pattern = self.pattern()?;
            let init = if self.eat("=") {
                Some(self.assignment()?)
            } else {
                None
            };
            self.declare(&pattern, constant);
            decls.push((pattern, init));
            if !self.eat(",") {
                break;
            }
        }
        Ok(Stmt::Decl(decls))
    }

    /// A loop body in a Code script (counted for `var`) or an expression's arrow function.
    fn loop_body(&mut self) -> Result<Vec<Stmt>, ExprError> {
        if let Some(script) = &mut self.script {
            script.loops += 1;
        }
        let body = self.body_stmts();
        if let Some(script) = &mut self.script {
            script.loops -= 1;
        }
        body
    }

    /// The rest of a classic `for (init; cond; update) body` after `(` and the init
    /// statement, in the scope of its loop variables. `let_bindings`: the init declares
    /// `let`/`const` variables; `functions_before`: [`Parser::functions`] before the init.
    fn classic_for(
        &mut self,
        init: Option<Stmt>,
        let_bindings: bool,
        functions_before: usize,
    ) -> Result<Stmt, ExprError> {
        self.expect(";")?;
        let cond = if self.is(";") {
            None
        } else {
            Some(self.expression()?)
        };
        self.expect(";")?;
        let update = if self.is(")") {
            None
        } else {
            Some(self.expression()?)
        };
        self.expect(")")?;
        let body = self.loop_body()?;
        Ok(Stmt::For {
            init: init.map(Box::new),
            cond,
            update,
            body,
            // Copies per iteration only matter to a closure that keeps them.
            fresh_bindings: let_bindings && self.functions > functions_before,
        })
    }

    /// `for (...)` in a Code script: `for..of` or a classic loop, after `for (`.
    fn script_for(&mut self) -> Result<Stmt, ExprError> {
        self.scopes.push(Vec::new());
        let stmt = self.script_for_in_scope();
        self.scopes.pop();
        stmt
    }

    fn script_for_in_scope(&mut self) -> Result<Stmt, ExprError> {
        let functions_before = self.functions;
        let Some((constant, var)) = self.declaration_keyword() else {
            let init = if self.is(";") {
                None
            } else {
                Some(Stmt::Expr(self.expression()?))
            };
            return self.classic_for(init, false, functions_before);
        };
        let at = self.i;
        let pattern = self.pattern()?;
        if self.eat_word("of") {
            let list = self.expression()?;
            self.expect(")")?;
            self.declare(&pattern, constant);
            return Ok(Stmt::ForOf(pattern, list, self.loop_body()?));
        }
        self.i = at;
        let init = self.declarations(constant)?;
        self.classic_for(Some(init), !var, functions_before)
    }

    fn statement(&mut self) -> Result<Option<Stmt>, ExprError> {
        self.nested(Self::statement_at_level)
    }

    fn statement_at_level(&mut self) -> Result<Option<Stmt>, ExprError> {
        if self.eat(";") {
            return Ok(None);
        }
        if self.script.is_some() {
            if let Some(stmt) = self.script_statement()? {
                self.eat(";");
                return Ok(Some(stmt));
            }
        }
        let stmt = if let Some((constant, _)) = self.declaration_keyword() {
            self.declarations(constant)?
        } else if self.eat_word("return") {
            if self.is(";") || self.is("}") || (self.script.is_some() && self.newline_before()) {
                Stmt::Return(None)
            } else {
                Stmt::Return(Some(self.expression()?))
            }
        } else if self.eat_word("if") {
            self.expect("(")?;
            let cond = self.expression()?;
            self.expect(")")?;
            let then = self.body_stmts()?;
            let otherwise = if self.eat_word("else") {
                self.body_stmts()?
            } else {
                Vec::new()
            };
            Stmt::If(cond, then, otherwise)
        } else if self.eat_word("for") {
            self.expect("(")?;
            if !(self.eat_word("const") || self.eat_word("let") || self.eat_word("var")) {
                return Err(syntax(format!(
                    "only `for (const x of list)` loops are supported in `{}`",
                    self.source_on_one_line()
                )));
            }
            let pattern = self.pattern()?;
            if !self.eat_word("of") {
                return Err(syntax(format!(
                    "only `for (const x of list)` loops are supported in `{}`",
                    self.source_on_one_line()
                )));
            }
            let list = self.expression()?;
            self.expect(")")?;
            let mut names = Vec::new();
            pattern.names(&mut names);
            self.scopes.push(names);
            let body = self.loop_body();
            self.scopes.pop();
            Stmt::ForOf(pattern, list, body?)
        } else if self.eat_word("break") {
            Stmt::Break
        } else if self.eat_word("continue") {
            Stmt::Continue
        } else {
            Stmt::Expr(self.expression()?)
        };
        self.eat(";");
        Ok(Some(stmt))
    }

    /// The statements only Code scripts have: blocks, classic `for` and `while` loops,
    /// `throw`, function declarations. `None` for the statements expressions share.
    fn script_statement(&mut self) -> Result<Option<Stmt>, ExprError> {
        Ok(Some(if self.eat("{") {
            Stmt::Block(self.block_rest()?)
        } else if self.is_word("for") && matches!(self.peek_at(1), Tok::Punct("(")) {
            self.i += 2;
            self.script_for()?
        } else if self.eat_word("while") {
            self.expect("(")?;
            let cond = self.expression()?;
            self.expect(")")?;
            Stmt::While(cond, self.loop_body()?)
        } else if self.eat_word("throw") {
            // What is thrown does not matter: QuickJS runs the script again and throws it.
            let script = self.script.take();
            let thrown = self.expression();
            self.script = script;
            thrown?;
            Stmt::Throw
        } else if self.is_word("function") && matches!(self.peek_at(1), Tok::Ident(_)) {
            self.i += 1;
            let name = self.ident_name()?;
            let pattern = Pattern::Name(name);
            // Declared before its body, so it can call itself; a call before the declaration
            // reads as a use before it and is refused.
            self.declare(&pattern, false);
            let func = self.function_rest()?;
            Stmt::Decl(vec![(pattern, Some(Expr::Arrow(Box::new(func))))])
        } else {
            return Ok(None);
        }))
    }
}

/// `obj.key`, folding static key chains on `$json` into [`Expr::JsonPath`].
fn member(obj: Expr, key: Arc<str>) -> Expr {
    match obj {
        Expr::Global(Global::Json) => Expr::JsonPath(vec![key]),
        Expr::JsonPath(mut keys) => {
            keys.push(key);
            Expr::JsonPath(keys)
        }
        obj => Expr::Member(Box::new(obj), key),
    }
}

impl Pattern {
    /// The names a pattern binds.
    pub fn names(&self, out: &mut Vec<Arc<str>>) {
        match self {
            Pattern::Name(n) => out.push(n.clone()),
            Pattern::Array(elems) => {
                for e in elems.iter().flatten() {
                    e.pattern.names(out);
                }
            }
            Pattern::Object(props) => {
                for (_, e) in props {
                    e.pattern.names(out);
                }
            }
        }
    }
}
