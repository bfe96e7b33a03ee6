//! Every class of spec error names the file, line and column, shows the offending text,
//! exits 2 and writes nothing.

mod common;
use common::*;

/// Runs `spec` and returns stderr, asserting exit 2 and that nothing was written.
fn error_of(spec: &str) -> String {
    let env = Env::new();
    env.write("bad.toml", spec);
    let o = env.sweep(&["run", "bad.toml"]).assert().code(2).get_output().clone();
    assert!(!env.path("runs").exists(), "nothing is written on a spec error");
    stderr(&o)
}

fn check(spec: &str, line: usize, needles: &[&str]) {
    let err = error_of(spec);
    assert!(err.contains(&format!("bad.toml:{line}:")), "line {line} not named:\n{err}");
    assert!(err.contains('^'), "no caret under the span:\n{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` missing from:\n{err}");
    }
}

const HEAD: &str = "[model]\nname = \"reaction\"\n";

#[test]
fn unknown_top_level_key() {
    check("seeed = 3\n[model]\nname = \"spin\"\n", 1, &["unknown key `seeed`", "did you mean `seed`?"]);
}

#[test]
fn unknown_model() {
    check("[model]\nname = \"reactoin\"\n", 2, &["unknown model `reactoin`", "did you mean `reaction`?"]);
}

#[test]
fn unknown_model_parameter() {
    check(
        &format!("{HEAD}t_finl = 3.0\n[params]\nk = [1.0]\n"),
        3,
        &["has no parameter `t_finl`", "did you mean `t_final`?"],
    );
}

#[test]
fn unknown_swept_parameter() {
    check(&format!("{HEAD}[params]\nkk = [1.0]\n"), 4, &["has no parameter `kk`", "did you mean `k`?"]);
}

#[test]
fn missing_required_parameter() {
    check(HEAD, 1, &["needs parameter `k`"]);
}

#[test]
fn wrong_type() {
    check(
        &format!("{HEAD}t_final = \"ten\"\n[params]\nk = [1.0]\n"),
        3,
        &["`t_final` is a float, not the string \"ten\""],
    );
    check(&format!("{HEAD}[params]\nk = [1.0]\nsolver = \"rk5\"\n"), 5, &["one of rk45, rk4", "did you mean `rk45`?"]);
    check("seed = \"x\"\n[model]\nname = \"spin\"\n", 1, &["`seed` must be an integer", "seed = 42"]);
}

#[test]
fn empty_list() {
    check(&format!("{HEAD}[params]\nk = []\n"), 4, &["empty list", "zero-length"]);
}

#[test]
fn zero_length_range() {
    check(&format!("{HEAD}[params]\nk = {{ linspace = [0.0, 1.0, 0] }}\n"), 4, &["zero-length"]);
    check("[model]\nname = \"spin\"\n[params]\nmicros = { range = [5, 5] }\n", 4, &["is empty"]);
}

#[test]
fn duplicate_names() {
    check(&format!("{HEAD}[params]\nk = [1.0]\nk = [2.0]\n"), 5, &["duplicate key `k`", "line 4 sets it first"]);
    check(
        &format!("{HEAD}t_final = 5.0\n[params]\nk = [1.0]\nt_final = [1.0, 2.0]\n"),
        6,
        &["both fixed in [model] and swept"],
    );
}

#[test]
fn bad_zip() {
    check(
        "zip = [[\"micros\", \"array_len\"]]\n[model]\nname = \"spin\"\n[params]\nmicros = [1, 2]\narray_len = [1]\n",
        1,
        &["different lengths"],
    );
    check(
        "zip = [[\"micros\", \"nope\"]]\n[model]\nname = \"spin\"\n[params]\nmicros = [1, 2]\n",
        1,
        &["`nope`, which is not in [params]"],
    );
}

#[test]
fn unknown_placeholder() {
    check(
        "[command]\nargv = [\"echo\", \"{kk}\"]\n[params]\nk = [1, 2]\n",
        2,
        &["unknown placeholder `{kk}`", "did you mean `k`?"],
    );
}

#[test]
fn bad_timeout() {
    check("[command]\nargv = [\"true\"]\ntimeout = \"ten minutes\"\n", 3, &["not a duration"]);
    check("[command]\nargv = [\"true\"]\ntimeout = \"10 minuts\"\n", 3, &["unknown unit `minuts`", "3:15"]);
}

#[test]
fn invalid_model_values_are_spec_errors() {
    // The caret is under the parameter the model's message names.
    check(&format!("{HEAD}[params]\nk = [1.0]\nt_final = [1.0, -1.0]\n"), 5, &["t_final must be > 0", "t_final=-1"]);
    check(&format!("{HEAD}k = 1.0\nt_final = -1.0\n"), 4, &["t_final must be > 0", "4 | t_final = -1.0"]);
}

#[test]
fn a_missing_spec_file_is_a_usage_error() {
    let env = Env::new();
    let o = env.sweep(&["run", "nope.toml"]).assert().code(2).get_output().clone();
    assert!(stderr(&o).contains("cannot read the spec"), "{}", stderr(&o));
}
