//! The model of a `#[supervisor]` struct, validated as it is parsed.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use syn::{Expr, ExprLit, Fields, Ident, ItemStruct, Lit, LitStr, Path, Type};

use crate::ctxt::Ctxt;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    OneForOne,
    OneForAll,
    RestForOne,
    SimpleOneForOne,
}

#[derive(Clone, Copy)]
pub(crate) enum Restart {
    Permanent,
    Transient,
    Temporary,
}

#[derive(Clone, Copy)]
pub(crate) enum Shutdown {
    Timeout(Duration),
    BrutalKill,
    Infinity,
}

pub(crate) enum Kind {
    /// `Child<A>`: an actor.
    Actor(Type),
    /// `Pool<W>`: a pool of workers, itself a supervisor.
    Pool(Type),
    /// Any other type: a nested `#[supervisor]` handle.
    Supervisor(Type),
}

pub(crate) struct ChildField {
    pub(crate) ident: Ident,
    pub(crate) kind: Kind,
    pub(crate) restart: Restart,
    pub(crate) shutdown: Option<Shutdown>,
    pub(crate) name: Option<LitStr>,
    pub(crate) args: Option<Expr>,
    /// `size = N` of a pool child.
    pub(crate) size: Option<Expr>,
}

pub(crate) struct Supervisor {
    pub(crate) item: ItemStruct,
    pub(crate) strategy: Strategy,
    pub(crate) intensity: u32,
    pub(crate) period: Duration,
    pub(crate) krate: Option<Path>,
    pub(crate) children: Vec<ChildField>,
}

const STRATEGIES: &str = "`one_for_one`, `one_for_all`, `rest_for_one` or `simple_one_for_one`";

