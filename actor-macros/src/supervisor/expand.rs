//! Code generation for `#[supervisor]`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{Kind, Restart, Shutdown, Strategy, Supervisor};
use crate::actor::runtime_path;
use crate::ctxt::Ctxt;
use crate::spans::respan;

fn duration(d: std::time::Duration) -> TokenStream {
    let secs = d.as_secs();
    let nanos = d.subsec_nanos();
    quote!(::core::time::Duration::new(#secs, #nanos))
}

pub(crate) fn supervisor(cx: Ctxt, model: &Supervisor) -> TokenStream {
    let rt = runtime_path(model.krate.as_ref());
    let p = quote!(#rt::__private);
    let errors = cx.into_compile_errors();
    let mut item = model.item.clone();
    let ident = &item.ident;

    if !item.generics.params.is_empty() {
        let fallback = fallback(&rt, &item.ident, &item.generics);
        return quote! { #errors #item #fallback };
    }
    // The hidden field that tracks this supervisor's own incarnation.
    if let syn::Fields::Named(named) = &mut item.fields {
        let field: syn::Field = syn::parse_quote! {
            #[doc(hidden)]
            __actor_supervisor: #p::SupervisorSlot
        };
        named.named.push(field);
    } else {
        let fallback = fallback(&rt, &item.ident, &item.generics);
        return quote! { #errors #item #fallback };
    }

    let strategy = match model.strategy {
        Strategy::OneForOne => quote!(#rt::Strategy::OneForOne),
        Strategy::OneForAll => quote!(#rt::Strategy::OneForAll),
        Strategy::RestForOne => quote!(#rt::Strategy::RestForOne),
        Strategy::SimpleOneForOne => quote!(#rt::Strategy::SimpleOneForOne),
    };
    let intensity = model.intensity;
    let period = duration(model.period);
    let restart = |r: Restart| match r {
        Restart::Permanent => quote!(#rt::Restart::Permanent),
        Restart::Transient => quote!(#rt::Restart::Transient),
        Restart::Temporary => quote!(#rt::Restart::Temporary),
    };
    let shutdown = |s: Option<Shutdown>| match s {
        None => quote!(::core::option::Option::None),
        Some(Shutdown::BrutalKill) => {
            quote!(::core::option::Option::Some(#rt::Shutdown::BrutalKill))
        }
        Some(Shutdown::Infinity) => quote!(::core::option::Option::Some(#rt::Shutdown::Infinity)),
        Some(Shutdown::Timeout(d)) => {
            let d = duration(d);
            quote!(::core::option::Option::Some(#rt::Shutdown::Timeout(#d)))
        }
    };

    let field_names: Vec<_> = model.children.iter().map(|c| &c.ident).collect();
    // Every generated impl assumes its actor children are actors: a child type that is not
    // one is then reported once, at the type, instead of once per use in the generated code.
    let bounds = model.children.iter().filter_map(|c| match &c.kind {
        Kind::Actor(a) => {
            let rt = respan(rt.clone(), a.span());
            let p = respan(p.clone(), a.span());
            // Without `args`, the start argument comes from its default.
            let default = c.args.is_none().then(|| {
                quote_spanned! {a.span()=> <#a as #rt::Actor>::Args: #p::DefaultArgs, }
            });
            Some(quote_spanned! {a.span()=> #a: #rt::Actor, #default })
        }
        Kind::Pool(w) => {
            let rt = respan(rt.clone(), w.span());
            let p = respan(p.clone(), w.span());
            let default = c.args.is_none().then(|| {
                quote_spanned! {w.span()=> <#w as #rt::Actor>::Args: #p::DefaultArgs, }
            });
            Some(quote_spanned! {w.span()=> #w: #rt::Actor, #default })
        }
        Kind::Supervisor(_) => None,
    });
    let where_clause = quote!(where #( #bounds )*);
    let news = model.children.iter().map(|c| {
        let f = &c.ident;
        match &c.kind {
            Kind::Actor(a) => quote_spanned! {a.span()=> #f: #rt::Child::<#a>::__new() },
            Kind::Pool(w) => quote_spanned! {w.span()=> #f: #rt::Pool::<#w>::__new() },
            Kind::Supervisor(t) => quote_spanned! {t.span()=> #f: <#t as #p::Supervise>::__new() },
        }
    });
    let dynamic = model.strategy == Strategy::SimpleOneForOne;
    let specs = model.children.iter().filter(|_| !dynamic).map(|c| {
        let f = &c.ident;
        let field_name = f.to_string();
        let restart = restart(c.restart);
        let shutdown = shutdown(c.shutdown);
        match &c.kind {
            Kind::Actor(a) => {
                let name = c.name.as_ref().map_or_else(
                    || quote!(::core::option::Option::None),
                    |n| quote!(::core::option::Option::Some(#n)),
                );
                let args = match &c.args {
                    Some(e) => quote_spanned! {e.span()=> move || #e },
                    None => {
                        let rt = respan(rt.clone(), a.span());
                        let p = respan(p.clone(), a.span());
                        quote_spanned! {a.span()=>
                            <<#a as #rt::Actor>::Args as #p::DefaultArgs>::default_args
                        }
                    }
                };
                // Every token spanned on the field's type: errors about this child point there.
                respan(
                    quote! { #p::actor_child(&self.#f, #field_name, #restart, #shutdown, #name, #args) },
                    a.span(),
                )
            }
            Kind::Pool(w) => {
                let size = c.size.as_ref().map_or_else(|| quote!(1), |e| quote_spanned! {e.span()=> #e });
                let args = match &c.args {
                    Some(e) => quote_spanned! {e.span()=> move || #e },
                    None => {
                        let rt = respan(rt.clone(), w.span());
                        let p = respan(p.clone(), w.span());
                        quote_spanned! {w.span()=>
                            <<#w as #rt::Actor>::Args as #p::DefaultArgs>::default_args
                        }
                    }
                };
                quote! { #p::pool_child(&self.#f, #field_name, #restart, #shutdown, #size, #args) }
            }
            Kind::Supervisor(_) => {
                quote! { #p::supervisor_child(&self.#f, #field_name, #restart, #shutdown) }
            }
        }
    });

    let start_child = if dynamic {
        model.children.first().and_then(|c| match &c.kind {
            Kind::Actor(a) => {
                let field_name = c.ident.to_string();
                let restart = restart(c.restart);
                let shutdown = shutdown(c.shutdown);
                Some(quote! {
                    /// Starts a child with `args`, linked to this supervisor, and returns its
                    /// handle; a restart (by the child's restart type) starts it with the same
                    /// arguments.
                    ///
                    /// # Errors
                    /// The child's start error, or the supervisor not answering.
                    pub async fn start_child(
                        &self,
                        args: <#a as #rt::Actor>::Args,
                    ) -> ::core::result::Result<#rt::Child<#a>, #rt::SupervisorError>
                    where
                        <#a as #rt::Actor>::Args: ::core::clone::Clone + ::core::marker::Sync,
                    {
                        let child = #rt::Child::<#a>::__new();
                        let spec = #p::actor_child(
                            &child,
                            #field_name,
                            #restart,
                            #shutdown,
                            ::core::option::Option::None,
                            move || ::core::clone::Clone::clone(&args),
                        );
                        let supervisor = self.__actor_supervisor.addr().ok_or(
                            #rt::SupervisorError::Unavailable(#rt::CallError::Stopped(#rt::ExitReason::NoProc)),
                        )?;
                        supervisor
                            .start_child(spec)
                            // The child's init may take as long as it needs, as in OTP.
                            .timeout(::core::time::Duration::MAX)
                            .await
                            .map_err(#rt::SupervisorError::Unavailable)??;
                        ::core::result::Result::Ok(child)
                    }

                    /// Stops `child` (started with `start_child`) with its shutdown, whether it
                    /// runs or is between restarts, and forgets it; `Ok(false)` if this
                    /// supervisor has no such child.
                    ///
                    /// # Errors
                    /// The supervisor not answering.
                    pub async fn terminate_child(
                        &self,
                        child: &#rt::Child<#a>,
                    ) -> ::core::result::Result<bool, #rt::SupervisorError> {
                        let supervisor = self.__actor_supervisor.addr().ok_or(
                            #rt::SupervisorError::Unavailable(#rt::CallError::Stopped(#rt::ExitReason::NoProc)),
                        )?;
                        supervisor
                            .terminate_child(child.__id())
                            .timeout(::core::time::Duration::MAX)
                            .await
                            .map_err(#rt::SupervisorError::Unavailable)
                    }
                })
            }
            Kind::Pool(_) | Kind::Supervisor(_) => None,
        })
    } else {
        None
    };

    if dynamic {
        // The one field only declares the children's type and options.
        item.attrs.push(syn::parse_quote!(#[allow(dead_code)]));
    }
    let doc_start = format!(
        "Starts the `{ident}` supervision tree: its children start in declared order. Fails (after stopping the children already started) if one of them fails to start."
    );
    quote! {
        #item

        #[automatically_derived]
        impl ::core::clone::Clone for #ident #where_clause {
            fn clone(&self) -> Self {
                #ident {
                    #( #field_names: ::core::clone::Clone::clone(&self.#field_names), )*
                    __actor_supervisor: ::core::clone::Clone::clone(&self.__actor_supervisor),
                }
            }
        }

        #[automatically_derived]
        impl #p::Supervise for #ident #where_clause {
            fn __new() -> Self {
                #ident {
                    #( #news, )*
                    __actor_supervisor: #p::SupervisorSlot::__new(),
                }
            }

            // `args = f()` becomes `move || f()`, which is what the user meant.
            #[allow(clippy::redundant_closure)]
            fn __spec(&self) -> #rt::SupervisorSpec {
                #rt::SupervisorSpec::new(
                    #strategy,
                    #intensity,
                    #period,
                    ::std::vec![ #( #specs ),* ],
                )
            }

            fn __supervisor(&self) -> &#p::SupervisorSlot {
                &self.__actor_supervisor
            }
        }

        #[allow(dead_code)]
        impl #ident #where_clause {
            #[doc = #doc_start]
            ///
            /// # Errors
            /// `SpawnError::Init(SupervisorError::ChildStart { .. })` naming the child that failed.
            pub async fn start() -> ::core::result::Result<Self, #rt::SpawnError<#rt::SupervisorError>> {
                #p::start_supervisor::<Self>().await
            }

            /// The supervisor's address while it runs (it changes if a parent supervisor
            /// restarts it).
            pub fn supervisor(&self) -> ::core::option::Option<#rt::Addr<#rt::Supervisor>> {
                self.__actor_supervisor.addr()
            }

            /// Stops the tree: children in reverse start order, each within its shutdown time.
            pub fn stop(&self) {
                if let ::core::option::Option::Some(s) = self.__actor_supervisor.addr() {
                    s.stop_with(#rt::ExitReason::Shutdown);
                }
            }

            #start_child
        }

        #[automatically_derived]
        impl ::core::fmt::Debug for #ident #where_clause {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(::core::stringify!(#ident))
                    #( .field(::core::stringify!(#field_names), &self.#field_names) )*
                    .finish()
            }
        }

        #errors
    }
}

/// What a supervisor that could not be generated still offers, so that the code using it
/// compiles and the mistake in the struct is the only error. Never run: the crate does not
/// build while the struct has an error.
pub(crate) fn fallback(
    rt: &TokenStream,
    ident: &syn::Ident,
    generics: &syn::Generics,
) -> TokenStream {
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        #[allow(dead_code, unused_variables, clippy::all)]
        impl #impl_generics #ident #ty_generics #where_clause {
            pub async fn start() -> ::core::result::Result<Self, #rt::SpawnError<#rt::SupervisorError>> {
                ::core::unreachable!()
            }
            pub fn supervisor(&self) -> ::core::option::Option<#rt::Addr<#rt::Supervisor>> {
                ::core::unreachable!()
            }
            pub fn stop(&self) {}
        }
    }
}
