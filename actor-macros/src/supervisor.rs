//! `#[supervisor]`: a struct of children becomes a supervision tree with typed handles.
//!
//! parse and validate (`model`, errors accumulated in `Ctxt`) → expand (`expand`).

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;

mod expand;
mod model;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item: syn::ItemStruct = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let e = syn::Error::new(
                item_keyword_span(&item),
                "`#[supervisor]` goes on a struct whose fields are its children",
            )
            .to_compile_error();
            // An enum keeps its type, so uses of it report nothing more.
            let fallback = syn::parse2::<syn::ItemEnum>(item.clone()).ok().map(|e| {
                let rt = crate::actor::runtime_path(None);
                expand::fallback(&rt, &e.ident, &e.generics)
            });
            return quote! { #e #item #fallback };
        }
    };
    let mut cx = Ctxt::default();
    let model = model::Supervisor::from_syn(&mut cx, attr, item);
    expand::supervisor(cx, &model)
}

/// The span of the keyword that says what the item is (`enum`, `fn`, ...), so the error points
/// at what is wrong rather than at the attribute.
fn item_keyword_span(item: &TokenStream) -> proc_macro2::Span {
    const KEYWORDS: [&str; 8] = [
        "enum", "fn", "union", "trait", "impl", "type", "mod", "const",
    ];
    item.clone()
        .into_iter()
        .find_map(|tree| match tree {
            proc_macro2::TokenTree::Ident(ident)
                if KEYWORDS.contains(&ident.to_string().as_str()) =>
            {
                Some(ident.span())
            }
            _ => None,
        })
        .unwrap_or_else(proc_macro2::Span::call_site)
}
