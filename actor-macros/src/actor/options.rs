//! Parsing `#[actor(..)]` options, each settable once.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::{Expr, ExprLit, Lit, LitStr, Path};

use crate::ctxt::Ctxt;

const STRUCT_OPTIONS: &str =
    "expected `mailbox = N`, `name = \"...\"`, `blocking` or `crate = path`";

/// Options on the struct: `#[actor(mailbox = 4096, name = "storage", blocking, crate = my_rt)]`.
#[derive(Default)]
pub(crate) struct StructOptions {
    pub(crate) mailbox: Option<Expr>,
    pub(crate) name: Option<LitStr>,
    /// `blocking`: the actor runs on a thread of its own.
    pub(crate) blocking: Option<Path>,
    pub(crate) krate: Option<Path>,
}

/// Options on the impl: `remote`, `remote = "kind"` and `crate = path`.
#[derive(Default)]
pub(crate) struct ImplOptions {
    pub(crate) krate: Option<Path>,
    /// `remote`: reachable from other nodes; the kind name, if given.
    pub(crate) remote: Option<Remote>,
}

/// `remote` or `remote = "kind"`.
pub(crate) struct Remote {
    pub(crate) path: Path,
    pub(crate) kind: Option<LitStr>,
}

fn set_once<T>(
    cx: &mut Ctxt,
    slot: &mut Option<T>,
    value: T,
    meta: &ParseNestedMeta<'_>,
    name: &str,
) {
    if slot.is_some() {
        cx.error_spanned_by(&meta.path, format!("`{name}` set twice: keep one"));
    } else {
        *slot = Some(value);
    }
}

fn meta_name(meta: &ParseNestedMeta<'_>) -> String {
    if meta.path.is_ident("crate") {
        return "crate".to_owned();
    }
    let path = &meta.path;
    quote::quote!(#path).to_string().replace(' ', "")
}

impl StructOptions {
    pub(crate) fn parse(cx: &mut Ctxt, attr: TokenStream) -> Self {
        let mut opts = StructOptions::default();
        if attr.is_empty() {
            return opts;
        }
        let parser = syn::meta::parser(|meta| {
            match meta_name(&meta).as_str() {
                "mailbox" => {
                    let expr: Expr = meta.value()?.parse()?;
                    if let Expr::Lit(ExprLit {
                        lit: Lit::Int(n), ..
                    }) = &expr
                    {
                        if n.base10_parse::<usize>().is_ok_and(|n| n == 0) {
                            cx.error_spanned_by(n, "mailbox capacity must be at least 1");
                        }
                    }
                    if let Expr::Lit(ExprLit { lit, .. }) = &expr {
                        if !matches!(lit, Lit::Int(_)) {
                            cx.error_spanned_by(
                                lit,
                                "`mailbox` is a number of messages, e.g. `mailbox = 1024`",
                            );
                            return Ok(());
                        }
                    }
                    set_once(cx, &mut opts.mailbox, expr, &meta, "mailbox");
                }
                "name" => {
                    let expr: Expr = meta.value()?.parse()?;
                    let Expr::Lit(ExprLit {
                        lit: Lit::Str(lit), ..
                    }) = expr
                    else {
                        cx.error_spanned_by(
                            &expr,
                            "`name` is the registered name as a string literal, e.g. `name = \"storage\"`",
                        );
                        return Ok(());
                    };
                    if lit.value().is_empty() {
                        cx.error_spanned_by(&lit, "actor name must not be empty");
                    }
                    set_once(cx, &mut opts.name, lit, &meta, "name");
                }
                "blocking" => {
                    if meta.input.peek(syn::Token![=]) {
                        let value: Expr = meta.value()?.parse()?;
                        cx.error_spanned_by(
                            &value,
                            "`blocking` takes no value: write `#[actor(blocking)]`, or leave it out for an actor that shares the runtime's workers",
                        );
                        return Ok(());
                    }
                    set_once(cx, &mut opts.blocking, meta.path.clone(), &meta, "blocking");
                }
                "crate" => {
                    let path: Path = meta.value()?.parse()?;
                    set_once(cx, &mut opts.krate, path, &meta, "crate");
                }
                "remote" => {
                    cx.error_spanned_by(
                        &meta.path,
                        "`remote` belongs on the `impl` block's `#[actor(..)]`, where the handlers are: write `#[actor(remote)] impl ...`",
                    );
                    if meta.input.peek(syn::Token![=]) {
                        let _: Expr = meta.value()?.parse()?;
                    }
                }
                other => {
                    cx.error_spanned_by(
                        &meta.path,
                        format!("unknown `#[actor]` option `{other}`: {STRUCT_OPTIONS}"),
                    );
                    // Skip the value, if any, so later options are still checked.
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
        opts
    }
}

impl ImplOptions {
    pub(crate) fn parse(cx: &mut Ctxt, attr: TokenStream) -> Self {
        let mut opts = ImplOptions::default();
        if attr.is_empty() {
            return opts;
        }
        let parser = syn::meta::parser(|meta| {
            match meta_name(&meta).as_str() {
                "crate" => {
                    let path: Path = meta.value()?.parse()?;
                    set_once(cx, &mut opts.krate, path, &meta, "crate");
                }
                "blocking" => {
                    cx.error_spanned_by(
                        &meta.path,
                        "`blocking` belongs on the struct's `#[actor(..)]`, not on the impl",
                    );
                }
                "remote" => {
                    let kind = if meta.input.peek(syn::Token![=]) {
                        let expr: Expr = meta.value()?.parse()?;
                        match expr {
                            Expr::Lit(ExprLit {
                                lit: Lit::Str(lit), ..
                            }) if !lit.value().is_empty() => Some(lit),
                            other => {
                                cx.error_spanned_by(
                                    &other,
                                    "`remote` takes the kind's name on the wire as a non-empty string, e.g. `remote = \"traffic.Query\"`, or no value",
                                );
                                None
                            }
                        }
                    } else {
                        None
                    };
                    let remote = Remote {
                        path: meta.path.clone(),
                        kind,
                    };
                    set_once(cx, &mut opts.remote, remote, &meta, "remote");
                }
                other @ ("mailbox" | "name") => {
                    cx.error_spanned_by(
                        &meta.path,
                        format!(
                            "`{other}` belongs on the struct's `#[actor(..)]`, not on the impl"
                        ),
                    );
                    let _: Expr = meta.value()?.parse()?;
                }
                other => {
                    cx.error_spanned_by(
                        &meta.path,
                        format!("unknown `#[actor]` option `{other}` on an impl: only `remote`, `remote = \"kind\"` and `crate = path` are accepted here"),
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
        opts
    }
}

/// The runtime's path: `crate = path` or `::actor_runtime`.
pub(crate) fn runtime_path(krate: Option<&Path>) -> TokenStream {
    match krate {
        Some(p) => quote::quote!(#p),
        None => quote::quote!(::actor_runtime),
    }
}
