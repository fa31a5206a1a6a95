//! The code `#[derive(Module)]` writes: one `impl Module<F>` whose four methods visit the
//! fields in declaration order through `tapegrad_models::submodule::Submodule`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{
    parse_quote, Data, DeriveInput, Error, Fields, GenericParam, Generics, Index, Member, Result,
    Type, TypeParamBound, WherePredicate,
};

use crate::options::{skipped, StructOptions};

/// One field that takes part: how to reach it (`self.conv1`, `self.0`), the name its
/// parameters are listed under (`conv1`, `0`), and its type (for the span of errors).
struct Child<'a> {
    member: Member,
    label: String,
    ty: &'a Type,
}

/// The whole `impl`, or the first error found.
pub(crate) fn derive(input: &DeriveInput) -> Result<TokenStream> {
    let options = StructOptions::parse(&input.attrs)?;
    let name = &input.ident;
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => &fields.named,
            Fields::Unnamed(fields) => &fields.unnamed,
            Fields::Unit => {
                return Err(Error::new_spanned(
                    name,
                    format!(
                        "#[derive(Module)] on the unit struct `{name}`: it has no fields to \
                         list; give it fields, or implement Module by hand (its \
                         named_parameters returns Vec::new())"
                    ),
                ))
            }
        },
        Data::Enum(_) => {
            return Err(Error::new_spanned(
                name,
                format!(
                    "#[derive(Module)] needs a struct, and `{name}` is an enum: its \
                     parameters would change with the variant; put each variant's layers in \
                     a struct, or implement Module by hand"
                ),
            ))
        }
        Data::Union(_) => {
            return Err(Error::new_spanned(
                name,
                format!("#[derive(Module)] needs a struct, and `{name}` is a union"),
            ))
        }
    };

    let mut children = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        if skipped(&field.attrs)? {
            continue;
        }
        let (member, label) = match &field.ident {
            Some(ident) => (Member::Named(ident.clone()), ident.unraw().to_string()),
            None => (
                Member::Unnamed(Index {
                    index: i as u32,
                    span: field.ty.span(),
                }),
                i.to_string(),
            ),
        };
        children.push(Child {
            member,
            label,
            ty: &field.ty,
        });
    }

    let float = match options.float {
        Some(float) => float,
        None => float_parameter(name, &input.generics)?,
    };
    let krate = options
        .krate
        .unwrap_or_else(|| parse_quote!(::tapegrad_models));
    let private = quote!(#krate::__private);
    let call = match &options.forward {
        None => quote!(Self::forward(self, x)),
        Some(method) if method.get_ident().is_some() => quote!(Self::#method(self, x)),
        Some(function) => quote!(#function(self, x)),
    };
    // Without an inherent `forward`, `Self::forward` is this very method: the lint turns that
    // into a compile error rather than a stack overflow at run time. rustc keeps quiet about
    // lints in code a derive wrote, unless the code carries spans of the user's source, so
    // the method is spanned on the struct's name (where the error then points).
    let forward = quote_spanned! {name.span()=>
        #[deny(unconditional_recursion)]
        #[track_caller]
        fn forward(&self, x: &#private::Tensor<#float>) -> #private::Tensor<#float> {
            #call
        }
    };

    // Each call is spanned on its field's type, so a field that is no module (a `usize`
    // without #[module(skip)]) is reported there, once.
    let parameters = children.iter().map(|Child { member, label, ty }| {
        quote_spanned! {ty.span()=>
            #krate::submodule::Submodule::<#float, _>::collect_parameters(&self.#member, #label, &mut named);
        }
    });
    let buffers = children.iter().map(|Child { member, label, ty }| {
        quote_spanned! {ty.span()=>
            #krate::submodule::Submodule::<#float, _>::collect_buffers(&self.#member, #label, &mut named);
        }
    });
    let rngs = children.iter().map(|Child { member, label, ty }| {
        quote_spanned! {ty.span()=>
            #krate::submodule::Submodule::<#float, _>::collect_rngs(&self.#member, #label, &mut named);
        }
    });
    let training = children.iter().map(|Child { member, ty, .. }| {
        quote_spanned! {ty.span()=>
            #krate::submodule::Submodule::<#float, _>::propagate_training(&mut self.#member, training);
        }
    });
    let (training_arg, named_mut) = if children.is_empty() {
        (quote!(_training), quote!())
    } else {
        (quote!(training), quote!(mut))
    };

    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #krate::module::Module<#float> for #name #ty_generics #where_clause {
            #forward

            fn named_parameters(
                &self,
            ) -> ::std::vec::Vec<(::std::string::String, #private::Param<#float>)> {
                let #named_mut named = ::std::vec::Vec::new();
                #(#parameters)*
                named
            }

            fn named_buffers(
                &self,
            ) -> ::std::vec::Vec<(::std::string::String, #krate::buffer::Buffer<#float>)> {
                let #named_mut named = ::std::vec::Vec::new();
                #(#buffers)*
                named
            }

            fn named_rngs(
                &self,
            ) -> ::std::vec::Vec<(::std::string::String, #krate::rng::SharedRng)> {
                let #named_mut named = ::std::vec::Vec::new();
                #(#rngs)*
                named
            }

            fn set_training(&mut self, #training_arg: bool) {
                #(#training)*
            }
        }
    })
}

/// The one type parameter bounded by `Float` (`F: Float` in the list or `where F: Float`;
/// the bound is recognised by its last word, so `tapegrad::Float` counts too).
fn float_parameter(name: &syn::Ident, generics: &Generics) -> Result<Type> {
    let is_float = |bound: &TypeParamBound| {
        matches!(bound, TypeParamBound::Trait(t)
            if t.path.segments.last().is_some_and(|s| s.ident == "Float"))
    };
    let mut found: Vec<&syn::Ident> = Vec::new();
    for param in &generics.params {
        if let GenericParam::Type(param) = param {
            let in_where = generics.where_clause.iter().any(|clause| {
                clause.predicates.iter().any(|predicate| {
                    matches!(predicate, WherePredicate::Type(p)
                        if matches!(&p.bounded_ty, Type::Path(t)
                            if t.qself.is_none() && t.path.is_ident(&param.ident))
                            && p.bounds.iter().any(is_float))
                })
            });
            if param.bounds.iter().any(is_float) || in_where {
                found.push(&param.ident);
            }
        }
    }
    match found[..] {
        [float] => Ok(parse_quote!(#float)),
        [] => Err(Error::new_spanned(
            name,
            format!(
                "#[derive(Module)] cannot tell which float `{name}` computes in: make it \
                 generic over `F: Float`, or name the type with #[module(float = f32)]"
            ),
        )),
        _ => {
            let names: Vec<String> = found.iter().map(|f| format!("`{f}`")).collect();
            Err(Error::new_spanned(
                name,
                format!(
                    "#[derive(Module)]: {} are all bounded by `Float`; name the one `{name}` \
                     computes in with #[module(float = ...)]",
                    names.join(" and ")
                ),
            ))
        }
    }
}
