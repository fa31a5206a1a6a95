//! How a model built from named fields lists its parameters: the [`Submodule`] trait.
//!
//! A PyTorch model is a class whose attributes are layers: `self.conv1 = nn.Conv2d(...)`
//! registers a child, and `state_dict()` names the child's tensors after the attribute,
//! `conv1.weight` and `conv1.bias`. In tapegrad the same model is a struct whose fields are
//! layers, and `#[derive(Module)]` writes the walk over those fields. Each field asks
//! [`Submodule`] for its names with the field's name as the prefix. What a field contributes
//! depends on its type:
//!
//! | field | parameters listed | torch's counterpart |
//! |---|---|---|
//! | `conv1: Conv2d<F>` (any [`Module`]) | `conv1.weight`, `conv1.bias` | `self.conv1 = nn.Conv2d(…)` |
//! | `scale: Param<F>` | `scale` | `self.scale = nn.Parameter(…)` |
//! | `blocks: Vec<Linear<F>>` | `blocks.0.weight`, `blocks.1.weight`, … | `nn.ModuleList` |
//! | `taps: Vec<Param<F>>` | `taps.0`, `taps.1`, … | `nn.ParameterList` |
//! | `head: Option<Linear<F>>` | `head.weight`, … when `Some`, nothing when `None` | `self.head = None` |
//! | `body: Box<dyn Module<F>>` | what the boxed module lists, prefixed | any child |
//!
//! Buffers follow the same rule (`bn.running_mean`), and
//! [`propagate_training`](Submodule::propagate_training) passes
//! [`set_training`](Module::set_training) down to every module inside the field.
//!
//! ```
//! use tapegrad_models::module::{Linear, Submodule};
//! use tapegrad_tensor::Param;
//! let blocks = vec![Linear::<f32>::new(2, 2, 0), Linear::new(2, 1, 1)];
//! let mut named: Vec<(String, Param<f32>)> = Vec::new();
//! Submodule::<f32, _>::collect_parameters(&blocks, "blocks", &mut named);
//! let names: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
//! assert_eq!(names, ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]);
//! ```
//!
//! # Why the second type parameter
//!
//! The natural impls would be "every `M: Module<F>`" and "`Param<F>`". Rust refuses that pair
//! (error E0119): another crate could one day implement `Module` for `Param<MyFloat>`, and
//! then `Param<MyFloat>` would have two impls. So each impl names a different *kind*, an
//! empty marker type ([`ModuleKind`], [`ParamKind`], [`VecKind`], [`OptionKind`]), and the
//! impls no longer overlap: they implement different traits, `Submodule<F, ModuleKind>` and
//! `Submodule<F, ParamKind>`. A caller writes `_` for the kind,
//! `Submodule::<F, _>::collect_parameters(&self.conv1, …)`, and the compiler picks the one
//! impl that fits the field's type. Bevy's `IntoSystem<In, Out, Marker>` uses the same trick.
//! Nobody implements `Submodule` by hand: implement [`Module`] and every field kind follows.

use std::marker::PhantomData;

use tapegrad_tensor::{Float, Param};

use crate::buffer::Buffer;
use crate::module::Module;
use crate::rng::SharedRng;

/// A field of a model: a module, a parameter, or a `Vec` or `Option` of them, listed under a
/// prefix (the field's name). See the [module docs](self) for what each kind lists and why
/// `Kind` exists; callers write `_` for it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a module, a parameter, or a Vec or Option of them",
    label = "this field has no parameters to list",
    note = "a field holding a hyperparameter or other state takes #[module(skip)]"
)]
pub trait Submodule<F: Float, Kind> {
    /// Appends this field's parameters to `named`, each name prefixed with `prefix` and a
    /// dot (`conv1.weight`); a parameter itself is named `prefix`.
    fn collect_parameters(&self, prefix: &str, named: &mut Vec<(String, Param<F>)>);

    /// Appends this field's buffers to `named`, named as
    /// [`collect_parameters`](Self::collect_parameters) names parameters.
    fn collect_buffers(&self, prefix: &str, named: &mut Vec<(String, Buffer<F>)>);

    /// Appends this field's random generators to `named` (dropout's), named as
    /// [`collect_parameters`](Self::collect_parameters) names parameters.
    fn collect_rngs(&self, prefix: &str, named: &mut Vec<(String, SharedRng)>);

    /// Calls [`Module::set_training`] on every module in this field (nothing for a
    /// parameter).
    fn propagate_training(&mut self, training: bool);
}

/// The kind of a field that is a [`Module`] (a layer, a derived model, a
/// `Box<dyn Module<F>>`).
#[derive(Debug)]
pub enum ModuleKind {}

/// The kind of a field that is a [`Param`].
#[derive(Debug)]
pub enum ParamKind {}

/// The kind of a `Vec` whose elements are of kind `K`.
#[derive(Debug)]
pub struct VecKind<K>(PhantomData<K>);

/// The kind of an `Option` whose content is of kind `K`.
#[derive(Debug)]
pub struct OptionKind<K>(PhantomData<K>);

/// `prefix.name`, or `name` alone under an empty prefix.
fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

impl<F: Float, M: Module<F>> Submodule<F, ModuleKind> for M {
    fn collect_parameters(&self, prefix: &str, named: &mut Vec<(String, Param<F>)>) {
        named.extend(
            self.named_parameters()
                .into_iter()
                .map(|(name, p)| (join(prefix, &name), p)),
        );
    }

