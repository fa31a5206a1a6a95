//! The `#[module(...)]` attributes: `float = T`, `forward = method` and `crate = path` on the
//! struct, `skip` on a field. Anything else is an error spanned on the word that is wrong.

use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Path, Result, Type};

/// What `#[module(...)]` on the struct asked for.
#[derive(Default)]
pub(crate) struct StructOptions {
    /// `float = f32`: the float type, when it is not the one type parameter bounded by `Float`.
    pub float: Option<Type>,
    /// `forward = run`: the method the trait's `forward` calls, instead of the inherent
    /// `forward`.
    pub forward: Option<Path>,
    /// `crate = tapegrad::models`: where `tapegrad_models` is, for users of the facade.
    pub krate: Option<Path>,
}

impl StructOptions {
    /// Reads every `#[module(...)]` among the struct's attributes.
    pub fn parse(attrs: &[Attribute]) -> Result<Self> {
        let mut options = StructOptions::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("module")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("float") {
                    let float = meta.value()?.parse()?;
                    set_once(&mut options.float, float, &meta)
                } else if meta.path.is_ident("forward") {
                    let forward = meta.value()?.parse()?;
                    set_once(&mut options.forward, forward, &meta)
                } else if meta.path.is_ident("crate") {
                    let krate = meta.value()?.call(Path::parse_mod_style)?;
                    set_once(&mut options.krate, krate, &meta)
                } else if meta.path.is_ident("skip") {
                    Err(meta.error("#[module(skip)] goes on a field, not on the struct"))
                } else {
                    Err(meta.error(format!(
                        "unknown option `{}`: on a struct, #[module(...)] takes \
                         `float = f32`, `forward = method` or `crate = path`",
                        name(&meta)
                    )))
                }
            })?;
        }
        Ok(options)
    }
}

/// Whether a field carries `#[module(skip)]`.
pub(crate) fn skipped(attrs: &[Attribute]) -> Result<bool> {
    let mut skip = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("module")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else if ["float", "forward", "crate"]
                .iter()
                .any(|option| meta.path.is_ident(option))
            {
                Err(meta.error(format!(
                    "#[module({} = ...)] goes on the struct, not on a field",
                    name(&meta)
                )))
            } else {
                Err(meta.error(format!(
                    "unknown option `{}`: on a field, #[module(...)] takes only `skip`",
                    name(&meta)
                )))
            }
        })?;
    }
    Ok(skip)
}

/// Stores an option's value, refusing a second one.
fn set_once<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta) -> Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("#[module({} = ...)] is given twice", name(meta))));
    }
    *slot = Some(value);
    Ok(())
}

/// The option's name as written, for messages.
fn name(meta: &ParseNestedMeta) -> String {
    meta.path.to_token_stream().to_string().replace(' ', "")
}
