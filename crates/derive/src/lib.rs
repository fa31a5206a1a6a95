//! # tapegrad-derive
//!
//! `#[derive(Module)]`: a model written as a struct of layers gets its
//! `tapegrad_models::module::Module` impl from its fields, the way a PyTorch `nn.Module`
//! registers every layer assigned to `self`. Use it through `tapegrad_models`, which
//! re-exports it beside the trait of the same name (as serde does with `Serialize`), so one
//! `use` brings both:
//!
//! ```
//! use tapegrad_models::module::{BatchNorm2d, Conv2d, Linear, Module};
//! use tapegrad_tensor::{Conv2dOptions, Float, Padding, Tensor};
//!
//! /// torch: self.conv = nn.Conv2d(1, 4, 3, padding="same"); self.bn = nn.BatchNorm2d(4);
//! ///        self.fc = nn.Linear(4 * 5 * 5, 3)
//! #[derive(Module)]
//! struct Cnn<F: Float> {
//!     conv: Conv2d<F>,
//!     bn: BatchNorm2d<F>,
//!     fc: Linear<F>,
//!     #[module(skip)]
//!     features: usize, // a hyperparameter, not a layer
//! }
//!
//! impl<F: Float> Cnn<F> {
//!     fn new(seed: u64) -> Self {
//!         let same = Conv2dOptions { padding: Padding::Same, ..Default::default() };
//!         Cnn {
//!             conv: Conv2d::new(1, 4, [3, 3], same, seed),
//!             bn: BatchNorm2d::new(4),
//!             fc: Linear::new(4 * 5 * 5, 3, seed + 2),
//!             features: 4 * 5 * 5,
//!         }
//!     }
//!
//!     /// The forward pass, written by hand: the one method the derive cannot guess.
//!     fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
//!         let h = self.bn.forward(&self.conv.forward(x)).relu();
//!         self.fc.forward(&h.reshape(&[x.shape()[0], self.features]))
//!     }
//! }
//!
//! let mut net = Cnn::<f32>::new(0);
//! assert_eq!(net.forward(&Tensor::zeros(&[2, 1, 5, 5])).shape(), &[2, 3]);
//! let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
//! assert_eq!(names, ["conv.weight", "conv.bias", "bn.weight", "bn.bias", "fc.weight", "fc.bias"]);
//! let buffers: Vec<String> = net.named_buffers().into_iter().map(|(n, _)| n).collect();
//! assert_eq!(buffers, ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]);
//! net.set_training(false); // reaches the BatchNorm: it now normalises with its running stats
//! ```
//!
//! Those are exactly the keys of the torch module's `state_dict()`, so
//! `tapegrad_models::io::save` writes a file that `load_state_dict` accepts.
//!
//! ## What the derive writes
//!
//! For a struct with fields `a`, `b`, … (not skipped), in declaration order:
//!
//! ```text
//! named_parameters  = a's parameters named "a.<name>", then b's "b.<name>", …
//! named_buffers     = the same walk over buffers ("bn.running_mean")
//! set_training(t)   = a.set_training(t); b.set_training(t); …
//! forward(x)        = Self::forward(self, x)   (the struct's inherent method)
//! ```
//!
//! Each field is visited through `tapegrad_models::submodule::Submodule`, whose impls decide
//! what a field of each type contributes, with no looking at type names:
//!
//! | field type | names | torch |
//! |---|---|---|
//! | any `M: Module<F>` (a layer, a derived struct, `Box<dyn Module<F>>`) | `field.weight`, … | a child module |
//! | `Param<F>` | `field` | `nn.Parameter` |
//! | `Vec<M>` | `field.0.weight`, `field.1.weight`, … | `nn.ModuleList` |
//! | `Option<M>` | as `M` when `Some`, nothing when `None` | an attribute set to `None` |
//!
//! A tuple struct names its fields `0`, `1`, … like `nn.Sequential` (and tapegrad's
//! `Sequential`): `struct Residual<F: Float>(Linear<F>, Linear<F>)` lists `0.weight`,
//! `0.bias`, `1.weight`, `1.bias`. A field whose type is none of these (a `usize`, a
//! config struct) is a compile error saying so, until it is marked `#[module(skip)]`.
//!
//! ## The forward pass: an inherent method
//!
//! The trait's `forward` cannot be derived, since it is the model. The derive writes it as a
//! call to `Self::forward(self, x)`, and Rust resolves a path like that to the type's own
//! (inherent) `fn forward(&self, x: &Tensor<F>) -> Tensor<F>` before the trait's. So the
//! user writes the forward pass once, as a plain method, and calls it as `net.forward(&x)`;
//! code that only knows `dyn Module<F>` (a `Sequential`, `io::save`, a training loop) goes
//! through the trait into the same method. The layers that implement `Module` by hand are
//! untouched: the derive is only a way to write that impl. (The other design, moving
//! `forward` into a trait of its own that the derive requires, would have made every
//! hand-written layer implement two traits instead of one.)
//!
//! If the inherent method is missing, `Self::forward` *is* the generated method, which would
//! call itself forever. The generated method carries `#[deny(unconditional_recursion)]`, so
//! instead of a stack overflow at run time the build fails with "function cannot return
//! without recursing", pointing at the struct's name:
//!
//! ```compile_fail
//! use tapegrad_models::module::{Linear, Module};
//! use tapegrad_tensor::Float;
//!
//! #[derive(Module)]
//! struct Head<F: Float> {
//!     fc: Linear<F>,
//! } // no `impl<F: Float> Head<F> { fn forward(..) }`
//! ```
//!
//! To call a method of another name, write `#[module(forward = run)]` on the struct (a
//! one-word path is a method of `Self`; a longer one, such as `self::forward_head`, is any
//! function taking `(&Self, &Tensor<F>)`).
//!
//! ## The float type
//!
//! The impl is `Module<F>` for the type parameter bounded by `Float` (`struct Net<F: Float>`
//! or `where F: Float`). A struct with no such parameter, or with two, names its type:
//! `#[module(float = f32)]` on `struct Net { fc: Linear<f32> }` gives `Module<f32>`. Other
//! generics and where-clauses are copied onto the impl as they are, so a
//! `struct Net<F: Float, B> where B: Module<F> { body: B, … }` works.
//!
//! ## Attributes
//!
//! | where | attribute | meaning |
//! |---|---|---|
//! | field | `#[module(skip)]` | not a layer: left out of every method |
//! | struct | `#[module(float = f64)]` | the float type, when no type parameter is `F: Float` |
//! | struct | `#[module(forward = run)]` | the method `forward` calls |
//! | struct | `#[module(crate = tapegrad::models)]` | the path of `tapegrad_models`, for code that depends on the `tapegrad` facade only |
//!
//! ## Errors
//!
//! Each mistake is a compile error spanned on the struct's name or on the attribute. An enum
//! has no fixed list of parameters (they would depend on the variant):
//!
//! ```compile_fail
//! use tapegrad_models::module::{Linear, Module};
//! #[derive(Module)]
//! enum Head {
//!     Small(Linear<f32>),
//!     Large(Linear<f32>),
//! }
//! ```
//!
//! A unit struct has nothing to list (implement `Module` by hand, as `Flatten` does):
//!
//! ```compile_fail
//! use tapegrad_models::module::Module;
//! #[derive(Module)]
//! #[module(float = f32)]
//! struct Identity;
//! ```
//!
//! A field that is not a module, a parameter or a `Vec` or `Option` of them, without
//! `#[module(skip)]`:
//!
//! ```compile_fail
//! use tapegrad_models::module::{Linear, Module};
//! use tapegrad_tensor::{Float, Tensor};
//! #[derive(Module)]
//! struct Head<F: Float> {
//!     fc: Linear<F>,
//!     width: usize, // error: `usize` is not a module, a parameter, or a Vec or Option of them
//! }
//! impl<F: Float> Head<F> {
//!     fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
//!         self.fc.forward(x)
//!     }
//! }
//! ```
//!
//! A struct whose float type cannot be found:
//!
//! ```compile_fail
//! use tapegrad_models::module::{Linear, Module};
//! use tapegrad_tensor::Tensor;
//! #[derive(Module)]
//! struct Head {
//!     fc: Linear<f32>, // needs #[module(float = f32)] on the struct
//! }
//! impl Head {
//!     fn forward(&self, x: &Tensor<f32>) -> Tensor<f32> {
//!         self.fc.forward(x)
//!     }
//! }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod expand;
mod options;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Implements `tapegrad_models::module::Module` for a struct from its fields: parameters and
/// buffers named `field.name` in declaration order, `set_training` passed to every field, and
/// `forward` calling the struct's inherent `forward` method. See the [crate docs](crate) for
/// the rules, the attributes (`#[module(skip)]`, `#[module(float = f32)]`,
/// `#[module(forward = method)]`, `#[module(crate = path)]`) and the errors.
#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

#[cfg(test)]
mod tests;
