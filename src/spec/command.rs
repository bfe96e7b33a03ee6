//! `[command]`: an external program per task, its placeholders, timeout and environment.

use super::{Ctx, RawCommand, SpecError};
use crate::command::{CommandSpec, Template, BUILTIN_PLACEHOLDERS, DEFAULT_GRACE};
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

impl Ctx<'_> {
    /// Validates a `[command]` table; `columns` are the swept parameters' names.
    pub(super) fn command(&self, raw: &Spanned<RawCommand>, columns: &[String]) -> Result<CommandSpec, SpecError> {
        let err = |span: Option<Range<usize>>, msg: String, help: Option<String>| self.err(span, msg, help);
        let c = raw.get_ref();
        if let Some(bad) = columns.iter().find(|c| BUILTIN_PLACEHOLDERS.contains(&c.as_str())) {
            return Err(err(
                Some(raw.span()),
                format!(
                    "a parameter may not be called `{bad}` in a command sweep: `{{{bad}}}` is a built-in placeholder"
                ),
                Some("rename the parameter".into()),
            ));
        }
        // `{name}` placeholders end at `}` and cannot hold blanks or `=`: such a name would be
        // passed through literally.
        if let Some(bad) = columns.iter().find(|c| c.chars().any(|ch| ch.is_whitespace() || "={}".contains(ch))) {
            return Err(err(
                Some(raw.span()),
                format!("the parameter name `{bad}` cannot be written as a placeholder: it holds a blank, `=`, `{{` or `}}`"),
                Some("rename the parameter with letters, digits, `_`, `-` or `.`".into()),
            ));
        }
        // Each parameter reaches the command as `SWEEP_PARAM_<NAME>` too, upper-cased with
        // anything but ASCII letters and digits as `_` (as `command::spawn` names it): two
        // names that give one variable would hide one of them.
        let var = |name: &str| -> String {
            name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
        };
        for (i, a) in columns.iter().enumerate() {
            if let Some(b) = columns[..i].iter().find(|b| var(b) == var(a)) {
                return Err(err(
                    Some(raw.span()),
                    format!("the parameters `{b}` and `{a}` would both be the variable SWEEP_PARAM_{}", var(a)),
                    Some("rename one of them".into()),
                ));
            }
        }
        let parse = |s: &Spanned<String>| {
            Template::parse(s.get_ref(), columns).map_err(|(range, msg, help)| {
                // Point inside the string when it was written without escapes.
                let span = s.span();
                let exact = span.end - span.start == s.get_ref().len() + 2;
                let sub = if exact { span.start + 1 + range.start..span.start + 1 + range.end } else { span };
                err(Some(sub), msg, help)
            })
        };
        let (argv, shell) = match (&c.argv, &c.shell) {
            (Some(a), None) => {
                if a.get_ref().is_empty() {
                    return Err(err(
                        Some(a.span()),
                        "`argv` is empty".into(),
                        Some(
                            "give the program and its arguments, e.g. `argv = [\"python3\", \"sim.py\", \"{k}\"]`"
                                .into(),
                        ),
                    ));
                }
                (Some(a.get_ref().iter().map(parse).collect::<Result<Vec<_>, _>>()?), None)
            }
            (None, Some(s)) => (None, Some(parse(s)?)),
            (Some(a), Some(_)) => {
                return Err(err(
                    Some(a.span()),
                    "[command] has both `argv` and `shell`".into(),
                    Some("keep one: `argv` runs the program directly, `shell` through `sh -c`".into()),
                ))
            }
            (None, None) => {
                return Err(err(
                    Some(raw.span()),
                    "[command] needs `argv` or `shell`".into(),
                    Some("e.g. `argv = [\"python3\", \"sim.py\", \"--k\", \"{k}\", \"--out\", \"{out}\"]`".into()),
                ))
            }
        };
        let timeout = c.timeout.as_ref().map(|t| self.duration(t, "timeout")).transpose()?;
        let grace = c.grace.as_ref().map(|t| self.duration(t, "grace")).transpose()?.unwrap_or(DEFAULT_GRACE);
        let env = env_list(c.env.as_ref());
        // Inputs are the spec's: they resolve against its directory, whatever the shell's is.
        let here = self.base_dir();
        let cwd = match &c.cwd {
            Some(d) => here.join(d.get_ref()),
            None => here,
        };
        if let Some(a) = &c.argv {
            self.check_program(&a.get_ref()[0], &cwd, c.env.as_ref())?;
        }
        let identity = serde_json::json!({
            "argv": c.argv.as_ref().map(|a| a.get_ref().iter().map(|s| s.get_ref().clone()).collect::<Vec<_>>()),
            "shell": c.shell.as_ref().map(|s| s.get_ref().clone()),
            "env": env.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
            // As written, relative to the spec's directory: a project moved or copied
            // elsewhere (spec, code and out together) is the same sweep (#24).
            "cwd": identity_cwd(c.cwd.as_ref().map(|d| d.get_ref().as_str())),
        });
        Ok(CommandSpec { argv, shell, timeout, grace, env, cwd, identity })
    }
}

impl Ctx<'_> {
    /// Refuses a program that is not there: a relative path missing from the command's
    /// directory, or a bare name on no `PATH` (unless placeholders make the name).
    fn check_program(
        &self,
        program: &Spanned<String>,
        cwd: &Path,
        env: Option<&indexmap::IndexMap<Spanned<String>, Spanned<String>>>,
    ) -> Result<(), SpecError> {
        let name = program.get_ref();
        if !self.check_inputs || name.contains('{') || name.is_empty() {
            return Ok(());
        }
        if name.contains('/') {
            let path: std::path::PathBuf =
                cwd.join(name).components().filter(|c| *c != std::path::Component::CurDir).collect();
            if path.is_file() {
                return Ok(());
            }
            return Err(self.at(
                program,
                format!("no program {}", path.display()),
                Some(format!(
                    "a relative program path is relative to the command's directory, {} (the spec's, unless `cwd` says otherwise)",
                    cwd.display()
                )),
            ));
        }
        let path_var = env
            .into_iter()
            .flatten()
            .find(|(k, _)| k.get_ref() == "PATH")
            .map(|(_, v)| std::ffi::OsString::from(v.get_ref()))
            .or_else(|| std::env::var_os("PATH"))
            .unwrap_or_default();
        let found = std::env::split_paths(&path_var).any(|dir| cwd.join(dir).join(name).is_file());
        if found {
            return Ok(());
        }
        Err(self.at(
            program,
            format!("`{name}` is not on PATH"),
            Some("give the program's path (relative to the spec's directory), or install it".into()),
        ))
    }
}

/// An `env = { ... }` table as (name, value) pairs, in file order.
pub(super) fn env_list(env: Option<&indexmap::IndexMap<Spanned<String>, Spanned<String>>>) -> Vec<(String, String)> {
    env.into_iter().flatten().map(|(k, v)| (k.get_ref().clone(), v.get_ref().clone())).collect()
}

/// The working directory as a task kind's identity holds it: as the spec writes it,
/// relative to the spec's own directory (`.` when it names none).
pub(super) fn identity_cwd(written: Option<&str>) -> String {
    written.unwrap_or(".").to_string()
}
