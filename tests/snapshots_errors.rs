//! Snapshots of the message `sweep run` prints for each class of spec error, exactly as a
//! user sees it: the file, line and column, the offending text with a caret under it, and
//! the help. The spec is always `grid.toml` in a fresh directory, so paths are stable.
//! Every case also exits 2, prints nothing on stdout and writes nothing.
//! After a deliberate change to a message, review the new `.snap.new` files and rename them
//! over the old `.snap` files (or run `cargo insta review`).

mod common;
use common::*;

/// `sweep run grid.toml` in a fresh directory holding `spec` as grid.toml (or nothing):
/// asserts exit 2, an empty stdout and that nothing was written; returns stderr.
fn spec_error(spec: Option<&str>) -> String {
    let env = Env::new();
    if let Some(spec) = spec {
        env.write("grid.toml", spec);
    }
    let out = env.exits(&["run", "grid.toml"], 2);
    assert!(!env.path("runs").exists(), "nothing is written on a spec error");
    assert!(out.stdout.is_empty(), "stdout: {}", out.stdout);
    out.stderr
}

/// A test snapshotting the error for `spec` (which is the snapshot's description).
macro_rules! spec_error {
    ($name:ident, $spec:expr) => {
        #[test]
        fn $name() {
            let spec: &str = &$spec;
            insta::with_settings!({ description => spec, omit_expression => true }, {
                insta::assert_snapshot!(spec_error(Some(spec)));
            });
        }
    };
}

const HEAD: &str = "[model]\nname = \"reaction\"\n";

spec_error!(unknown_top_level_key, "seeed = 3\n[model]\nname = \"spin\"\n");
spec_error!(unknown_model, "[model]\nname = \"reactoin\"\n");
spec_error!(unknown_model_parameter, format!("{HEAD}t_finl = 3.0\n[params]\nk = [1.0]\n"));
spec_error!(unknown_swept_parameter, format!("{HEAD}[params]\nkk = [1.0]\n"));
spec_error!(missing_required_parameter, HEAD);
spec_error!(wrong_type, format!("{HEAD}t_final = \"ten\"\n[params]\nk = [1.0]\n"));
spec_error!(wrong_type_of_top_level_key, "seed = \"x\"\n[model]\nname = \"spin\"\n");
spec_error!(bad_choice, format!("{HEAD}[params]\nk = [1.0]\nsolver = \"rk5\"\n"));
spec_error!(empty_list, format!("{HEAD}[params]\nk = []\n"));
spec_error!(zero_length_linspace, format!("{HEAD}[params]\nk = {{ linspace = [0.0, 1.0, 0] }}\n"));
spec_error!(empty_range, "[model]\nname = \"spin\"\n[params]\nmicros = { range = [5, 5] }\n");
spec_error!(duplicate_key, format!("{HEAD}[params]\nk = [1.0]\nk = [2.0]\n"));
spec_error!(fixed_and_swept, format!("{HEAD}t_final = 5.0\n[params]\nk = [1.0]\nt_final = [1.0, 2.0]\n"));
spec_error!(
    bad_zip_length,
    "zip = [[\"micros\", \"array_len\"]]\n[model]\nname = \"spin\"\n[params]\nmicros = [1, 2]\narray_len = [1]\n"
);
spec_error!(zip_unknown_name, "zip = [[\"micros\", \"nope\"]]\n[model]\nname = \"spin\"\n[params]\nmicros = [1, 2]\n");
spec_error!(
    common_seed_unknown_name,
    "common_seed = [\"methd\"]\n[command]\nargv = [\"true\"]\n[params]\nmethod = [\"a\", \"b\"]\nn = [1, 2]\n"
);
spec_error!(
    common_seed_replicate,
    "common_seed = [\"replicate\"]\nreplicates = 3\n[command]\nargv = [\"true\"]\n[params]\nmethod = [\"a\", \"b\"]\n"
);
spec_error!(unknown_placeholder, "[command]\nargv = [\"echo\", \"{kk}\"]\n[params]\nk = [1, 2]\n");
spec_error!(bad_timeout, "[command]\nargv = [\"true\"]\ntimeout = \"ten minutes\"\n");
spec_error!(unknown_duration_unit, "[command]\nargv = [\"true\"]\ntimeout = \"10 minuts\"\n");
// The caret is under the parameter the model's message names, swept or fixed.
spec_error!(model_check_failure, format!("{HEAD}[params]\nk = [1.0]\nt_final = [1.0, -1.0]\n"));
spec_error!(model_check_failure_of_a_fixed_value, format!("{HEAD}k = 1.0\nt_final = -1.0\n"));

