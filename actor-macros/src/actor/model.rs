//! The model of an `#[actor]` impl: parsed from syn, validated as it is built. Keeps the
//! original syn nodes for spans. Invalid parts are reported to `Ctxt` and left out, so the
//! expansion still covers everything valid (one mistake, one error).

use proc_macro2::Span;
use quote::ToTokens;
use syn::visit::Visit;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ImplItem, ImplItemFn, ItemImpl, Pat, PathArguments,
    ReturnType, Type,
};

use super::options::ImplOptions;
use crate::ctxt::Ctxt;

/// Method names `Addr<A>` and `Child<A>` already have (themselves or through common traits): a
/// handler with one of these names would be shadowed by them. Kept in sync with the runtime's
/// sources by `tests::reserved_names_cover_every_method_of_addr_and_child`.
const RESERVED: &[&str] = &[
    "pid",
    "addr",
    "stop_with",
    "finish",
    "is_alive",
    "exit_reason",
    "wait_for_exit",
    "send",
    "try_send",
    "stop",
    "exit",
    "kill",
    "mailbox",
    "clone",
    "clone_from",
    "eq",
    "ne",
    "hash",
    "fmt",
    "deref",
    "to_owned",
    "into",
    "try_into",
    "borrow",
    "type_id",
];

pub(crate) enum Kind {
    Call,
    Cast,
}

/// One parameter of a handler or hook, by its role.
pub(crate) enum Param {
    /// A message argument: travels in the message.
    Arg { name: Ident, ty: Type },
    /// `ctx: &mut Ctx<Self>`.
    Ctx,
    /// `reply: ReplyTo<T>` of a deferred call.
    Reply { name: Ident, ty: Type },
}

pub(crate) struct Handler {
    pub(crate) kind: Kind,
    pub(crate) method: Ident,
    pub(crate) variant: Ident,
    pub(crate) docs: Vec<Attribute>,
    pub(crate) is_async: bool,
    pub(crate) params: Vec<Param>,
    /// The reply type: the return type, or `T` of a `ReplyTo<T>` argument.
    pub(crate) reply: Option<Type>,
    pub(crate) deferred: bool,
}

pub(crate) struct Init {
    pub(crate) method: Ident,
    pub(crate) is_async: bool,
    /// The start argument type, if any.
    pub(crate) arg: Option<Type>,
    /// `(index of start arg, index of ctx)` in the user's order.
    pub(crate) params: Vec<Param>,
    /// `Some(E)` for `Result<Self, E>`.
    pub(crate) error: Option<Type>,
}

/// `#[on_exit]`, `#[on_down]`, `#[terminate]`: one value parameter and maybe `ctx`.
pub(crate) struct Hook {
    pub(crate) method: Ident,
    pub(crate) is_async: bool,
    /// `true` where the value goes, `false` where ctx goes, in the user's order.
    pub(crate) order: Vec<bool>,
}

pub(crate) struct ActorImpl {
    pub(crate) opts: ImplOptions,
    pub(crate) item: ItemImpl,
    pub(crate) ident: Option<Ident>,
    pub(crate) init: Option<Init>,
    pub(crate) handlers: Vec<Handler>,
    pub(crate) on_exit: Option<Hook>,
    pub(crate) on_down: Option<Hook>,
    pub(crate) terminate: Option<Hook>,
}

enum Role {
    Handle(Kind),
    Init,
    OnExit,
    OnDown,
    Terminate,
}

impl ActorImpl {
    pub(crate) fn from_syn(cx: &mut Ctxt, opts: ImplOptions, mut item: ItemImpl) -> Self {
        if let Some((_, path, _)) = &item.trait_ {
            cx.error_spanned_by(
                path,
                "`#[actor]` goes on the inherent `impl` block of the actor struct, not on a trait impl",
            );
            return ActorImpl {
                opts,
                item,
                ident: None,
                init: None,
                handlers: Vec::new(),
                on_exit: None,
                on_down: None,
                terminate: None,
            };
        }
        let ident = match &*item.self_ty {
            Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.clone()),
            other => {
                cx.error_spanned_by(other, "`#[actor]` impl blocks must be for a struct type");
                None
            }
        };
        for lt in item.generics.lifetimes() {
            cx.error_spanned_by(
                &lt.lifetime,
                "actors own their state and cannot borrow: remove the lifetime parameter",
            );
        }

