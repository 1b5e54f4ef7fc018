//! `#[derive(Model)]`: from a struct to `impl Model`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, GenericParam};

use crate::attrs::{self, Errors};
use crate::manifest;

/// The field Odoo returns whether asked or not.
const ID: &str = "id";

pub(crate) fn model(input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let container = attrs::container(&input.attrs, &mut errors);

    let named = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Some(named),
            Fields::Unnamed(fields) => {
                errors.at(
                    fields.span(),
                    "`#[derive(Model)]` needs a struct with named fields: Odoo returns each \
                     record as an object keyed by field name, which a tuple struct cannot read",
                );
                None
            }
            Fields::Unit => {
                errors.at(
                    input.ident.span(),
                    "`#[derive(Model)]` needs a struct with named fields: a unit struct \
                     reads no field of an Odoo record",
                );
                None
            }
        },
        Data::Enum(data) => {
            errors.at(
                data.enum_token.span(),
                "`#[derive(Model)]` needs a struct with named fields, not an enum: Odoo \
                 returns each record as an object keyed by field name",
            );
            None
        }
        Data::Union(data) => {
            errors.at(
                data.union_token.span(),
                "`#[derive(Model)]` needs a struct with named fields, not a union",
            );
            None
        }
    };

    for param in &input.generics.params {
        if let GenericParam::Lifetime(lifetime) = param {
            errors.at(
                lifetime.span(),
                "`#[derive(Model)]` does not take lifetime parameters: a `Model` is read \
                 into owned data (`DeserializeOwned + 'static`)",
            );
        }
    }

    let model = match &container.model {
        Some(model) => Some(model.value()),
        None => {
            errors.at(
                input.ident.span(),
                format!(
                    "`#[derive(Model)]` needs the Odoo model's name: add \
                     `#[odoo(model = \"res.partner\")]` (with your model) to `{}`",
                    input.ident
                ),
            );
            None
        }
    };

    // Every field serde reads, in declaration order, under the name it reads.
    let mut fields: Vec<(String, &syn::Ident)> = Vec::new();
    for field in named.iter().flat_map(|n| &n.named) {
        let attrs = attrs::field(&field.attrs, &mut errors);
        let Some(ident) = &field.ident else { continue };
        if attrs.skip {
            continue;
        }
        let rust_name = ident.unraw().to_string();
        let name = match (attrs.rename, container.rename_all) {
            (Some(name), _) => name,
            (None, Some(rule)) => rule.apply(&rust_name),
            (None, None) => rust_name,
        };
        if let Some((_, first)) = fields.iter().find(|(n, _)| *n == name) {
            errors.at(
                ident.span(),
                format!(
                    "`{ident}` and `{first}` both read the Odoo field `{name}`; rename one \
                     with `#[serde(rename = \"...\")]`, or leave one out with \
                     `#[odoo(skip)]`"
                ),
            );
            continue;
        }
        fields.push((name, ident));
    }

    errors.finish()?;
    let Some(model) = model else {
        // Unreachable: a missing model name is an error above.
        return Ok(TokenStream::new());
    };

    // Odoo returns `id` with every record, so `FIELDS` leaves it out (as a
    // hand-written impl does); but never to an empty list, which Odoo
    // reads as "every field".
    let mut names: Vec<String> = fields
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name != ID)
        .collect();
    if names.is_empty() {
        names.push(ID.to_owned());
    }

    let krate = container.krate.unwrap_or_else(manifest::client_path);
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut predicates: Vec<TokenStream> = where_clause
        .iter()
        .flat_map(|w| w.predicates.iter())
        .map(quote::ToTokens::to_token_stream)
        .collect();
    if !input.generics.params.is_empty() {
        // The bounds `Model` needs, so that `struct Row<T>` derives
        // `Model` for every `T` serde can read it with.
        predicates.push(quote! {
            #ident #ty_generics: #krate::__private::DeserializeOwned
                + ::core::marker::Send
                + 'static
        });
    }
    let where_clause = if predicates.is_empty() {
        TokenStream::new()
    } else {
        quote!(where #(#predicates),*)
    };

    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #krate::Model for #ident #ty_generics #where_clause {
            const NAME: &'static str = #model;
            const FIELDS: &'static [&'static str] = &[#(#names),*];
        }
    })
}