// Adaptive replicates: each class of error points at the key or value to fix.
const FIN: &str = "[model]\nname = \"fin\"\n";
spec_error!(
    adaptive_min_above_max,
    format!("replicates = {{ min = 10, max = 5, until = {{ metric = \"mean\", ci95_rel = 0.01 }} }}\n{FIN}")
);
spec_error!(
    adaptive_min_below_two,
    format!("replicates = {{ min = 1, max = 50, until = {{ metric = \"mean\", ci95_rel = 0.01 }} }}\n{FIN}")
);
spec_error!(
    adaptive_unknown_metric,
    format!("replicates = {{ min = 5, max = 50, until = {{ metric = \"avg\", ci95_rel = 0.01 }} }}\n{FIN}")
);
spec_error!(
    adaptive_unknown_key,
    format!("replicates = {{ min = 5, maxx = 50, until = {{ metric = \"mean\", ci95_rel = 0.01 }} }}\n{FIN}")
);
spec_error!(
    adaptive_no_target,
    format!("replicates = {{ min = 5, max = 50, until = {{ metric = \"mean\" }} }}\n{FIN}")
);
spec_error!(
    adaptive_two_targets,
    format!(
        "replicates = {{ min = 5, max = 50, until = {{ metric = \"mean\", ci95_rel = 0.01, ci95_abs = 0.1 }} }}\n{FIN}"
    )
);
spec_error!(
    adaptive_bad_target,
    format!("replicates = {{ min = 5, max = 50, until = {{ metric = \"mean\", ci95_abs = 0 }} }}\n{FIN}")
);

#[test]
fn missing_spec_file() {
    insta::with_settings!({ description => "(no grid.toml)", omit_expression => true }, {
        insta::assert_snapshot!(spec_error(None));
    });
}

/// `sweep run grid.toml ARGS` with a valid spec: an error in `--set` or `--where`, which
/// points at the argument as a spec error points at the file. Exit 2, nothing written.
fn arg_error(args: &[&str]) -> String {
    let env = Env::with("grid.toml", &format!("{HEAD}t_final = 1.0\n[params]\nk = [0.1, 0.2]\nc0 = [0.5, 1.0]\n"));
    let out = env.exits(&[&["run", "grid.toml"][..], args].concat(), 2);
    assert!(!env.path("runs").exists(), "nothing is written on an argument error");
    out.stderr
}

/// A test snapshotting the error for `args` (which are the snapshot's description).
macro_rules! arg_error {
    ($name:ident, $($arg:expr),+) => {
        #[test]
        fn $name() {
            let args = [$($arg),+];
            insta::with_settings!({ description => args.join(" "), omit_expression => true }, {
                insta::assert_snapshot!(arg_error(&args));
            });
        }
    };
}

arg_error!(set_unknown_key, "--set", "model.t_finl=5");
arg_error!(set_not_toml, "--set", "params.c0=[0.5, 1.0");
arg_error!(set_wrong_type, "--set", "replicates=\"three\"");
arg_error!(set_missing_table, "--set", "python.timeout=5s");
arg_error!(where_unknown_name, "--where", "c1 == 1.0");
arg_error!(where_value_no_task_has, "--where", "c0 == 1.5 and k < 0.2");
arg_error!(where_malformed, "--where", "k < 0.2 && c0 = 1.0");

// [sample]: the design's ranges and size.
spec_error!(sample_unknown_method, format!("{HEAD}[sample]\nmethod = \"sobl\"\nn = 8\nk = [0.1, 1.0]\n"));
spec_error!(sample_lo_not_below_hi, format!("{HEAD}[sample]\nmethod = \"sobol\"\nn = 8\nk = [1.0, 0.1]\n"));
spec_error!(
    sample_log_range_through_zero,
    format!("{HEAD}[sample]\nmethod = \"lhs\"\nn = 8\nk = {{ log = [0.0, 1.0] }}\n")
);
spec_error!(
    sample_int_bounds_not_integers,
    "[model]\nname = \"spin\"\n[sample]\nmethod = \"lhs\"\nn = 8\nmicros = { int = [0.5, 9] }\n"
);
spec_error!(sample_no_points, format!("{HEAD}[sample]\nmethod = \"random\"\nn = 0\nk = [0.1, 1.0]\n"));
