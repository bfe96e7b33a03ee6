//! Snapshots of the message `sweep run` prints for each class of spec error, exactly as a
//! user sees it. The spec is always `grid.toml` in a fresh directory, so paths are stable.
//! After a deliberate change to a message, review the new `.snap.new` files and rename them
//! over the old `.snap` files (or run `cargo insta review`).

mod common;
use common::*;

/// `sweep run grid.toml` on `spec`: asserts exit 2 and that nothing was written, and
/// snapshots stderr (with the spec as the snapshot's description).
macro_rules! spec_error {
    ($name:ident, $spec:expr) => {
        #[test]
        fn $name() {
            let spec: &str = &$spec;
            let env = Env::new();
            env.write("grid.toml", spec);
            let o = env.sweep(&["run", "grid.toml"]).assert().code(2).get_output().clone();
            assert!(!env.path("runs").exists(), "nothing is written on a spec error");
            assert!(o.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&o.stdout));
            insta::with_settings!({ description => spec, omit_expression => true }, {
                insta::assert_snapshot!(stderr(&o));
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
spec_error!(unknown_placeholder, "[command]\nargv = [\"echo\", \"{kk}\"]\n[params]\nk = [1, 2]\n");
spec_error!(bad_timeout, "[command]\nargv = [\"true\"]\ntimeout = \"ten minutes\"\n");
spec_error!(model_check_failure, format!("{HEAD}[params]\nk = [1.0]\nt_final = [1.0, -1.0]\n"));
