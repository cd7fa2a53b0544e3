//! Code generation for `#[actor]`. Everything generated names the runtime through its hidden
//! `__private` module (or public items) by absolute path and never a bare `Result`/`Ok`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericParam, ItemStruct};

use super::model::{ActorImpl, Hook, Kind, Param};
use super::options::{StructOptions, runtime_path};
use crate::ctxt::Ctxt;
use crate::spans::respan;

pub(crate) fn struct_item(mut cx: Ctxt, opts: &StructOptions, item: ItemStruct) -> TokenStream {
    for lt in item.generics.lifetimes() {
        cx.error_spanned_by(
            &lt.lifetime,
            "actors own their state and cannot borrow: remove the lifetime parameter",
        );
    }
    let rt = runtime_path(opts.krate.as_ref());
    let ident = &item.ident;
    let (impl_generics, ty_generics, where_clause) = item.generics.split_for_impl();
    let mailbox = opts
        .mailbox
        .as_ref()
        .map_or_else(|| quote!(#rt::DEFAULT_MAILBOX), |m| quote!(#m));
    let name = opts.name.as_ref().map_or_else(
        || quote!(::core::option::Option::None),
        |n| quote!(::core::option::Option::Some(#n)),
    );
    let blocking = opts.blocking.is_some();
    let errors = cx.into_compile_errors();
    quote! {
        #item
        #[automatically_derived]
        impl #impl_generics #rt::__private::ActorOptions for #ident #ty_generics #where_clause {
            const MAILBOX: usize = #mailbox;
            const NAME: ::core::option::Option<&'static str> = #name;
            const BLOCKING: bool = #blocking;
        }
        #errors
    }
}

pub(crate) fn impl_item(mut cx: Ctxt, model: &ActorImpl) -> TokenStream {
    let item = &model.item;
    let Some(ident) = &model.ident else {
        let errors = cx.into_compile_errors();
        return quote! { #errors #item };
    };
    if let Some(remote) = &model.opts.remote {
        super::remote::check(&mut cx, model, remote);
    }
    let has_errors = cx.has_errors();
    let errors = cx.into_compile_errors();
    let rt = runtime_path(model.opts.krate.as_ref());
    let p = quote!(#rt::__private);
    let self_ty = &item.self_ty;
    let generics = &item.generics;
    let params = &generics.params;
    let where_clause = &generics.where_clause;
    let (impl_generics, ty_generics, _) = generics.split_for_impl();

    let msg = format_ident!("{}Msg", ident);
    let client = format_ident!("{}Client", ident);
    let msg_ty = quote!(#msg #ty_generics);
    let client_ty = quote!(#client #ty_generics);

    // --- the message enum -------------------------------------------------------------------
    let variants = model.handlers.iter().map(|h| {
        let variant = &h.variant;
        let docs = &h.docs;
        let fields = h.params.iter().filter_map(|param| match param {
            Param::Arg { name, ty } | Param::Reply { name, ty } => Some(quote!(#name: #ty)),
            Param::Ctx => None,
        });
        let reply = match (&h.kind, h.deferred, &h.reply) {
            (Kind::Call, false, Some(r)) => Some(quote!(__actor_reply: #rt::ReplyTo<#r>)),
            _ => None,
        };
        let fields = fields.chain(reply);
        quote! { #(#docs)* #variant { #(#fields),* } }
    });
    let type_params: Vec<_> = generics
        .params
        .iter()
        .filter_map(|g| match g {
            GenericParam::Type(t) => Some(&t.ident),
            _ => None,
        })
        .collect();
    let phantom_variant = (!type_params.is_empty()).then(|| {
        quote! {
            #[doc(hidden)]
            __ActorPhantom(::core::convert::Infallible, ::core::marker::PhantomData<fn() -> (#(#type_params,)*)>),
        }
    });
    let phantom_arm = (!type_params.is_empty()).then(|| {
        quote! { Self::__ActorPhantom(never, _) => match never {}, }
    });
    let phantom_handle_arm = (!type_params.is_empty()).then(|| {
        quote! { #msg::__ActorPhantom(never, _) => match never {}, }
    });
    let debug_arms = model.handlers.iter().map(|h| {
        let variant = &h.variant;
        let text = format!("{msg}::{variant}");
        quote! { Self::#variant { .. } => f.write_str(#text), }
    });
    let variant_index_arms: Vec<_> = model
        .handlers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let variant = &h.variant;
            let i = u16::try_from(i).unwrap_or(u16::MAX);
            quote! { #msg::#variant { .. } => #i, }
        })
        .collect();
    let variant_name_arms: Vec<_> = model
        .handlers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let text = format!("{msg}::{}", h.variant);
            let i = u16::try_from(i).unwrap_or(u16::MAX);
            quote! { #i => #text, }
        })
        .collect();
    // Calls carry their caller's tracing span in the reply slot (see `ReplyTo::__caller_span`).
    let caller_span_arms: Vec<_> = model
        .handlers
        .iter()
        .filter(|h| matches!(h.kind, Kind::Call))
        .filter_map(|h| {
            let variant = &h.variant;
            let reply = if h.deferred {
                h.params.iter().find_map(|param| match param {
                    Param::Reply { name, .. } => Some(quote!(#name)),
                    _ => None,
                })?
            } else {
                h.reply.as_ref()?;
                quote!(__actor_reply)
            };
            Some(quote! {
                #msg::#variant { ref #reply, .. } => #rt::ReplyTo::__caller_span(#reply),
            })
        })
        .collect();
    let msg_doc = format!(
        "The messages of [`{ident}`], one variant per handler. Generated by `#[actor]`; send them through [`{client}`] (what `Addr<{ident}>` dereferences to)."
    );
    let enum_def = quote! {
        #[doc = #msg_doc]
        #[allow(dead_code, missing_docs, private_interfaces, private_bounds, clippy::large_enum_variant)]
        pub enum #msg <#params> #where_clause {
            #(#variants,)*
            #phantom_variant
        }

        #[automatically_derived]
        impl #impl_generics ::core::fmt::Debug for #msg_ty #where_clause {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #[allow(unused_imports)]
                use ::core::fmt::Write as _;
                match *self {
                    #(#debug_arms)*
                    #phantom_arm
                }
            }
        }
    };

    // --- the client ---------------------------------------------------------------------------
    let methods = model.handlers.iter().map(|h| {
        let method = &h.method;
        let variant = &h.variant;
        let docs = &h.docs;
        let args: Vec<_> = h
            .params
            .iter()
            .filter_map(|param| match param {
                Param::Arg { name, ty } => Some((name, ty)),
                _ => None,
            })
            .collect();
        let arg_decls = args.iter().map(|(n, t)| quote!(#n: #t));
        let arg_names: Vec<_> = args.iter().map(|(n, _)| *n).collect();
        match (&h.kind, &h.reply) {
            (Kind::Cast, _) => quote! {
                #(#docs)*
                ///
                /// Cast: enqueues the message and returns at once; fails fast if the mailbox is full.
                pub fn #method(&self, #(#arg_decls),*) -> ::core::result::Result<(), #rt::SendError> {
                    self.__actor_target.cast(#msg::#variant { #(#arg_names),* })
                }
            },
            (Kind::Call, Some(reply)) => {
                let reply_name = h
                    .params
                    .iter()
                    .find_map(|param| match param {
                        Param::Reply { name, .. } => Some(quote!(#name)),
                        _ => None,
                    })
                    .unwrap_or_else(|| quote!(__actor_reply));
                quote! {
                    #(#docs)*
                    ///
                    /// Call: `.await` the reply (timeout 5 s unless overridden with `.timeout(..)`).
                    pub fn #method(&self, #(#arg_decls),*) -> #p::Call<'_, #msg_ty, #reply> {
                        self.__actor_target.call(|#reply_name| #msg::#variant { #(#arg_names,)* #reply_name })
                    }
                }
            }
            (Kind::Call, None) => quote! {},
        }
    });
    let client_doc = format!(
        "The typed client of [`{ident}`]: `Addr<{ident}>` dereferences to it, so each handler is a method on the address. Generated by `#[actor]`."
    );
    let client_def = quote! {
        #[doc = #client_doc]
        #[repr(transparent)]
        #[allow(dead_code, private_interfaces, private_bounds)]
        pub struct #client <#params> #where_clause {
            __actor_target: #p::Target<#msg_ty>,
        }

        #[automatically_derived]
        impl #impl_generics #p::Client<#msg_ty> for #client_ty #where_clause {
            fn __from_target(target: #p::Target<#msg_ty>) -> Self {
                Self { __actor_target: target }
            }
            fn __target(&self) -> &#p::Target<#msg_ty> {
                &self.__actor_target
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::fmt::Debug for #client_ty #where_clause {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Debug::fmt(&self.__actor_target, f)
            }
        }

        #[allow(dead_code, private_interfaces, private_bounds, clippy::needless_lifetimes)]
        impl #impl_generics #client_ty #where_clause {
            #(#methods)*
        }
    };

    // --- the Actor implementation -------------------------------------------------------------
    let arms = model.handlers.iter().map(|h| {
        let variant = &h.variant;
        let method = &h.method;
        let mut bindings = Vec::new();
        let mut call_args = Vec::new();
        for (i, param) in h.params.iter().enumerate() {
            match param {
                Param::Arg { name, .. } | Param::Reply { name, .. } => {
                    let b = format_ident!("__actor_arg{}", i);
                    bindings.push(quote!(#name: #b));
                    call_args.push(quote!(#b));
                }
                Param::Ctx => call_args.push(quote!(__actor_ctx)),
            }
        }
        let awaited = h.is_async.then(|| quote!(.await));
        let invoke = quote_spanned! {method.span()=> self.#method(#(#call_args),*) #awaited };
        match (&h.kind, h.deferred) {
            (Kind::Call, false) => quote! {
                #msg::#variant { #(#bindings,)* __actor_reply } => {
                    let __actor_value = #invoke;
                    let _ = #rt::ReplyTo::send(__actor_reply, __actor_value);
                }
            },
            _ => quote! {
                #msg::#variant { #(#bindings),* } => {
                    #invoke;
                }
            },
        }
    });

    let (args_ty, error_ty, init_body) = match &model.init {
        Some(init) => {
            let method = &init.method;
            let call_args = init.params.iter().map(|param| match param {
                Param::Ctx => quote!(__actor_ctx),
                _ => quote!(__actor_args),
            });
            let awaited = init.is_async.then(|| quote!(.await));
            let invoke = quote_spanned! {method.span()=> Self::#method(#(#call_args),*) #awaited };
            let args_ty = init.arg.as_ref().map_or_else(|| quote!(()), |t| quote!(#t));
            let unused = init.arg.is_none().then(|| quote!(let () = __actor_args;));
            let uses_ctx = init.params.iter().any(|p| matches!(p, Param::Ctx));
            let unused_ctx = (!uses_ctx).then(|| quote!(let _ = __actor_ctx;));
            match &init.error {
                Some(e) => (args_ty, quote!(#e), quote! { #unused #unused_ctx #invoke }),
                None => (
                    args_ty,
                    quote!(::core::convert::Infallible),
                    quote! { #unused #unused_ctx ::core::result::Result::Ok(#invoke) },
                ),
            }
        }
        None => (
            quote!(()),
            quote!(::core::convert::Infallible),
            quote! {
                let _ = (__actor_args, __actor_ctx);
                ::core::panic!("this actor has no `#[init]`")
            },
        ),
    };

    let hook = |hook: &Option<Hook>, name: TokenStream, value_ty: TokenStream| {
        hook.as_ref().map(|h| {
            let method = &h.method;
            let args = h.order.iter().map(|is_value| {
                if *is_value {
                    quote!(__actor_value)
                } else {
                    quote!(__actor_ctx)
                }
            });
            let uses_ctx = h.order.iter().any(|v| !v);
            let unused_ctx = (!uses_ctx).then(|| quote!(let _ = __actor_ctx;));
            let awaited = h.is_async.then(|| quote!(.await));
            let invoke = quote_spanned! {method.span()=> self.#method(#(#args),*) #awaited };
            quote! {
                fn #name(&mut self, __actor_value: #value_ty, __actor_ctx: &mut #rt::Ctx<Self>)
                    -> impl ::core::future::Future<Output = ()> + ::core::marker::Send
                {
                    async move { #unused_ctx #invoke; }
                }
            }
        })
    };
    let on_exit = hook(&model.on_exit, quote!(__on_exit), quote!(#rt::Exit));
    let on_down = hook(&model.on_down, quote!(__on_down), quote!(#rt::Down));
    let terminate = hook(
        &model.terminate,
        quote!(__terminate),
        quote!(&#rt::ExitReason),
    );
    let traps_exits = model.on_exit.is_some();
    let handles_down = model.on_down.is_some().then(|| {
        quote! {
            #[automatically_derived]
            impl #impl_generics #rt::HandlesDown for #self_ty #where_clause {}
        }
    });
    let unused_ctx_in_handle = quote!(let _ = &__actor_ctx;);

    let actor_impl = quote! {
        #[automatically_derived]
        impl #impl_generics #rt::Addressable for #self_ty #where_clause {
            type Msg = #msg_ty;
            type Client = #client_ty;

            fn __variant(__actor_msg: &Self::Msg) -> u16 {
                match *__actor_msg {
                    #(#variant_index_arms)*
                    #phantom_handle_arm
                }
            }

            fn __variant_name(__actor_index: u16) -> &'static str {
                match __actor_index {
                    #(#variant_name_arms)*
                    _ => "(unknown message)",
                }
            }

            #[allow(unreachable_patterns)]
            fn __caller_span(__actor_msg: &Self::Msg) -> ::core::option::Option<#p::SpanId> {
                match *__actor_msg {
                    #(#caller_span_arms)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        #[automatically_derived]
        impl #impl_generics #rt::Actor for #self_ty #where_clause {
            type Args = #args_ty;
            type Error = #error_ty;

            const MAILBOX: usize = <Self as #p::ActorOptions>::MAILBOX;
            const NAME: ::core::option::Option<&'static str> = <Self as #p::ActorOptions>::NAME;
            const TRAPS_EXITS: bool = #traps_exits;
            const BLOCKING: bool = <Self as #p::ActorOptions>::BLOCKING;

            #[allow(clippy::unused_async, clippy::let_unit_value)]
            fn __init(__actor_args: Self::Args, __actor_ctx: &mut #rt::Ctx<Self>)
                -> impl ::core::future::Future<Output = ::core::result::Result<Self, Self::Error>> + ::core::marker::Send
            {
                async move { #init_body }
            }

            #[allow(clippy::unused_async, clippy::let_unit_value, clippy::semicolon_if_nothing_returned)]
            fn __handle(&mut self, __actor_msg: Self::Msg, __actor_ctx: &mut #rt::Ctx<Self>)
                -> impl ::core::future::Future<Output = ()> + ::core::marker::Send
            {
                async move {
                    #unused_ctx_in_handle
                    match __actor_msg {
                        #(#arms)*
                        #phantom_handle_arm
                    }
                }
            }

            #on_exit
            #on_down
            #terminate
        }
        #handles_down
    };

    // --- static checks, spanned on the user's types -------------------------------------------
    // In a signature, so they are checked with the items and reported before anything the
    // generated bodies would say about the same type.
    let checks: Vec<_> = model
        .handlers
        .iter()
        .flat_map(|h| {
            let args = h.params.iter().filter_map(|param| match param {
                Param::Arg { ty, .. } => {
                    let p = respan(p.clone(), ty.span());
                    Some(quote_spanned! {ty.span()=> #p::ArgOk<#ty> })
                }
                _ => None,
            });
            let reply = h.reply.as_ref().map(|r| {
                let p = respan(p.clone(), r.span());
                quote_spanned! {r.span()=> #p::ReplyOk<#r> }
            });
            args.chain(reply).collect::<Vec<_>>()
        })
        .collect();
    let checks = (!checks.is_empty()).then(|| {
        quote! {
            #[allow(dead_code, non_snake_case, clippy::all, clippy::pedantic)]
            const _: () = {
                fn __actor_static_checks <#params> (#(_: #checks),*) #where_clause {}
            };
        }
    });

    let remote = model
        .opts
        .remote
        .as_ref()
        .filter(|_| !has_errors)
        .map(|remote| super::remote::expand(model, remote, ident, &rt));
    quote! {
        #checks
        #item
        #enum_def
        #client_def
        #actor_impl
        #remote
        #errors
    }
}
