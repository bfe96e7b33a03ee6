//! `sweep models [NAME]`.

use crate::cli::ModelsArgs;
use crate::error::Error;
use crate::model::Registry;

pub(super) fn models(a: ModelsArgs, registry: &Registry) -> Result<i32, Error> {
    let Some(name) = a.name else {
        for m in registry.iter() {
            println!("{:<12} {}", m.name(), m.summary());
            let params: Vec<String> = m
                .params()
                .iter()
                .map(|p| match &p.default {
                    Some(d) => format!("{}={d}", p.name),
                    None => format!("{} (required)", p.name),
                })
                .collect();
            println!("{:<12} params:  {}", "", params.join(", "));
            let outs: Vec<&str> = m.metrics().iter().map(|o| o.name).collect();
            println!("{:<12} metrics: {}", "", outs.join(", "));
            let arrays: Vec<&str> = m.arrays().iter().map(|o| o.name).collect();
            if !arrays.is_empty() {
                println!("{:<12} arrays:  {}", "", arrays.join(", "));
            }
            println!();
        }
        println!("`sweep models NAME` describes one model.");
        return Ok(crate::exit::SUCCESS);
    };
    let Some(m) = registry.get(&name) else {
        let names = registry.names();
        let hint = crate::text::did_you_mean(&name, names.iter().map(String::as_str)).unwrap_or_default();
        return Err(Error::Usage(format!("no model `{name}`. {hint} Models: {}", names.join(", "))));
    };
    println!("{} — {}\n", m.name(), m.summary());
    if !m.details().is_empty() {
        println!("{}\n", m.details());
    }
    println!("parameters:");
    for p in m.params() {
        let default = p.default.as_ref().map_or("required".to_string(), |d| format!("default {d}"));
        let unit = if p.unit.is_empty() { String::new() } else { format!(" [{}]", p.unit) };
        let choices = if p.choices.is_empty() { String::new() } else { format!(" (one of {})", p.choices.join(", ")) };
        println!("  {:<12} {:<8} {:<18} {}{unit}{choices}", p.name, p.kind.name(), default, p.doc);
    }
    println!("metrics (results.csv columns):");
    for o in m.metrics() {
        let unit = if o.unit.is_empty() { String::new() } else { format!(" [{}]", o.unit) };
        println!("  {:<14} {}{unit}", o.name, o.doc);
    }
    let arrays = m.arrays();
    if !arrays.is_empty() {
        println!("arrays (tasks/<task>/<name>.npy; choose with `save = [...]` in [model]):");
        for o in arrays {
            let unit = if o.unit.is_empty() { String::new() } else { format!(" [{}]", o.unit) };
            println!("  {:<14} {}{unit}", o.name, o.doc);
        }
    }
    Ok(crate::exit::SUCCESS)
}
