//! The attributes the derive reads: its own `#[odoo(...)]`, and the
//! `#[serde(...)]` ones that change which keys serde reads.
//!
//! `#[odoo(...)]` is ours, so anything in it we do not know is an error.
//! `#[serde(...)]` is serde's: keys that do not change the names read are
//! skipped whatever their value, and a malformed one is left for serde's
//! derive to report (once, rather than twice).

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr, Token};

use crate::case::{self, Rule};

/// Errors collected across the whole input, reported together.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// What the struct's attributes say.
#[derive(Default)]
pub(crate) struct Container {
    /// `#[odoo(model = "...")]`.
    pub(crate) model: Option<LitStr>,
    /// `#[odoo(crate = "...")]`: the path to the client crate's root.
    pub(crate) krate: Option<TokenStream>,
    /// `#[serde(rename_all = "...")]` (or its `deserialize` half).
    pub(crate) rename_all: Option<Rule>,
}

/// What a field's attributes say.
#[derive(Default)]
pub(crate) struct Field {
    /// `#[serde(rename = "...")]` (or its `deserialize` half).
    pub(crate) rename: Option<String>,
    /// `#[serde(skip)]`, `#[serde(skip_deserializing)]` or `#[odoo(skip)]`.
    pub(crate) skip: bool,
}

pub(crate) fn container(attrs: &[Attribute], errors: &mut Errors) -> Container {
    let mut out = Container::default();
    for attr in attrs {
        if attr.path().is_ident("odoo") {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("model") {
                    let lit: LitStr = meta.value()?.parse()?;
                    check_model_name(&lit, errors);
                    if out.model.is_some() {
                        errors.at(lit.span(), "`model` is given twice");
                    }
                    out.model = Some(lit);
                } else if meta.path.is_ident("crate") {
                    let lit: LitStr = meta.value()?.parse()?;
                    match lit.parse::<syn::Path>() {
                        Ok(path) => {
                            if out.krate.is_some() {
                                errors.at(lit.span(), "`crate` is given twice");
                            }
                            out.krate = Some(quote::ToTokens::into_token_stream(path));
                        }
                        Err(_) => errors.at(
                            lit.span(),
                            "`crate` must be a path to the client crate, such as \
                             \"odoo_integration::odoo\" or \"::odoo_integration_client\"",
                        ),
                    }
                } else if meta.path.is_ident("skip") {
                    errors.at(
                        meta.path.span(),
                        "`#[odoo(skip)]` goes on a field, not on the struct",
                    );
                } else {
                    return Err(meta.error(format!(
                        "unknown attribute `{}` in `#[odoo(...)]` on a struct; \
                         expected `model = \"...\"` or `crate = \"...\"`",
                        path_text(&meta.path)
                    )));
                }
                Ok(())
            });
            if let Err(e) = parsed {
                errors.push(e);
            }
        } else if attr.path().is_ident("serde") {
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename_all") {
                    if let Some(lit) = deserialize_name(&meta)? {
                        match Rule::from_name(&lit.value()) {
                            Some(rule) => out.rename_all = Some(rule),
                            None => errors.at(lit.span(), unknown_rule(&lit.value())),
                        }
                    }
                } else if meta.path.is_ident("transparent") {
                    errors.at(
                        meta.path.span(),
                        "`#[derive(Model)]` cannot be used with `#[serde(transparent)]`: \
                         the struct is read from its one field, not from an Odoo record; \
                         implement `Model` by hand",
                    );
                } else if meta.path.is_ident("from") || meta.path.is_ident("try_from") {
                    errors.at(
                        meta.path.span(),
                        format!(
                            "`#[derive(Model)]` cannot be used with `#[serde({} = \"...\")]`: serde \
                             reads the other type's fields; implement `Model` by hand, \
                             listing them",
                            path_text(&meta.path)
                        ),
                    );
                    skip_value(&meta)?;
                } else {
                    skip_value(&meta)?;
                }
                Ok(())
            });
        }
    }
    out
}

pub(crate) fn field(attrs: &[Attribute], errors: &mut Errors) -> Field {
    let mut out = Field::default();
    for attr in attrs {
        if attr.path().is_ident("odoo") {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("skip") {
                    out.skip = true;
                    Ok(())
                } else if meta.path.is_ident("model") || meta.path.is_ident("crate") {
                    Err(meta.error(format!(
                        "`{}` goes in `#[odoo(...)]` on the struct, not on a field",
                        path_text(&meta.path)
                    )))
                } else {
                    Err(meta.error(format!(
                        "unknown attribute `{}` in `#[odoo(...)]` on a field; expected `skip`",
                        path_text(&meta.path)
                    )))
                }
            });
            if let Err(e) = parsed {
                errors.push(e);
            }
        } else if attr.path().is_ident("serde") {
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    if let Some(lit) = deserialize_name(&meta)? {
                        out.rename = Some(lit.value());
                    }
                } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_deserializing") {
                    out.skip = true;
                } else if meta.path.is_ident("flatten") {
                    errors.at(
                        meta.path.span(),
                        "`#[derive(Model)]` cannot be used with `#[serde(flatten)]`: the \
                         fields it reads depend on the flattened type; list them in a \
                         hand-written `impl Model`, or make them fields of this struct",
                    );
                } else {
                    skip_value(&meta)?;
                }
                Ok(())
            });
        }
    }
    out
}

/// The name in `key = "name"` or in `key(deserialize = "name")` (`None`
/// for `key(serialize = "name")` alone).
fn deserialize_name(meta: &ParseNestedMeta<'_>) -> syn::Result<Option<LitStr>> {
    if meta.input.peek(Token![=]) {
        return meta.value()?.parse().map(Some);
    }
    let mut name = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("deserialize") {
            name = Some(inner.value()?.parse()?);
        } else {
            skip_value(&inner)?;
        }
        Ok(())
    })?;
    Ok(name)
}

/// Consumes whatever follows a key we do not read: `= value`, `(...)` or
/// nothing, up to the next comma.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    let input = meta.input;
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
    }
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

/// Odoo model names are made of letters, digits, `_` and `.`
/// (`res.partner`, `x_fleet.vehicle`).
fn check_model_name(lit: &LitStr, errors: &mut Errors) {
    let name = lit.value();
    if name.is_empty() {
        errors.at(
            lit.span(),
            "the Odoo model name is empty; write it as Odoo does, e.g. \"res.partner\"",
        );
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.'))
    {
        errors.at(
            lit.span(),
            format!(
                "`{name}` is not an Odoo model name (it contains {c:?}); write it as Odoo \
                 does, e.g. \"res.partner\""
            ),
        );
    }
}

fn unknown_rule(name: &str) -> String {
    let known: Vec<String> = case::NAMES
        .iter()
        .map(|(n, _)| format!("\"{n}\""))
        .collect();
    format!(
        "unknown `rename_all` rule \"{name}\"; `#[derive(Model)]` knows {}",
        known.join(", ")
    )
}

fn path_text(path: &syn::Path) -> String {
    quote::ToTokens::to_token_stream(path)
        .to_string()
        .replace(' ', "")
}
