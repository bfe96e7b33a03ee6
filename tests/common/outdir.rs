//! Fake sweep out directories (manifest.json, spec.toml, results.csv) for the report
//! tests and the report bench.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

/// Writes manifest.json, spec.toml and a header for results.csv with parameters
/// `params` (name, values) and metrics `metrics`; returns the CSV text so far.
fn header(dir: &Path, name: &str, params: &[(&str, Vec<String>)], metrics: &[&str], replicates: usize) -> String {
    let tasks: usize = params.iter().map(|(_, v)| v.len()).product::<usize>() * replicates;
    let columns: Vec<_> = params.iter().map(|(n, _)| format!("\"{n}\"")).collect();
    let axes: Vec<_> = params.iter().map(|(n, v)| format!("{{\"names\":[\"{n}\"],\"len\":{}}}", v.len())).collect();
    let manifest = format!(
        "{{\"format\":1,\"name\":\"{name}\",\"tool_version\":\"0.1.0\",\"spec_hash\":\"ab12\",\
         \"created\":\"2026-11-22T03:10:00Z\",\"updated\":\"2026-11-22T03:20:00Z\",\"kind\":\"model\",\
         \"model\":\"reaction\",\"seed\":42,\"replicates\":{replicates},\"columns\":[{}],\"axes\":[{}],\
         \"tasks\":{tasks},\"fixed\":{{\"t_final\":10.0}}}}",
        columns.join(","),
        axes.join(",")
    );
    std::fs::write(dir.join("manifest.json"), manifest).unwrap();
    let mut spec = format!("name = \"{name}\"\nmodel = \"reaction\"\n# a <comment> & more\n[params]\n");
    for (n, v) in params {
        let _ = writeln!(spec, "{n} = [{}]", v.join(", "));
    }
    std::fs::write(dir.join("spec.toml"), spec).unwrap();
    let mut csv = String::from("task,replicate,seed,");
    for (n, _) in params {
        let _ = write!(csv, "{n},");
    }
    csv.push_str("status,attempts,seconds,");
    for m in metrics {
        let _ = write!(csv, "{m},");
    }
    csv.push_str("class,error\n");
    csv
}

/// A small sweep: k (5 values) x c0 (3) x solver (2 strings) x 2 replicates = 60 rows;
/// 8 failed with two messages (5 + 3), 10 pending, 42 done. Metrics: conc, steps,
/// label (a string).
pub fn small(dir: &Path) {
    let k: Vec<String> = ["0.1", "0.2", "0.5", "1", "2"].iter().map(|s| s.to_string()).collect();
    let c0: Vec<String> = ["1", "2", "3"].iter().map(|s| s.to_string()).collect();
    let solver: Vec<String> = ["euler", "rk4"].iter().map(|s| s.to_string()).collect();
    let params = [("k", k.clone()), ("c0", c0.clone()), ("solver", solver.clone())];
    let mut csv = header(dir, "reaction <test>", &params, &["conc", "steps", "label"], 2);
    let mut i = 0;
    for kv in &k {
        for cv in &c0 {
            for sv in &solver {
                for r in 0..2 {
                    let (status, rest) = if i >= 50 {
                        ("pending", ",,,,,".to_string())
                    } else if i % 10 == 3 {
                        ("failed", "0.5,,,,error,\"diverged at t=3, <bad>\"".to_string())
                    } else if i % 10 == 7 && i < 30 {
                        ("failed", ",,,,timeout,timed out after 10s".to_string())
                    } else {
                        let kf: f64 = kv.parse().unwrap();
                        let cf: f64 = cv.parse().unwrap();
                        let conc = cf * (-kf).exp() + 0.01 * r as f64;
                        ("done", format!("{},{conc},{},ok,,", 0.1 + i as f64 * 0.01, 100 + i))
                    };
                    let _ = writeln!(csv, "t{i:04},{r},{},{kv},{cv},{sv},{status},1,{rest}", 1000 + i);
                    i += 1;
                }
            }
        }
    }
    std::fs::write(dir.join("results.csv"), csv).unwrap();
}

/// A large sweep: k (`nk` values) x c0 (`nc` values) x 5 replicates, all done but
/// every 97th failed; metrics a, b, c.
pub fn large(dir: &Path, nk: usize, nc: usize) {
    let k: Vec<String> = (0..nk).map(|i| format!("{}", 0.01 * (i + 1) as f64)).collect();
    let c0: Vec<String> = (0..nc).map(|i| format!("{}", i + 1)).collect();
    let params = [("k", k.clone()), ("c0", c0.clone())];
    let mut csv = header(dir, "large", &params, &["a", "b", "c"], 5);
    let mut i = 0usize;
    for kv in &k {
        for cv in &c0 {
            for r in 0..5 {
                if i % 97 == 5 {
                    let _ = writeln!(csv, "t{i},{r},{i},{kv},{cv},failed,3,,,,,panic,message {}", i % 3);
                } else {
                    let x = (i as f64 * 0.618).sin();
                    let (a, b, c) = (x, x * x + r as f64, i % 7);
                    let _ = writeln!(csv, "t{i},{r},{i},{kv},{cv},done,1,{},{a},{b},{c},,", 0.5 + x.abs());
                }
                i += 1;
            }
        }
    }
    std::fs::write(dir.join("results.csv"), csv).unwrap();
}