        let mut model = ActorImpl {
            opts,
            item: item.clone(),
            ident,
            init: None,
            handlers: Vec::new(),
            on_exit: None,
            on_down: None,
            terminate: None,
        };
        let mut init_span: Option<Span> = None;
        let mut kept = Vec::with_capacity(item.items.len());
        for mut impl_item in std::mem::take(&mut item.items) {
            let ImplItem::Fn(f) = &mut impl_item else {
                kept.push(impl_item);
                continue;
            };
            let roles = take_roles(cx, &mut f.attrs);
            let mut keep = true;
            match roles {
                None => {}
                Some(Role::Handle(kind)) => {
                    if let Some(h) = parse_handler(cx, kind, f) {
                        let clash = model
                            .handlers
                            .iter()
                            .find(|o| o.method == h.method || o.variant == h.variant);
                        if let Some(first) = clash {
                            let message = if first.method == h.method {
                                format!(
                                    "handler `{}` is defined twice: each handler needs its own name",
                                    h.method
                                )
                            } else {
                                format!(
                                    "handlers `{}` and `{}` would both become the message variant `{}`: rename one",
                                    first.method, h.method, h.variant
                                )
                            };
                            cx.error_spanned_by(&f.sig.ident, message);
                            keep = first.method != h.method;
                        } else {
                            model.handlers.push(h);
                        }
                    }
                }
                Some(Role::Init) => {
                    if let Some(first) = init_span {
                        cx.error_spanned_by(
                            &f.sig.ident,
                            "`#[init]` given twice: an actor has exactly one constructor",
                        );
                        let _ = first;
                    } else {
                        init_span = Some(f.sig.ident.span());
                        model.init = parse_init(cx, f);
                    }
                }
                Some(Role::OnExit) => set_hook(cx, &mut model.on_exit, f, "on_exit", "Exit"),
                Some(Role::OnDown) => set_hook(cx, &mut model.on_down, f, "on_down", "Down"),
                Some(Role::Terminate) => {
                    set_hook(cx, &mut model.terminate, f, "terminate", "&ExitReason");
                }
            }
            if keep {
                kept.push(impl_item);
            }
        }
        item.items = kept;
        if init_span.is_none() {
            cx.error_at(
                item.self_ty_span(),
                "an `#[actor]` impl needs an `#[init]` constructor: add `#[init] fn init(arg: T) -> Self { .. }` (or return `Result<Self, E>`)",
            );
        }
        model.item = item;
        model
    }
}

trait SelfTySpan {
    fn self_ty_span(&self) -> Span;
}

impl SelfTySpan for ItemImpl {
    fn self_ty_span(&self) -> Span {
        syn::spanned::Spanned::span(&self.self_ty)
    }
}

/// The name of one of our attributes, written plainly (`handle`) or through the runtime crate
/// (`actor_runtime::handle`, `::actor_runtime::handle`); empty for any other attribute.
fn role_name(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segments.as_slice() {
        [name] => name.clone(),
        [krate, name] if krate == "actor_runtime" => name.clone(),
        _ => String::new(),
    }
}

/// Removes our attributes from a method and returns its role; reports bad or repeated ones.
fn take_roles(cx: &mut Ctxt, attrs: &mut Vec<Attribute>) -> Option<Role> {
    let mut role = None;
    let mut rest = Vec::with_capacity(attrs.len());
    for attr in attrs.drain(..) {
        let name = role_name(attr.path());
        let parsed = match name.as_str() {
            "handle" => parse_handle_kind(cx, &attr).map(Role::Handle),
            "init" => no_args(cx, &attr, "init").then_some(Role::Init),
            "on_exit" => no_args(cx, &attr, "on_exit").then_some(Role::OnExit),
            "on_down" => no_args(cx, &attr, "on_down").then_some(Role::OnDown),
            "terminate" => no_args(cx, &attr, "terminate").then_some(Role::Terminate),
            _ => {
                rest.push(attr);
                continue;
            }
        };
        if role.is_some() {
            cx.error_spanned_by(
                &attr,
                "a method has one role: remove this attribute or move it to another method",
            );
        } else if parsed.is_some() {
            role = parsed;
        }
    }
    *attrs = rest;
    role
}

