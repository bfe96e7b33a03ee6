//! `[python]` and `[worker]`: tasks run on persistent worker processes.

use super::command::env_list;
use super::{Ctx, SpecError};
use crate::command::DEFAULT_GRACE;
use crate::spec::raw::{RawPython, RawWorker};
use crate::text::is_identifier;
use crate::worker::{python, PythonFunction, WorkerSpec};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Names a `[python]` function receives besides its parameters (so no parameter may take one).
pub const PYTHON_EXTRAS: [&str; 6] = ["seed", "seed32", "rng", "out", "replicate", "task"];

impl Ctx<'_> {
    /// The directory inputs resolve against: the spec file's (the current one for a spec
    /// given as text).
    pub(super) fn base_dir(&self) -> PathBuf {
        self.base.clone()
    }

    /// Validates a `[python]` table; `params` names every parameter a request carries.
    pub(super) fn python(&self, raw: &Spanned<RawPython>, params: &[String]) -> Result<WorkerSpec, SpecError> {
        let t = raw.get_ref();
        let Some(function) = &t.function else {
            return Err(self.at(
                raw,
                "[python] has no `function`",
                Some("name the function to call, e.g. `function = \"model.py:simulate\"`".into()),
            ));
        };
        if let Some(bad) = params.iter().find(|p| PYTHON_EXTRAS.contains(&p.as_str())) {
            return Err(self.at(
                raw,
                format!("a parameter may not be called `{bad}` in a [python] sweep: the function receives `{bad}` from sweep"),
                Some(format!("rename the parameter (reserved: {})", PYTHON_EXTRAS.join(", "))),
            ));
        }
        let base = self.base_dir();
        let (module, name) = match function.get_ref().rsplit_once(':') {
            Some((m, f)) if !m.trim().is_empty() && is_identifier(f) => (m.trim(), f),
            _ => {
                return Err(self.at(
                    function,
                    format!("`function` must be FILE.py:NAME or MODULE:NAME, not \"{}\"", function.get_ref()),
                    Some("e.g. `function = \"model.py:simulate\"` or `function = \"mypkg.models:simulate\"`".into()),
                ))
            }
        };
        let file = if module.ends_with(".py") || module.contains('/') {
            let path = base.join(module);
            if self.check_inputs && !path.is_file() {
                return Err(self.at(
                    function,
                    format!("no Python file {} (for `{name}`)", path.display()),
                    Some(format!("paths in `function` are relative to the spec's directory, {}", base.display())),
                ));
            }
            Some(path)
        } else {
            None
        };
        let (interpreter, chosen) = self.interpreter(t.python.as_ref(), &base)?;
        let env = env_list(t.env.as_ref());
        let cwd = t.cwd.as_ref().map_or_else(|| base.clone(), |d| base.join(d.get_ref()));
        let identity = serde_json::json!({
            "python": function.get_ref(),
            "env": env.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
            "cwd": super::command::identity_cwd(t.cwd.as_ref().map(|d| d.get_ref().as_str())),
        });
        let interpreter_shown = interpreter.display().to_string();
        let f = PythonFunction { function: function.get_ref().clone(), interpreter, file };
        Ok(WorkerSpec {
            argv: python::argv(&f, &base, params),
            env: env
                .into_iter()
                .chain([
                    (python::DRIVER_VAR.to_string(), python::DRIVER.to_string()),
                    // For the driver's start-up errors: which interpreter, and why that one.
                    (python::CHOSEN_VAR.to_string(), format!("{} ({chosen})", interpreter_shown)),
                ])
                .collect(),
            cwd,
            timeout: t.timeout.as_ref().map(|d| self.duration(d, "timeout")).transpose()?,
            grace: t.grace.as_ref().map(|d| self.duration(d, "grace")).transpose()?.unwrap_or(DEFAULT_GRACE),
            max_tasks: self.max_tasks(t.max_tasks_per_worker.as_ref())?,
            python: Some(f),
            identity,
            span: function.span(),
            table: "python",
        })
    }

    /// Validates a `[worker]` table.
    pub(super) fn worker(&self, raw: &Spanned<RawWorker>) -> Result<WorkerSpec, SpecError> {
        let t = raw.get_ref();
        let argv = match &t.argv {
            Some(a) if !a.get_ref().is_empty() => a,
            Some(a) => return Err(self.at(a, "`argv` is empty", Some(WORKER_EXAMPLE.into()))),
            None => return Err(self.at(raw, "[worker] needs `argv`", Some(WORKER_EXAMPLE.into()))),
        };
        let base = self.base_dir();
        let words: Vec<String> = argv.get_ref().iter().map(|s| s.get_ref().clone()).collect();
        let env = env_list(t.env.as_ref());
        let cwd = t.cwd.as_ref().map_or_else(|| base.clone(), |d| base.join(d.get_ref()));
        let identity = serde_json::json!({
            "worker": words,
            "env": env.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
            "cwd": super::command::identity_cwd(t.cwd.as_ref().map(|d| d.get_ref().as_str())),
        });
        // A program given as a relative path is the spec's, like the files it reads.
        let mut words = words;
        if words[0].contains('/') && !Path::new(&words[0]).is_absolute() {
            words[0] = base.join(&words[0]).display().to_string();
        }
        Ok(WorkerSpec {
            argv: words,
            env,
            cwd,
            timeout: t.timeout.as_ref().map(|d| self.duration(d, "timeout")).transpose()?,
            grace: t.grace.as_ref().map(|d| self.duration(d, "grace")).transpose()?.unwrap_or(DEFAULT_GRACE),
            max_tasks: self.max_tasks(t.max_tasks_per_worker.as_ref())?,
            python: None,
            identity,
            span: argv.span(),
            table: "worker",
        })
    }

    fn max_tasks(&self, n: Option<&Spanned<i64>>) -> Result<u64, SpecError> {
        match n {
            None => Ok(0),
            Some(n) if *n.get_ref() < 0 => Err(self.at(
                n,
                "`max_tasks_per_worker` must be >= 0",
                Some("0 keeps each worker for the whole run; N replaces it after N tasks".into()),
            )),
            Some(n) => Ok(*n.get_ref() as u64),
        }
    }

    /// The interpreter `python` names (relative to `base` when it is a path), else
    /// `$VIRTUAL_ENV/bin/python`, else `python3` on `PATH`; with why it was chosen.
    fn interpreter(&self, python: Option<&Spanned<String>>, base: &Path) -> Result<(PathBuf, &'static str), SpecError> {
        const SPEC: &str = "the spec's [python] python";
        if !self.check_inputs {
            return Ok(python
                .map_or_else(|| (PathBuf::from("python3"), "python3 on PATH"), |p| (base.join(p.get_ref()), SPEC)));
        }
        let missing = |what: String, at: Option<&Spanned<String>>| {
            let help =
                "set `python = \"/path/to/python\"` in [python], or activate the virtual environment".to_string();
            match at {
                Some(p) => self.at(p, what, Some(help)),
                None => self.err(Some(0..0), what, Some(help)),
            }
        };
        if let Some(p) = python {
            let name = p.get_ref();
            if name.contains('/') {
                let path = base.join(name);
                return if path.is_file() {
                    Ok((path, SPEC))
                } else {
                    Err(missing(format!("no Python interpreter at {}", path.display()), Some(p)))
                };
            }
            return crate::command::find_in_path(name)
                .map(|p| (p, SPEC))
                .ok_or_else(|| missing(format!("`{name}` is not on PATH"), Some(p)));
        }
        if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
            let path = PathBuf::from(venv).join("bin").join("python");
            if path.is_file() {
                return Ok((path, "$VIRTUAL_ENV"));
            }
        }
        crate::command::find_in_path("python3")
            .map(|p| (p, "python3 on PATH, with no [python] python and no $VIRTUAL_ENV"))
            .ok_or_else(|| missing("no `python3` on PATH for [python]".into(), None))
    }
}

const WORKER_EXAMPLE: &str =
    "give the program that speaks the worker protocol, e.g. `argv = [\"julia\", \"worker.jl\"]`";
