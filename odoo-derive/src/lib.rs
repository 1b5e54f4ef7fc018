//! # odoo-integration-derive
//!
//! `#[derive(Model)]` for [`odoo-integration-client`]: it writes a struct's
//! `Model::NAME` (the Odoo model it maps) and `Model::FIELDS` (the fields
//! to read) from the struct itself, so that a field can no longer be left
//! out of `FIELDS` and read as `None` without a word.
//!
//! Use it through the client, `odoo_integration_client::Model`, or through
//! the facade, `odoo_integration::odoo::Model` (the `derive` feature of
//! either, on by default): the derive macro has the trait's name, as
//! serde's `Deserialize` does, so one `use` brings both. See [`Model`][macro@Model]
//! for what it writes and what it refuses.
//!
//! [`odoo-integration-client`]: https://docs.rs/odoo-integration-client
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod attrs;
mod case;
mod expand;
mod manifest;

use proc_macro::TokenStream;

/// Implements `Model` for a struct: `NAME` from `#[odoo(model = "...")]`,
/// `FIELDS` from the struct's fields.
///
/// ```
/// use odoo_integration_client::Model;
/// use odoo_integration_client::value::{Many2One, falsy};
///
/// #[derive(Debug, serde::Deserialize, Model)]
/// #[odoo(model = "res.partner")]
/// struct Partner {
///     id: i64,
///     name: String,
///     #[serde(with = "falsy")]
///     email: Option<String>,
///     #[serde(rename = "country_id", with = "falsy")]
///     country: Option<Many2One>,
///     #[serde(skip)]
///     selected: bool,
/// }
///
/// assert_eq!(Partner::NAME, "res.partner");
/// assert_eq!(Partner::FIELDS, ["name", "email", "country_id"]);
/// ```
///
/// Then `client.typed::<Partner>().search_read(...)` reads exactly the
/// fields the struct has. A hand-written `impl Model` works as before, for
/// the cases the derive does not cover.
///
/// # What it writes
///
/// - `NAME` is the string in `#[odoo(model = "...")]`, which is required.
/// - `FIELDS` is every named field in declaration order, under the name
///   serde reads: `#[serde(rename = "x")]` and
///   `#[serde(rename(deserialize = "x"))]` are honoured, and so is
///   `#[serde(rename_all = "...")]` on the struct (every rule serde has,
///   a field's own `rename` first). Fields with `#[serde(skip)]` or
///   `#[serde(skip_deserializing)]` are left out.
/// - `id` is left out, as in a hand-written impl: Odoo returns it with
///   every record whether asked or not. A struct that reads nothing else
///   gets `FIELDS == ["id"]`, never an empty list, which Odoo would take
///   to mean every field.
/// - Generic structs (`struct Row<T>`) get `Model` for every `T` that
///   makes the struct `DeserializeOwned + Send + 'static`; lifetime
///   parameters are refused, a `Model` owns its data.
///
/// # Attributes
///
/// | attribute | on | what it does |
/// |---|---|---|
/// | `#[odoo(model = "res.partner")]` | struct | the Odoo model's technical name (required) |
/// | `#[odoo(crate = "path")]` | struct | the path to the client crate's root, when the default cannot find it |
/// | `#[odoo(skip)]` | field | leave the field out of `FIELDS`: a value serde fills in itself (give it `#[serde(default)]` or make it an `Option`), such as one the program computes after reading |
///
/// # Where the trait is
///
/// The impl names the trait by a path from the root, which depends on how
/// the crate that uses the derive depends on the client. The derive reads
/// that crate's `Cargo.toml` (in `CARGO_MANIFEST_DIR`, which cargo sets
/// for the compiler) and writes:
///
/// - `::odoo_integration_client::Model` when the package depends on
///   `odoo-integration-client`;
/// - `::odoo_integration::odoo::Model` when it depends on the facade
///   `odoo-integration` (and not on the client);
///
/// under the name the manifest gives the dependency (a `package = "..."`
/// rename, in the package or in `[workspace.dependencies]`, is followed).
/// `[dependencies]` come before `[dev-dependencies]`, and the client before
/// the facade. With no manifest to read (a build without cargo) or neither
/// crate in it, the path is `::odoo_integration_client`;
/// `#[odoo(crate = "...")]` names the client's root otherwise, for example
/// `#[odoo(crate = "my_sdk::odoo")]` when another crate re-exports it.
///
/// # Errors
///
/// Every mistake is a compile error that points at the code to change,
/// never a wrong `FIELDS`. Without the model's name:
///
/// ```compile_fail
/// use odoo_integration_client::Model;
///
/// #[derive(serde::Deserialize, Model)]
/// struct Partner {
///     id: i64,
///     name: String,
/// }
/// ```
///
/// A flattened field, whose fields the derive cannot see (write that impl
/// by hand):
///
/// ```compile_fail
/// use odoo_integration_client::Model;
///
/// #[derive(serde::Deserialize)]
/// struct Address { street: String, city: String }
///
/// #[derive(serde::Deserialize, Model)]
/// #[odoo(model = "res.partner")]
/// struct Partner {
///     name: String,
///     #[serde(flatten)]
///     address: Address,
/// }
/// ```
///
/// A tuple struct, which cannot read fields by name:
///
/// ```compile_fail
/// use odoo_integration_client::Model;
///
/// #[derive(serde::Deserialize, Model)]
/// #[odoo(model = "res.partner")]
/// struct Partner(i64, String);
/// ```
///
/// An enum:
///
/// ```compile_fail
/// use odoo_integration_client::Model;
///
/// #[derive(serde::Deserialize, Model)]
/// #[odoo(model = "res.partner")]
/// enum Partner {
///     Company { name: String },
///     Person { name: String },
/// }
/// ```
///
/// Also refused: a unit struct or a union, lifetime parameters,
/// `#[serde(transparent)]`, `#[serde(from = "...")]` and
/// `#[serde(try_from = "...")]` (serde reads another type), two fields
/// that read the same Odoo field, a `rename_all` rule serde does not have,
/// and an unknown key in `#[odoo(...)]`.
#[proc_macro_derive(Model, attributes(odoo))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::model(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The README's code blocks, compiled as doctests so they never drift (a
/// proc-macro crate exports nothing but macros, so this one is private).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