fn no_args(cx: &mut Ctxt, attr: &Attribute, name: &str) -> bool {
    if matches!(attr.meta, syn::Meta::Path(_)) {
        true
    } else {
        cx.error_spanned_by(attr, format!("`#[{name}]` takes no arguments"));
        false
    }
}

fn parse_handle_kind(cx: &mut Ctxt, attr: &Attribute) -> Option<Kind> {
    const EXPECTED: &str = "expected `#[handle(call)]` (replies) or `#[handle(cast)]` (no reply)";
    let syn::Meta::List(list) = &attr.meta else {
        cx.error_spanned_by(attr, format!("missing handler kind: {EXPECTED}"));
        return None;
    };
    let kind: Ident = match list.parse_args() {
        Ok(k) => k,
        Err(_) => {
            cx.error_spanned_by(&list.tokens, format!("invalid handler kind: {EXPECTED}"));
            return None;
        }
    };
    match kind.to_string().as_str() {
        "call" => Some(Kind::Call),
        "cast" => Some(Kind::Cast),
        other => {
            cx.error_spanned_by(&kind, format!("unknown handler kind `{other}`: {EXPECTED}"));
            None
        }
    }
}

fn is_async(f: &ImplItemFn) -> bool {
    f.sig.asyncness.is_some()
}

/// Checks the receiver: `&self` or `&mut self` for handlers and hooks.
fn check_receiver(cx: &mut Ctxt, f: &ImplItemFn, what: &str) -> bool {
    match f.sig.receiver() {
        Some(r) if r.reference.is_some() && r.colon_token.is_none() => true,
        Some(r) => {
            cx.error_spanned_by(
                r,
                format!(
                    "{what} borrow the actor's state: take `&mut self` or `&self`, not `self` by value"
                ),
            );
            false
        }
        None => {
            cx.error_spanned_by(
                &f.sig.ident,
                format!(
                    "{what} need a receiver: add `&mut self` (or `&self`) as the first parameter"
                ),
            );
            false
        }
    }
}

fn check_no_generics(cx: &mut Ctxt, f: &ImplItemFn, what: &str) -> bool {
    if f.sig.generics.params.is_empty() && f.sig.generics.where_clause.is_none() {
        return true;
    }
    cx.error_spanned_by(
        &f.sig.generics,
        format!("{what} cannot have generic parameters: the message enum needs concrete types; put the generic on the actor struct"),
    );
    false
}

/// `&mut Ctx<..>`?
fn is_ctx(ty: &Type) -> bool {
    if let Type::Reference(r) = ty {
        if let Type::Path(p) = &*r.elem {
            return p.path.segments.last().is_some_and(|s| s.ident == "Ctx");
        }
    }
    false
}

/// `ReplyTo<T>` → `T`.
fn reply_to_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "ReplyTo" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(GenericArgument::Type(t)) if args.args.len() == 1 => Some(t),
        _ => None,
    }
}

/// Finds non-`'static` lifetimes and `impl Trait` in an argument type.
#[derive(Default)]
struct Borrows {
    lifetime: Option<syn::Lifetime>,
    impl_trait: Option<syn::TypeImplTrait>,
}

impl<'ast> Visit<'ast> for Borrows {
    fn visit_lifetime(&mut self, lt: &'ast syn::Lifetime) {
        if lt.ident != "static" && self.lifetime.is_none() {
            self.lifetime = Some(lt.clone());
        }
    }
    fn visit_type_impl_trait(&mut self, t: &'ast syn::TypeImplTrait) {
        if self.impl_trait.is_none() {
            self.impl_trait = Some(t.clone());
        }
    }
}

