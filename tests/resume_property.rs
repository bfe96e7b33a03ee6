//! Property: whatever subset of tasks a journal records done, `--resume` runs exactly the
//! complement.

mod common;
use common::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

const SPEC: &str = "seed = 5\nreplicates = 4\n[model]\nname = \"spin\"\n[params]\nmicros = [0, 1, 2]\n";

/// Task ids recorded by the journal lines of the last run (after its header). Every line
/// must parse: these journals are written by runs that were not killed.
fn last_run_tasks(journal: &str) -> BTreeSet<String> {
    let mut tasks = BTreeSet::new();
    for line in journal.lines().filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        match v["t"].as_str() {
            Some(t) => {
                tasks.insert(t.to_string());
            }
            None => tasks.clear(), // a run's header
        }
    }
    tasks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn resume_runs_exactly_the_complement(mask in proptest::collection::vec(any::<bool>(), 12)) {
        let env = Env::with("s.toml", SPEC);
        env.succeeds(&["run", "s.toml", "-q", "--out", "full"]);
        let journal = env.read("full/journal.jsonl");
        let mut lines = journal.lines();
        let header = lines.next().unwrap();
        let records: Vec<&str> = lines.collect();
        prop_assert_eq!(records.len(), 12);
        let kept: Vec<&str> = records.iter().zip(&mask).filter(|(_, m)| **m).map(|(l, _)| *l).collect();
        let all: BTreeSet<String> = last_run_tasks(&journal);
        // A sweep whose journal holds only `kept`.
        let part = header.to_string() + "\n" + &kept.join("\n") + "\n";
        let done: BTreeSet<String> = last_run_tasks(&part);
        std::fs::create_dir(env.path("part")).unwrap();
        for f in ["spec.toml", "manifest.json"] {
            std::fs::copy(env.path("full").join(f), env.path("part").join(f)).unwrap();
        }
        std::fs::write(env.path("part/journal.jsonl"), part).unwrap();
        env.succeeds(&["run", "s.toml", "-q", "--out", "part", "--resume"]);
        let ran = last_run_tasks(&env.read("part/journal.jsonl"));
        let complement: BTreeSet<String> = all.difference(&done).cloned().collect();
        prop_assert_eq!(ran, complement);
        prop_assert_eq!(without_columns(&env.read("part/results.csv"), &["seconds"]), without_columns(&env.read("full/results.csv"), &["seconds"]));
    }
}
