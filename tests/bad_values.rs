//! Values out of range get a clear message and exit 2, and commands given a directory that
//! holds no sweep exit 2 (#24, the smaller items).

mod common;
use common::*;

fn spec_with(line: &str, params: &str) -> Env {
    Env::with("s.toml", &format!("{line}\n[command]\nargv = [\"true\"]\n[params]\n{params}\n"))
}

#[test]
fn replicates_of_2_to_the_32_names_the_limit_instead_of_at_least_1() {
    let env = spec_with("replicates = 4294967296", "x = [1]");
    let err = env.fails(&["run", "s.toml", "--dry-run"], 2);
    assert!(err.contains("`replicates` = 4294967296 is more than the 4294967295 replicates a point may have"), "{err}");
    assert!(err.contains("s.toml:1:14"), "{err}");
}

#[test]
fn a_seed_of_2_to_the_64_says_it_is_beyond_64_bits_not_a_garbled_message() {
    let env = spec_with("seed = 18446744073709551616", "x = [1]");
    let err = env.fails(&["run", "s.toml", "--dry-run"], 2);
    assert!(err.contains("`seed` = 18446744073709551616 is beyond the 64-bit integers TOML allows"), "{err}");
    assert!(!err.contains("as i128"), "{err}");
}

#[test]
fn a_logspace_beyond_the_largest_float_is_refused_instead_of_giving_inf() {
    let env = spec_with("", "x = { logspace = [0, 400, 5] }");
    let err = env.fails(&["run", "s.toml", "--dry-run"], 2);
    assert!(err.contains("logspace gives 10^400, beyond the largest float"), "{err}");
}

#[test]
fn plot_and_report_of_a_missing_directory_exit_2() {
    let env = Env::new();
    let err = env.fails(&["report", "nowhere"], 2);
    assert!(err.contains("nowhere holds no sweep"), "{err}");
    let err = env.fails(&["plot", "nowhere", "--x", "a", "--y", "b"], 2);
    assert!(err.contains("nowhere holds no sweep"), "{err}");
}

#[test]
fn parameters_a_dash_b_and_a_underscore_b_no_longer_share_one_variable() {
    let env = Env::with("p.toml", "[command]\nargv = [\"true\"]\n[params]\na-b = [1]\na_b = [2]\n");
    let err = env.fails(&["run", "p.toml", "--dry-run"], 2);
    assert!(err.contains("the parameters `a-b` and `a_b` would both be the variable SWEEP_PARAM_A_B"), "{err}");
}

#[test]
fn a_parameter_name_with_a_blank_or_equals_sign_is_refused_instead_of_a_literal_placeholder() {
    for name in ["\"a b\"", "\"a=b\""] {
        let env = Env::with("q.toml", &format!("[command]\nargv = [\"echo\"]\n[params]\n{name} = [1]\n"));
        let err = env.fails(&["run", "q.toml", "--dry-run"], 2);
        assert!(err.contains("cannot be written as a placeholder"), "{name}: {err}");
    }
}