/// Validates a message argument type: owned, concrete, `'static`.
fn check_arg_type(cx: &mut Ctxt, ty: &Type) -> bool {
    if let Type::Reference(r) = ty {
        if r.lifetime.as_ref().is_none_or(|l| l.ident != "static") {
            let suggestion = owned_suggestion(&r.elem);
            cx.error_spanned_by(
                ty,
                format!("handler arguments travel in a message and must be owned: {suggestion}"),
            );
            return false;
        }
    }
    let mut found = Borrows::default();
    found.visit_type(ty);
    if let Some(t) = found.impl_trait {
        cx.error_spanned_by(
            t,
            "handler arguments cannot be `impl Trait`: the message enum needs a concrete type; use a concrete type or a generic parameter on the actor struct",
        );
        return false;
    }
    if let Some(lt) = found.lifetime {
        cx.error_spanned_by(
            lt,
            "handler arguments travel in a message and cannot borrow: use an owned type without lifetimes (or `'static`)",
        );
        return false;
    }
    true
}

fn owned_suggestion(elem: &Type) -> String {
    let text = quote::quote!(#elem).to_string().replace(' ', "");
    match text.as_str() {
        "str" => "take `String` instead of `&str`".to_owned(),
        "Path" | "std::path::Path" => "take `PathBuf` instead of `&Path`".to_owned(),
        _ if text.starts_with('[') => {
            let inner = text.trim_start_matches('[').trim_end_matches(']');
            format!("take `Vec<{inner}>` instead of `&[{inner}]`")
        }
        _ => format!("take `{text}` by value instead of a reference"),
    }
}

fn param_name(pat: &Pat, index: usize) -> Ident {
    match pat {
        Pat::Ident(p) if p.ident != "_" => p.ident.clone(),
        _ => Ident::new(&format!("arg{index}"), Span::call_site()),
    }
}

fn to_variant(method: &Ident) -> Ident {
    let name = method.to_string();
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.trim_start_matches("r#").chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    if out.is_empty() {
        out.push_str("Handler");
    }
    Ident::new(&out, method.span())
}

fn docs(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect()
}

fn returns_unit(ret: &ReturnType) -> bool {
    match ret {
        ReturnType::Default => true,
        ReturnType::Type(_, ty) => matches!(&**ty, Type::Tuple(t) if t.elems.is_empty()),
    }
}

fn parse_handler(cx: &mut Ctxt, kind: Kind, f: &ImplItemFn) -> Option<Handler> {
    let mut ok = check_receiver(cx, f, "handlers");
    ok &= check_no_generics(cx, f, "handlers");
    let name = f.sig.ident.to_string();
    if RESERVED.contains(&name.as_str()) {
        cx.error_spanned_by(
            &f.sig.ident,
            format!("`{name}` is a method of `Addr` or `Child` itself, so a handler with this name could not be called: rename the handler"),
        );
        ok = false;
    }
    let mut params = Vec::new();
    let mut reply = None;
    let mut seen_ctx = false;
    for (index, input) in f.sig.inputs.iter().enumerate() {
        let FnArg::Typed(pt) = input else { continue };
        if is_ctx(&pt.ty) {
            if seen_ctx {
                cx.error_spanned_by(&pt.ty, "`ctx: &mut Ctx<Self>` given twice");
                ok = false;
            }
            seen_ctx = true;
            params.push(Param::Ctx);
        } else if let Some(inner) = reply_to_inner(&pt.ty) {
            match kind {
                Kind::Cast => {
                    cx.error_spanned_by(
                        &pt.ty,
                        "`ReplyTo` belongs to `#[handle(call)]`: a cast has no caller waiting for a reply",
                    );
                    ok = false;
                }
                Kind::Call if reply.is_some() => {
                    cx.error_spanned_by(
                        &pt.ty,
                        "a call has one reply: remove the second `ReplyTo`",
                    );
                    ok = false;
                }
                Kind::Call => {
                    ok &= check_arg_type(cx, inner);
                    reply = Some(inner.clone());
                    params.push(Param::Reply {
                        name: param_name(&pt.pat, index),
                        ty: (*pt.ty).clone(),
                    });
                }
            }
        } else {
            ok &= check_arg_type(cx, &pt.ty);
            params.push(Param::Arg {
                name: param_name(&pt.pat, index),
                ty: (*pt.ty).clone(),
            });
        }
    }
    let deferred = reply.is_some();
    match (&kind, &f.sig.output) {
        (Kind::Call, ReturnType::Type(_, ty)) if deferred && !returns_unit(&f.sig.output) => {
            cx.error_spanned_by(
                ty,
                "a deferred call answers through its `ReplyTo` argument and must not return a value: remove the return type, or drop the `ReplyTo` argument and return the reply",
            );
            ok = false;
        }
        (Kind::Call, ReturnType::Type(_, ty)) if !deferred => {
            if returns_unit(&f.sig.output) {
                cx.error_spanned_by(
                    ty,
                    "`#[handle(call)]` methods must return the reply type; found `()`, use `#[handle(cast)]` for handlers without a reply",
                );
                ok = false;
            } else {
                ok &= check_arg_type(cx, ty);
                reply = Some((**ty).clone());
            }
        }
        (Kind::Call, ReturnType::Default) if !deferred => {
            cx.error_spanned_by(
                &f.sig.ident,
                "`#[handle(call)]` methods must return the reply type: add `-> T`, take a `reply: ReplyTo<T>` argument to answer later, or use `#[handle(cast)]` for handlers without a reply",
            );
            ok = false;
        }
        (Kind::Cast, ReturnType::Type(_, ty)) if !returns_unit(&f.sig.output) => {
            cx.error_spanned_by(
                ty,
                "`#[handle(cast)]` methods cannot return a value: nobody waits for it; remove the return type, or use `#[handle(call)]` to reply",
            );
            ok = false;
        }
        _ => {}
    }
    ok.then(|| Handler {
        variant: to_variant(&f.sig.ident),
        method: f.sig.ident.clone(),
        docs: docs(&f.attrs),
        is_async: is_async(f),
        params,
        reply,
        deferred,
        kind,
    })
}

const INIT_SHAPE: &str = "`#[init] fn init(arg: T, ctx: &mut Ctx<Self>) -> Self` (the argument and `ctx` are optional; return `Result<Self, E>` to fail)";

fn parse_init(cx: &mut Ctxt, f: &ImplItemFn) -> Option<Init> {
    let mut ok = true;
    if let Some(r) = f.sig.receiver() {
        cx.error_spanned_by(
            r,
            format!("`#[init]` builds the actor, so it has no `self`: write {INIT_SHAPE}"),
        );
        ok = false;
    }
    ok &= check_no_generics(cx, f, "`#[init]`");
    let mut params = Vec::new();
    let mut arg = None;
    for (index, input) in f.sig.inputs.iter().enumerate() {
        let FnArg::Typed(pt) = input else { continue };
        if is_ctx(&pt.ty) {
            params.push(Param::Ctx);
        } else if arg.is_some() {
            cx.error_spanned_by(
                pt,
                "`#[init]` takes one start argument: group the values in a struct or a tuple",
            );
            ok = false;
        } else {
            ok &= check_arg_type(cx, &pt.ty);
            arg = Some((*pt.ty).clone());
            params.push(Param::Arg {
                name: param_name(&pt.pat, index),
                ty: (*pt.ty).clone(),
            });
        }
    }
    let error = match &f.sig.output {
        ReturnType::Default => {
            cx.error_spanned_by(
                &f.sig.ident,
                format!("`#[init]` must return the actor: write {INIT_SHAPE}"),
            );
            ok = false;
            None
        }
        ReturnType::Type(_, ty) => match result_error(ty) {
            ResultShape::NotResult => None,
            ResultShape::Error(e) => Some(*e),
            ResultShape::Unsupported => {
                cx.error_spanned_by(
                    ty,
                    "`#[init]` returning a `Result` must spell both types: `Result<Self, E>`",
                );
                ok = false;
                None
            }
        },
    };
    ok.then(|| Init {
        method: f.sig.ident.clone(),
        is_async: is_async(f),
        arg,
        params,
        error,
    })
}

enum ResultShape {
    NotResult,
    Error(Box<Type>),
    Unsupported,
}

fn result_error(ty: &Type) -> ResultShape {
    let Type::Path(p) = ty else {
        return ResultShape::NotResult;
    };
    let Some(last) = p.path.segments.last() else {
        return ResultShape::NotResult;
    };
    if last.ident != "Result" {
        return ResultShape::NotResult;
    }
    match &last.arguments {
        PathArguments::AngleBracketed(a) if a.args.len() == 2 => match a.args.last() {
            Some(GenericArgument::Type(e)) => ResultShape::Error(Box::new(e.clone())),
            _ => ResultShape::Unsupported,
        },
        _ => ResultShape::Unsupported,
    }
}

fn set_hook(cx: &mut Ctxt, slot: &mut Option<Hook>, f: &ImplItemFn, name: &str, value: &str) {
    let shape = format!(
        "`#[{name}] fn {}(&mut self, value: {value}, ctx: &mut Ctx<Self>)` (`ctx` optional)",
        f.sig.ident
    );
    if slot.is_some() {
        cx.error_spanned_by(&f.sig.ident, format!("`#[{name}]` given twice: keep one"));
        return;
    }
    let mut ok = check_receiver(cx, f, "hooks");
    ok &= check_no_generics(cx, f, "hooks");
    let mut order = Vec::new();
    for input in &f.sig.inputs {
        let FnArg::Typed(pt) = input else { continue };
        let value_arg = !is_ctx(&pt.ty);
        order.push(value_arg);
        if value_arg && !hook_value_matches(&pt.ty, value) {
            let found = pt
                .ty
                .to_token_stream()
                .to_string()
                .replace(" <", "<")
                .replace("& ", "&");
            cx.error_spanned_by(
                &pt.ty,
                format!("`#[{name}]` receives `{value}`, not `{found}`: write `{value}` here"),
            );
            ok = false;
        }
    }
    if order.iter().filter(|v| **v).count() != 1 {
        cx.error_spanned_by(&f.sig.inputs, format!("expected {shape}"));
        ok = false;
    }
    if !returns_unit(&f.sig.output) {
        cx.error_spanned_by(
            &f.sig.output,
            format!("hooks return nothing: expected {shape}"),
        );
        ok = false;
    }
    if ok {
        *slot = Some(Hook {
            method: f.sig.ident.clone(),
            is_async: is_async(f),
            order,
        });
    }
}

/// Whether `ty` is spelled as the hook's value type: `Exit`, `Down` (any path ending so) or
/// `&ExitReason`.
fn hook_value_matches(ty: &Type, value: &str) -> bool {
    fn ends_with(ty: &Type, ident: &str) -> bool {
        matches!(ty, Type::Path(p) if p.qself.is_none()
            && p.path.segments.last().is_some_and(|s| s.ident == ident && s.arguments.is_none()))
    }
    match value.strip_prefix('&') {
        Some(inner) => {
            matches!(ty, Type::Reference(r) if r.mutability.is_none() && ends_with(&r.elem, inner))
        }
        None => ends_with(ty, value),
    }
}

#[cfg(test)]
mod tests {
    use super::RESERVED;

    /// The public methods declared in `impl ... Name<..> {` blocks of a runtime source file.
    fn methods_of(file: &str, type_name: &str) -> Vec<String> {
        let path = format!("{}/../actor-runtime/src/{file}", env!("CARGO_MANIFEST_DIR"));
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut methods = Vec::new();
        let mut inside = false;
        for line in source.lines() {
            if line.starts_with("impl")
                && line.contains(&format!(" {type_name}<"))
                && !line.contains(" for ")
            {
                inside = true;
            } else if inside && line.starts_with('}') {
                inside = false;
            } else if inside {
                let trimmed = line.trim_start();
                for prefix in ["pub fn ", "pub async fn "] {
                    if let Some(rest) = trimmed.strip_prefix(prefix) {
                        let name: String = rest
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        if !name.starts_with("__") {
                            methods.push(name);
                        }
                    }
                }
            }
        }
        methods
    }

    #[test]
    fn reserved_names_cover_every_method_of_addr_and_child() {
        let addr = methods_of("addr.rs", "Addr");
        let child = methods_of("supervisor/child.rs", "Child");
        assert!(
            addr.len() >= 10,
            "found only {addr:?} on Addr: has the file moved?"
        );
        assert!(
            child.len() >= 2,
            "found only {child:?} on Child: has the file moved?"
        );
        for name in addr.iter().chain(&child) {
            assert!(
                RESERVED.contains(&name.as_str()),
                "`{name}` is a method of Addr or Child but not reserved: a handler of that name would be shadowed"
            );
        }
    }
}
