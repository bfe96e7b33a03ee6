//! `sweep init`: a commented starter spec to edit, runnable as it is; with `--python` a
//! starter model.py beside it, with `--command` a starter sim.py. Nothing that exists is
//! ever overwritten: if any file is there, nothing is written.

use crate::cli::InitArgs;
use crate::error::Error;

pub(super) fn init(a: InitArgs) -> Result<i32, Error> {
    let dir = a.file.parent().filter(|p| !p.as_os_str().is_empty()).map(|p| p.to_path_buf()).unwrap_or_default();
    let (spec, extra): (&str, Option<(&str, &str)>) = if a.python {
        (include_str!("init/python.toml"), Some(("model.py", include_str!("init/model.py"))))
    } else if a.command {
        (include_str!("init/command.toml"), Some(("sim.py", include_str!("init/sim.py"))))
    } else {
        (include_str!("init/model.toml"), None)
    };
    let stem = a.file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "grid".into());
    let spec = spec.replace("grid.toml", &a.file.display().to_string()).replace("runs/grid/", &format!("runs/{stem}/"));
    let mut files = vec![(a.file.clone(), spec)];
    if let Some((name, text)) = extra {
        files.push((dir.join(name), text.to_string()));
    }
    if let Some((path, _)) = files.iter().find(|(p, _)| std::fs::symlink_metadata(p).is_ok()) {
        return Err(Error::Usage(format!(
            "{} exists; nothing was written (sweep init never overwrites). Choose another name: sweep init other.toml",
            path.display()
        )));
    }
    // A new directory for the starter is made, as a user who names one expects (regression:
    // `sweep init --python starter/grid.toml` failed with "No such file or directory").
    if !dir.as_os_str().is_empty() {
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    for (path, text) in &files {
        let written = crate::io::create_new(path).and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
        written.map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        eprintln!("sweep: wrote {}", path.display());
    }
    let f = a.file.display();
    eprintln!("sweep: next: sweep run {f} --dry-run, then sweep run {f} --limit 5 (a smoke test), then sweep run {f} --resume");
    Ok(crate::exit::SUCCESS)
}
