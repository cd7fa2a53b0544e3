//! `#[handle]`, `#[init]` and the hook attributes are consumed by `#[actor]`; on their own they
//! only report that they are out of place.

use proc_macro2::{Span, TokenStream};
use quote::quote;

pub(crate) fn outside_actor(name: &str, _attr: TokenStream, item: TokenStream) -> TokenStream {
    let span = match syn::parse2::<syn::ImplItemFn>(item.clone()) {
        Ok(f) => f.sig.ident.span(),
        Err(_) => Span::call_site(),
    };
    let message = format!(
        "`#[{name}]` only works on a method inside an `#[actor]` impl block: add `#[actor]` above the `impl`"
    );
    let error = syn::Error::new(span, message).to_compile_error();
    quote! { #error #item }
}
