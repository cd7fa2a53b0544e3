//! What `#[actor(remote)]` adds to an impl: a serde twin of the message enum without the reply
//! slots, the `RemoteActor` implementation that converts between the two, and the kind's
//! registration with `inventory`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{ActorImpl, Kind, Param};
use super::options::Remote;
use crate::ctxt::Ctxt;
use crate::spans::respan;

/// Rejects what cannot be remote: generic actors (a kind name must name one type).
pub(crate) fn check(cx: &mut Ctxt, model: &ActorImpl, remote: &Remote) {
    if !model.item.generics.params.is_empty() {
        cx.error_spanned_by(
            &remote.path,
            "a remote actor cannot be generic: its kind name must name one type on every node; make a concrete actor that wraps the generic one",
        );
    }
}

pub(crate) fn expand(
    model: &ActorImpl,
    remote: &Remote,
    ident: &syn::Ident,
    rt: &TokenStream,
) -> TokenStream {
    let p = quote!(#rt::__private);
    let self_ty = &model.item.self_ty;
    let msg = format_ident!("{}Msg", ident);
    let wire = format_ident!("__{}Wire", ident);
    let serde_path = format!("{}::serde", p).replace(' ', "");
    let kind = remote.kind.as_ref().map_or_else(
        || {
            quote!(::core::concat!(
                ::core::module_path!(),
                "::",
                ::core::stringify!(#ident)
            ))
        },
        |k| quote!(#k),
    );

    let mut variants = Vec::new();
    let mut encode_arms = Vec::new();
    let mut decode_arms = Vec::new();
    let mut checks = Vec::new();
    for h in &model.handlers {
        let variant = &h.variant;
        let args: Vec<_> = h
            .params
            .iter()
            .filter_map(|param| match param {
                Param::Arg { name, ty } => Some((name, ty)),
                _ => None,
            })
            .collect();
        let names: Vec<_> = args.iter().map(|(n, _)| *n).collect();
        let fields = args.iter().map(|(n, t)| quote!(#n: #t));
        variants.push(quote! { #variant { #(#fields),* } });
        for (_, ty) in &args {
            let p = respan(p.clone(), ty.span());
            checks.push(quote_spanned! {ty.span()=> #p::WireOk<#ty> });
        }
        match (&h.kind, &h.reply) {
            (Kind::Call, Some(reply)) => {
                let p2 = respan(p.clone(), reply.span());
                checks.push(quote_spanned! {reply.span()=> #p2::WireOk<#reply> });
                let slot = h
                    .params
                    .iter()
                    .find_map(|param| match param {
                        Param::Reply { name, .. } => Some(quote!(#name)),
                        _ => None,
                    })
                    .unwrap_or_else(|| quote!(__actor_reply));
                encode_arms.push(quote! {
                    #msg::#variant { #(#names,)* #slot } => {
                        #p::encode(&#wire::#variant { #(#names),* }, __actor_out)?;
                        ::core::result::Result::Ok(::core::option::Option::Some(#p::pending::<#reply>(#slot)))
                    }
                });
                decode_arms.push(quote! {
                    #wire::#variant { #(#names),* } => #msg::#variant {
                        #(#names,)*
                        #slot: #p::reply_to::<#reply>(__actor_reply)?,
                    },
                });
            }
            _ => {
                encode_arms.push(quote! {
                    #msg::#variant { #(#names),* } => {
                        #p::encode(&#wire::#variant { #(#names),* }, __actor_out)?;
                        ::core::result::Result::Ok(::core::option::Option::None)
                    }
                });
                decode_arms.push(quote! {
                    #wire::#variant { #(#names),* } => {
                        #p::no_reply_expected(__actor_reply)?;
                        #msg::#variant { #(#names),* }
                    }
                });
            }
        }
    }
    let checks = (!checks.is_empty()).then(|| {
        quote! {
            #[allow(dead_code, non_snake_case, clippy::all, clippy::pedantic)]
            const _: () = {
                fn __actor_wire_checks(#(_: #checks),*) {}
            };
        }
    });
    quote! {
        #checks

        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #[derive(#p::serde::Serialize, #p::serde::Deserialize)]
        #[serde(crate = #serde_path)]
        enum #wire {
            #(#variants,)*
        }

        #[automatically_derived]
        impl #p::RemoteActor for #self_ty {
            const KIND: &'static str = #kind;

            #[allow(unreachable_code)]
            fn __encode(
                __actor_msg: <Self as #rt::Addressable>::Msg,
                __actor_out: &mut ::std::vec::Vec<u8>,
            ) -> ::core::result::Result<::core::option::Option<#p::Pending>, #p::RemoteError> {
                match __actor_msg {
                    #(#encode_arms)*
                }
            }

            #[allow(unreachable_code)]
            fn __decode(
                __actor_body: &[u8],
                __actor_reply: ::core::option::Option<#p::ReplyRoute>,
            ) -> ::core::result::Result<<Self as #rt::Addressable>::Msg, #p::RemoteError> {
                let __actor_wire: #wire = #p::decode(__actor_body)?;
                ::core::result::Result::Ok(match __actor_wire {
                    #(#decode_arms)*
                })
            }
        }

        #p::inventory::submit! {
            #p::KindEntry {
                kind: <#self_ty as #p::RemoteActor>::KIND,
                type_name: ::core::any::type_name::<#self_ty>,
            }
        }
    }
}
