//! The derive as a function from a syntax tree to tokens: every error message worded as the
//! user will read it, and the shape of the code written for each kind of struct. (That the
//! code compiles and lists the right names is `tapegrad-models`' `tests/derive_module.rs`.)

use syn::{parse_quote, DeriveInput};

use crate::expand::derive;

/// The message of the error `derive` returns for `input`.
fn error(input: DeriveInput) -> String {
    match derive(&input) {
        Ok(tokens) => panic!("expected an error, got {tokens}"),
        Err(e) => e.to_string(),
    }
}

/// The written impl, as one string with token spacing (`self . conv1`).
fn expanded(input: DeriveInput) -> String {
    derive(&input).unwrap().to_string()
}

#[test]
fn enums_unions_and_unit_structs_are_refused_by_name() {
    let e = error(parse_quote!(
        enum Head {
            A(Linear<f32>),
        }
    ));
    assert!(e.contains("`Head` is an enum"), "{e}");
    let e = error(parse_quote!(
        union Bits {
            a: u32,
        }
    ));
    assert!(e.contains("`Bits` is a union"), "{e}");
    let e = error(parse_quote!(
        #[module(float = f32)]
        struct Identity;
    ));
    assert!(e.contains("the unit struct `Identity`"), "{e}");
}

#[test]
fn the_float_type_must_be_found_or_named() {
    let e = error(parse_quote!(
        struct Net {
            fc: Linear<f32>,
        }
    ));
    assert!(e.contains("cannot tell which float `Net`"), "{e}");
    let e = error(parse_quote!(
        struct Net<F: Float, G: num::Float> {
            fc: Linear<F>,
        }
    ));
    assert!(e.contains("`F` and `G` are all bounded by `Float`"), "{e}");
    // In the where-clause, or named outright, it is found.
    let code = expanded(parse_quote!(
        struct Net<T, M>
        where
            T: Copy + tapegrad::Float,
            M: Module<T>,
        {
            body: M,
        }
    ));
    assert!(
        code.contains("Module < T > for Net < T , M > where T : Copy"),
        "{code}"
    );
    let code = expanded(parse_quote!(
        #[module(float = f64)]
        struct Net<M> {
            body: M,
        }
    ));
    assert!(code.contains("Module < f64 > for Net < M >"), "{code}");
}

#[test]
fn misplaced_unknown_or_repeated_options_are_refused() {
    let cases: [(DeriveInput, &str); 6] = [
        (
            parse_quote!(
                #[module(flaot = f32)]
                struct N {
                    a: A,
                }
            ),
            "unknown option `flaot`: on a struct, #[module(...)] takes `float = f32`, \
             `forward = method` or `crate = path`",
        ),
        (
            parse_quote!(
                #[module(skip)]
                struct N<F: Float> {
                    a: A,
                }
            ),
            "#[module(skip)] goes on a field, not on the struct",
        ),
        (
            parse_quote!(
                struct N<F: Float> {
                    #[module(float = f32)]
                    a: A,
                }
            ),
            "#[module(float = ...)] goes on the struct, not on a field",
        ),
        (
            parse_quote!(
                struct N<F: Float> {
                    #[module(skp)]
                    a: A,
                }
            ),
            "unknown option `skp`: on a field, #[module(...)] takes only `skip`",
        ),
        (
            parse_quote!(
                #[module(forward = a)]
                #[module(forward = b)]
                struct N<F: Float> {
                    a: A,
                }
            ),
            "#[module(forward = ...)] is given twice",
        ),
        (
            parse_quote!(
                #[module(float)]
                struct N {
                    a: A,
                }
            ),
            "expected `=`",
        ),
    ];
    for (input, message) in cases {
        assert_eq!(error(input), message);
    }
}

#[test]
fn each_field_is_visited_in_order_under_its_name_and_skipped_ones_are_not() {
    let code = expanded(parse_quote!(
        struct Cnn<F: Float> {
            conv1: Conv2d<F>,
            #[module(skip)]
            width: usize,
            r#fc: Linear<F>,
        }
    ));
    let conv1 = code
        .find("collect_parameters (& self . conv1 , \"conv1\"")
        .unwrap();
    let fc = code
        .find("collect_parameters (& self . r#fc , \"fc\"")
        .unwrap();
    assert!(conv1 < fc, "declaration order: {code}");
    assert!(code.contains("propagate_training (& mut self . conv1 , training)"));
    assert!(!code.contains("width"), "{code}");
    assert!(code.contains("Self :: forward (self , x)"));
    assert!(code.contains("deny (unconditional_recursion)"));
    assert!(code.contains(":: tapegrad_models :: module :: Module < F > for Cnn < F >"));
}

#[test]
fn tuple_fields_are_numbered_and_the_options_change_the_paths() {
    let code = expanded(parse_quote!(
        #[module(forward = run, crate = tapegrad::models)]
        struct Pair<F: Float>(Linear<F>, #[module(skip)] usize, Linear<F>);
    ));
    assert!(code.contains("(& self . 0 , \"0\""), "{code}");
    assert!(code.contains("(& self . 2 , \"2\""), "{code}");
    assert!(!code.contains("self . 1"), "{code}");
    assert!(code.contains("Self :: run (self , x)"), "{code}");
    assert!(code.contains("impl < F : Float > tapegrad :: models :: module :: Module < F >"));
    let code = expanded(parse_quote!(
        #[module(forward = crate::heads::run)]
        struct Head<F: Float> {
            fc: Linear<F>,
        }
    ));
    assert!(
        code.contains("{ crate :: heads :: run (self , x) }"),
        "{code}"
    );
}

#[test]
fn a_struct_with_nothing_to_visit_writes_no_unused_bindings() {
    let code = expanded(parse_quote!(
        #[module(float = f32)]
        struct Scale {
            #[module(skip)]
            factor: f32,
        }
    ));
    assert!(
        code.contains("fn set_training (& mut self , _training : bool) { }"),
        "{code}"
    );
    assert!(!code.contains("let mut named"), "{code}");
}