    fn collect_buffers(&self, prefix: &str, named: &mut Vec<(String, Buffer<F>)>) {
        named.extend(
            self.named_buffers()
                .into_iter()
                .map(|(name, b)| (join(prefix, &name), b)),
        );
    }

    fn collect_rngs(&self, prefix: &str, named: &mut Vec<(String, SharedRng)>) {
        named.extend(
            self.named_rngs()
                .into_iter()
                .map(|(name, r)| (join(prefix, &name), r)),
        );
    }

    fn propagate_training(&mut self, training: bool) {
        self.set_training(training);
    }
}

impl<F: Float> Submodule<F, ParamKind> for Param<F> {
    fn collect_parameters(&self, prefix: &str, named: &mut Vec<(String, Param<F>)>) {
        named.push((prefix.to_string(), self.clone()));
    }

    fn collect_buffers(&self, _prefix: &str, _named: &mut Vec<(String, Buffer<F>)>) {}

    fn collect_rngs(&self, _prefix: &str, _named: &mut Vec<(String, SharedRng)>) {}

    fn propagate_training(&mut self, _training: bool) {}
}

impl<F: Float, K, M: Submodule<F, K>> Submodule<F, VecKind<K>> for Vec<M> {
    fn collect_parameters(&self, prefix: &str, named: &mut Vec<(String, Param<F>)>) {
        for (i, item) in self.iter().enumerate() {
            item.collect_parameters(&join(prefix, &i.to_string()), named);
        }
    }

    fn collect_buffers(&self, prefix: &str, named: &mut Vec<(String, Buffer<F>)>) {
        for (i, item) in self.iter().enumerate() {
            item.collect_buffers(&join(prefix, &i.to_string()), named);
        }
    }

    fn collect_rngs(&self, prefix: &str, named: &mut Vec<(String, SharedRng)>) {
        for (i, item) in self.iter().enumerate() {
            item.collect_rngs(&join(prefix, &i.to_string()), named);
        }
    }

    fn propagate_training(&mut self, training: bool) {
        for item in self {
            item.propagate_training(training);
        }
    }
}

impl<F: Float, K, M: Submodule<F, K>> Submodule<F, OptionKind<K>> for Option<M> {
    fn collect_parameters(&self, prefix: &str, named: &mut Vec<(String, Param<F>)>) {
        if let Some(item) = self {
            item.collect_parameters(prefix, named);
        }
    }

    fn collect_buffers(&self, prefix: &str, named: &mut Vec<(String, Buffer<F>)>) {
        if let Some(item) = self {
            item.collect_buffers(prefix, named);
        }
    }

    fn collect_rngs(&self, prefix: &str, named: &mut Vec<(String, SharedRng)>) {
        if let Some(item) = self {
            item.collect_rngs(prefix, named);
        }
    }

    fn propagate_training(&mut self, training: bool) {
        if let Some(item) = self {
            item.propagate_training(training);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::{BatchNorm2d, Dropout, Linear};
    use tapegrad_tensor::Tensor;

    fn parameter_names<K>(field: &impl Submodule<f64, K>, prefix: &str) -> Vec<String> {
        let mut named = Vec::new();
        field.collect_parameters(prefix, &mut named);
        named.into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn each_field_kind_lists_its_names_under_the_prefix() {
        let scale = Param::<f64>::new("scale", ndarray::ArrayD::zeros(vec![1]));
        assert_eq!(parameter_names(&scale, "scale"), ["scale"]);
        assert_eq!(
            parameter_names(&Linear::<f64>::zeros(2, 1), "fc"),
            ["fc.weight", "fc.bias"]
        );
        assert_eq!(
            parameter_names(&Linear::<f64>::zeros(2, 1), ""),
            ["weight", "bias"]
        );
        let taps = vec![scale.clone(), scale.clone()];
        assert_eq!(parameter_names(&taps, "taps"), ["taps.0", "taps.1"]);
        let grid = vec![vec![Linear::<f64>::zeros(1, 1)], vec![]];
        assert_eq!(
            parameter_names(&grid, "grid"),
            ["grid.0.0.weight", "grid.0.0.bias"]
        );
        assert!(parameter_names(&None::<Linear<f64>>, "head").is_empty());
        assert_eq!(parameter_names(&Some(scale), "gain"), ["gain"]);
        let boxed: Box<dyn Module<f64>> = Box::new(Linear::zeros(1, 1));
        assert_eq!(
            parameter_names(&boxed, "body"),
            ["body.weight", "body.bias"]
        );
    }

    #[test]
    fn buffers_and_training_reach_modules_inside_containers() {
        let norms = vec![BatchNorm2d::<f64>::new(2)];
        let mut named = Vec::new();
        norms.collect_buffers("norms", &mut named);
        let names: Vec<String> = named.into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "norms.0.running_mean",
                "norms.0.running_var",
                "norms.0.num_batches_tracked"
            ]
        );
        let mut dropout = Some(vec![Box::new(Dropout::new(0.5, 1)) as Box<dyn Module<f64>>]);
        let x = Tensor::<f64>::ones(&[4, 8]);
        let run = |d: &Option<Vec<Box<dyn Module<f64>>>>| d.as_ref().unwrap()[0].forward(&x);
        assert_ne!(run(&dropout).to_vec(), x.to_vec(), "training mode drops");
        Submodule::<f64, _>::propagate_training(&mut dropout, false);
        assert_eq!(
            run(&dropout).to_vec(),
            x.to_vec(),
            "evaluation is the identity"
        );
    }
}
