//! `#[actor]`: on a struct it records the options; on the impl it generates the message enum,
//! the typed client and the `Actor` implementation.
//!
//! parse (`options`, `model`) → validate (inside `model`, errors accumulated in `Ctxt`) →
//! expand (`expand`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::Item;

use crate::ctxt::Ctxt;

mod expand;
mod model;
mod options;
mod remote;

pub(crate) use options::runtime_path;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item: Item = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(e) => {
            let e = e.to_compile_error();
            return quote! { #e #item };
        }
    };
    let mut cx = Ctxt::default();
    match item {
        Item::Struct(s) => {
            let opts = options::StructOptions::parse(&mut cx, attr);
            expand::struct_item(cx, &opts, s)
        }
        Item::Impl(i) => {
            let opts = options::ImplOptions::parse(&mut cx, attr);
            let model = model::ActorImpl::from_syn(&mut cx, opts, i);
            expand::impl_item(cx, &model)
        }
        other => {
            cx.error_spanned_by(
                item_keyword(&other),
                "`#[actor]` goes on a struct and on its `impl` block",
            );
            let errors = cx.into_compile_errors();
            quote! { #errors #other }
        }
    }
}

fn item_keyword(item: &Item) -> TokenStream {
    match item {
        Item::Enum(e) => {
            let t = &e.enum_token;
            quote! { #t }
        }
        Item::Fn(f) => {
            let t = &f.sig.fn_token;
            quote! { #t }
        }
        Item::Trait(t) => {
            let t = &t.trait_token;
            quote! { #t }
        }
        Item::Union(u) => {
            let t = &u.union_token;
            quote! { #t }
        }
        other => quote! { #other },
    }
}
