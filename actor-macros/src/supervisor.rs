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
                proc_macro2::Span::call_site(),
                "`#[supervisor]` goes on a struct whose fields are its children",
            )
            .to_compile_error();
            return quote! { #e #item };
        }
    };
    let mut cx = Ctxt::default();
    let model = model::Supervisor::from_syn(&mut cx, attr, item);
    expand::supervisor(cx, &model)
}