impl Supervisor {
    pub(crate) fn from_syn(cx: &mut Ctxt, attr: TokenStream, mut item: ItemStruct) -> Self {
        let mut strategy = None;
        let mut intensity: Option<u32> = None;
        let mut period: Option<Duration> = None;
        let mut krate: Option<Path> = None;
        let parser = syn::meta::parser(|meta| {
            let path = &meta.path;
            let key = quote::quote!(#path).to_string().replace(' ', "");
            match key.as_str() {
                "one_for_one" | "one_for_all" | "rest_for_one" | "simple_one_for_one" => {
                    let s = match key.as_str() {
                        "one_for_one" => Strategy::OneForOne,
                        "one_for_all" => Strategy::OneForAll,
                        "rest_for_one" => Strategy::RestForOne,
                        _ => Strategy::SimpleOneForOne,
                    };
                    if strategy.replace(s).is_some() {
                        cx.error_spanned_by(path, "the strategy is set twice: keep one");
                    }
                }
                "intensity" => {
                    let expr: Expr = meta.value()?.parse()?;
                    match &expr {
                        Expr::Lit(ExprLit {
                            lit: Lit::Int(n), ..
                        }) => match n.base10_parse::<u32>() {
                            // 0 is OTP's "no restarts": the first crash escalates.
                            Ok(v) => {
                                if intensity.replace(v).is_some() {
                                    cx.error_spanned_by(path, "`intensity` set twice: keep one");
                                }
                            }
                            Err(_) => cx.error_spanned_by(n, "`intensity` must be a whole number of restarts (0 or more), e.g. `intensity = 5`"),
                        },
                        other => cx.error_spanned_by(
                            other,
                            "`intensity` must be an integer literal (restarts allowed within `period`, 0 or more), e.g. `intensity = 5`",
                        ),
                    }
                }
                "period" => {
                    let lit: LitStr = meta.value()?.parse()?;
                    match parse_duration(&lit.value()) {
                        Some(d) if !d.is_zero() => {
                            if period.replace(d).is_some() {
                                cx.error_spanned_by(path, "`period` set twice: keep one");
                            }
                        }
                        _ => cx.error_spanned_by(
                            &lit,
                            "`period` must be a positive duration such as \"5s\", \"500ms\" or \"1m\"",
                        ),
                    }
                }
                "crate" => {
                    let p: Path = meta.value()?.parse()?;
                    if krate.replace(p).is_some() {
                        cx.error_spanned_by(path, "`crate` set twice: keep one");
                    }
                }
                other => {
                    cx.error_spanned_by(
                        path,
                        format!(
                            "unknown `#[supervisor]` option `{other}`: expected a strategy ({STRATEGIES}), `intensity = N`, `period = \"5s\"` or `crate = path`"
                        ),
                    );
                    if meta.input.peek(syn::Token![=]) {
                        let _: Expr = meta.value()?.parse()?;
                    }
                }
            }
            Ok(())
        });
        if let Err(e) = syn::parse::Parser::parse2(parser, attr) {
            cx.syn_error(e);
        }

        if !item.generics.params.is_empty() {
            cx.error_spanned_by(
                &item.generics,
                "a `#[supervisor]` struct cannot be generic: its children are concrete actors; make a separate struct per configuration",
            );
        }
        // `Clone` and `Debug` are generated: report them in a derive, and drop them from it so
        // the report is the only error.
        for attr in &mut item.attrs {
            if !attr.path().is_ident("derive") {
                continue;
            }
            let Ok(paths) = attr.parse_args_with(
                syn::punctuated::Punctuated::<Path, syn::Token![,]>::parse_terminated,
            ) else {
                continue;
            };
            let mut kept = syn::punctuated::Punctuated::<Path, syn::Token![,]>::new();
            for path in paths {
                if path.is_ident("Clone") || path.is_ident("Debug") {
                    cx.error_spanned_by(
                        &path,
                        "`#[supervisor]` implements `Clone` and `Debug` itself: remove it from the derive",
                    );
                } else {
                    kept.push(path);
                }
            }
            *attr = syn::parse_quote!(#[derive(#kept)]);
        }
        let mut children = Vec::new();
        match &mut item.fields {
            Fields::Named(named) => {
                for field in &mut named.named {
                    let mut attrs = Vec::new();
                    let mut child_attrs = Vec::new();
                    for a in field.attrs.drain(..) {
                        if a.path().is_ident("child") {
                            child_attrs.push(a);
                        } else {
                            attrs.push(a);
                        }
                    }
                    field.attrs = attrs;
                    if child_attrs.len() > 1 {
                        cx.error_spanned_by(&child_attrs[1], "`#[child]` given twice: merge the options into one");
                    }
                    let ident = field.ident.clone().unwrap_or_else(|| Ident::new("child", Span::call_site()));
                    if let Some(c) = parse_child(cx, ident, &field.ty, child_attrs.first()) {
                        children.push(c);
                    }
                }
            }
            other => cx.error_spanned_by(
                &*other,
                "a `#[supervisor]` struct names its children: use named fields, e.g. `struct Sup { worker: Child<Worker> }`",
            ),
        }

        let strategy = strategy.unwrap_or(Strategy::OneForOne);
        let mut seen: Vec<&LitStr> = Vec::new();
        for c in &children {
            if let Some(name) = &c.name {
                if seen.iter().any(|s| s.value() == name.value()) {
                    cx.error_spanned_by(
                        name,
                        format!(
                            "two children are registered as `{}`: names must be unique",
                            name.value()
                        ),
                    );
                } else {
                    seen.push(name);
                }
            }
        }
        if strategy == Strategy::SimpleOneForOne {
            if children.len() != 1 {
                cx.error_at(
                    item.ident.span(),
                    "a `simple_one_for_one` supervisor has exactly one field, `Child<A>`, declaring the type of the children `start_child` starts",
                );
            }
            for c in &children {
                if let Kind::Supervisor(ty) | Kind::Pool(ty) = &c.kind {
                    cx.error_spanned_by(
                        ty,
                        "`simple_one_for_one` children are actors: declare the field as `Child<A>`",
                    );
                }
                if let Some(args) = &c.args {
                    cx.error_spanned_by(args, "`simple_one_for_one` children get their arguments from `start_child(args)`: remove `args`");
                }
                if let Some(name) = &c.name {
                    cx.error_spanned_by(name, "`simple_one_for_one` starts many children of this type, so they cannot share one registered name");
                }
            }
        }
        Supervisor {
            item,
            strategy,
            intensity: intensity.unwrap_or(5),
            period: period.unwrap_or(Duration::from_secs(5)),
            krate,
            children,
        }
    }
}

fn parse_child(
    cx: &mut Ctxt,
    ident: Ident,
    ty: &Type,
    attr: Option<&syn::Attribute>,
) -> Option<ChildField> {
    let kind = if let Some(a) = generic_arg(ty, "Child") {
        Kind::Actor(a.clone())
    } else if let Some(w) = generic_arg(ty, "Pool") {
        Kind::Pool(w.clone())
    } else {
        Kind::Supervisor(ty.clone())
    };
    let mut child = ChildField {
        ident,
        kind,
        restart: Restart::Permanent,
        shutdown: None,
        name: None,
        args: None,
        size: None,
    };
    let Some(attr) = attr else {
        if matches!(child.kind, Kind::Pool(_)) {
            cx.error_spanned_by(
                ty,
                "a pool child needs its number of workers: add `#[child(size = N)]` to this field",
            );
        }
        return Some(child);
    };
    let mut seen: Vec<String> = Vec::new();
    let result = attr.parse_nested_meta(|meta| {
        let path = &meta.path;
        let key = quote::quote!(#path).to_string().replace(' ', "");
        if seen.contains(&key) {
            cx.error_spanned_by(path, format!("`{key}` set twice: keep one"));
        }
        seen.push(key.clone());
        match key.as_str() {
            "restart" => {
                let v: Ident = meta.value()?.parse()?;
                child.restart = match v.to_string().as_str() {
                    "permanent" => Restart::Permanent,
                    "transient" => Restart::Transient,
                    "temporary" => Restart::Temporary,
                    other => {
                        cx.error_spanned_by(
                            &v,
                            format!("unknown restart type `{other}`: expected `permanent`, `transient` or `temporary`"),
                        );
                        Restart::Permanent
                    }
                };
            }
            "shutdown" => {
                let value = meta.value()?;
                if value.peek(LitStr) {
                    let lit: LitStr = value.parse()?;
                    match parse_duration(&lit.value()) {
                        Some(d) => child.shutdown = Some(Shutdown::Timeout(d)),
                        None => cx.error_spanned_by(
                            &lit,
                            "`shutdown` must be a duration such as \"10s\" or \"500ms\", or `brutal_kill`, or `infinity`",
                        ),
                    }
                } else {
                    let v: Ident = value.parse()?;
                    match v.to_string().as_str() {
                        "brutal_kill" => child.shutdown = Some(Shutdown::BrutalKill),
                        "infinity" => child.shutdown = Some(Shutdown::Infinity),
                        _ => cx.error_spanned_by(
                            &v,
                            "`shutdown` must be a duration such as \"10s\", or `brutal_kill`, or `infinity`",
                        ),
                    }
                }
            }
            "name" => {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().is_empty() {
                    cx.error_spanned_by(&lit, "a child's registered name must not be empty");
                }
                if !matches!(child.kind, Kind::Actor(_)) {
                    cx.error_spanned_by(&lit, "only actor children can be registered by name");
                }
                child.name = Some(lit);
            }
            "args" => {
                let e: Expr = meta.value()?.parse()?;
                if matches!(child.kind, Kind::Supervisor(_)) {
                    cx.error_spanned_by(&e, "a nested supervisor takes no start arguments: remove `args`");
                }
                child.args = Some(e);
            }
            "size" => {
                let e: Expr = meta.value()?.parse()?;
                if !matches!(child.kind, Kind::Pool(_)) {
                    cx.error_spanned_by(&e, "only a `Pool<W>` child has a size: remove `size`, or declare the field as `Pool<W>`");
                }
                child.size = Some(e);
            }
            other => {
                cx.error_spanned_by(
                    path,
                    format!("unknown `#[child]` option `{other}`: expected `restart`, `shutdown`, `name`, `args` or (for a pool) `size`"),
                );
                if meta.input.peek(syn::Token![=]) {
                    let _: Expr = meta.value()?.parse()?;
                }
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        cx.syn_error(e);
    }
    if matches!(child.kind, Kind::Pool(_)) && child.size.is_none() {
        cx.error_spanned_by(
            attr,
            "a pool child needs its number of workers: add `size = N` to this `#[child(..)]`",
        );
    }
    Some(child)
}

/// `Child<A>` → `A` (with `wrapper = "Child"`).
fn generic_arg<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(syn::GenericArgument::Type(t)) if args.args.len() == 1 => Some(t),
        _ => None,
    }
}

/// "5s", "500ms", "2m", "1h", "250us".
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => value / 1e3,
        "us" | "µs" => value / 1e6,
        "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(secs).ok()
}
