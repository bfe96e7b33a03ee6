//! Handing a rendered [`Plan`] to SLURM: writing the scripts, `sbatch`, and waiting on
//! `squeue`.

use super::script::Plan;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The `--dependency` value that starts a job after all of `job_ids` have ended, whatever
/// their outcome: `afterany:ID1:ID2...`.
pub fn dependency(job_ids: &[String]) -> String {
    let mut s = String::from("afterany");
    for id in job_ids {
        s.push(':');
        s.push_str(id);
    }
    s
}

/// The job id in the output of `sbatch --parsable` (`ID` or `ID;CLUSTER`).
pub fn parse_job_id(sbatch_parsable_stdout: &str) -> Option<String> {
    let line = sbatch_parsable_stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let id = line.split(';').next()?.trim();
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_string())
}

/// The ids of submitted jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    /// The array jobs, in the order of [`Plan::arrays`].
    pub arrays: Vec<String>,
    /// The collect job.
    pub collect: String,
    /// The script files that were submitted (arrays, then the collect job).
    pub scripts: Vec<PathBuf>,
}

impl Submitted {
    /// Every job id: the arrays, then the collect job.
    pub fn all(&self) -> Vec<String> {
        let mut v = self.arrays.clone();
        v.push(self.collect.clone());
        v
    }
}

/// Why submitting failed.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// A script or directory could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A SLURM command could not be started.
    #[error("cannot run {program}: {source} (is SLURM installed and on PATH?)")]
    Spawn {
        /// The program.
        program: String,
        /// The error.
        source: io::Error,
    },
    /// `sbatch` failed or printed no job id. Jobs submitted before it are in `submitted`.
    #[error(
        "sbatch {} failed ({status}): {message}{}",
        script.display(),
        already(submitted)
    )]
    Sbatch {
        /// The script.
        script: PathBuf,
        /// The exit status, or "no job id in its output".
        status: String,
        /// What sbatch said.
        message: String,
        /// Jobs submitted before the failure (cancel them with `scancel`).
        submitted: Vec<String>,
    },
    /// `squeue` failed.
    #[error("squeue failed ({status}): {message}")]
    Squeue {
        /// The exit status.
        status: String,
        /// What squeue said.
        message: String,
    },
}

fn already(ids: &[String]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!("; already submitted: {} (cancel them with: scancel {})", ids.join(", "), ids.join(" "))
    }
}

/// Writes the plan's scripts into `dir` (created if needed) as `<job_name>-array-<k>.sbatch`
/// and `<job_name>-collect.sbatch`; returns their paths, arrays first.
pub fn write_scripts(plan: &Plan, dir: &Path) -> Result<Vec<PathBuf>, SubmitError> {
    let werr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SubmitError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(werr(dir))?;
    let mut paths = Vec::new();
    let named = plan
        .arrays
        .iter()
        .enumerate()
        .map(|(k, a)| (format!("{}-array-{k}.sbatch", plan.job_name), &a.text))
        .chain(std::iter::once((format!("{}-collect.sbatch", plan.job_name), &plan.collect)));
    for (name, text) in named {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(werr(&path))?;
        paths.push(path);
    }
    Ok(paths)
}

/// Writes the scripts into `script_dir` (see [`write_scripts`]), creates the log directory,
/// and submits them with `sbatch --parsable`: the array jobs, then the collect job with
/// `--dependency=afterany:<array job ids>`. Returns the job ids.
pub fn submit(plan: &Plan, script_dir: &Path) -> Result<Submitted, SubmitError> {
    submit_with(plan, script_dir, Path::new("sbatch"))
}

/// [`submit`] with a given `sbatch` program (a path, or a name looked up on `PATH`).
pub fn submit_with(plan: &Plan, script_dir: &Path, sbatch: &Path) -> Result<Submitted, SubmitError> {
    let scripts = write_scripts(plan, script_dir)?;
    std::fs::create_dir_all(&plan.log_dir)
        .map_err(|source| SubmitError::Write { path: plan.log_dir.clone(), source })?;
    let (collect_script, array_scripts) = scripts.split_last().expect("the collect script is always written");
    let mut ids: Vec<String> = Vec::new();
    for script in array_scripts {
        let id = run_sbatch(sbatch, &[], script, &ids)?;
        ids.push(id);
    }
    let dep = format!("--dependency={}", dependency(&ids));
    let collect = run_sbatch(sbatch, &[dep.as_str()], collect_script, &ids)?;
    Ok(Submitted { arrays: ids, collect, scripts })
}

fn run_sbatch(sbatch: &Path, args: &[&str], script: &Path, submitted: &[String]) -> Result<String, SubmitError> {
    let out = Command::new(sbatch)
        .arg("--parsable")
        .args(args)
        .arg(script)
        .output()
        .map_err(|source| SubmitError::Spawn { program: sbatch.display().to_string(), source })?;
    let fail = |status: String, message: String| SubmitError::Sbatch {
        script: script.to_path_buf(),
        status,
        message,
        submitted: submitted.to_vec(),
    };
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if !out.status.success() {
        return Err(fail(out.status.to_string(), stderr));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    parse_job_id(&stdout).ok_or_else(|| fail("no job id in its output".into(), format!("{}{stderr}", stdout.trim())))
}

/// Whether any of `job_ids` is still queued or running, according to `squeue`. Jobs that
/// SLURM has already forgotten count as ended.
///
/// Without accounting, `sacct` does not work and finished jobs leave `scontrol show job`
/// after `MinJobAge`, so polling this is the reliable way to wait for jobs.
pub fn any_queued(job_ids: &[String]) -> Result<bool, SubmitError> {
    if job_ids.is_empty() {
        return Ok(false);
    }
    let out = Command::new("squeue")
        .args(["-h", "-o", "%i", "-j", &job_ids.join(",")])
        .output()
        .map_err(|source| SubmitError::Spawn { program: "squeue".into(), source })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        if stderr.contains("Invalid job id") {
            return Ok(false);
        }
        return Err(SubmitError::Squeue { status: out.status.to_string(), message: stderr.trim().to_string() });
    }
    Ok(!String::from_utf8_lossy(&out.stdout).trim().is_empty())
}

/// Polls [`any_queued`] every `poll` until none of `job_ids` is queued or running.
pub fn wait_for(job_ids: &[String], poll: Duration) -> Result<(), SubmitError> {
    while any_queued(job_ids)? {
        std::thread::sleep(poll);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::options::example as opts;
    use super::super::render;
    use super::*;

    #[test]
    fn collect_waits_for_every_array_whatever_its_outcome() {
        assert_eq!(dependency(&["12".into(), "15".into()]), "afterany:12:15");
    }

    #[test]
    fn job_ids_from_sbatch_parsable() {
        assert_eq!(parse_job_id("42\n").as_deref(), Some("42"));
        assert_eq!(parse_job_id("42;cluster\n").as_deref(), Some("42"));
        assert_eq!(parse_job_id("sbatch: error\n"), None);
        assert_eq!(parse_job_id(""), None);
    }

    #[cfg(unix)]
    #[test]
    fn submit_runs_sbatch_on_arrays_then_collect_with_dependency() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let calls = dir.path().join("calls");
        let fake = dir.path().join("sbatch");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\necho \"$@\" >> '{}'\nn=$(wc -l < '{}')\necho \"$((100 + n));cluster\"\n",
                calls.display(),
                calls.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut o = opts(5);
        o.max_array_size = 2;
        o.log_dir = dir.path().join("logs");
        let plan = render(&o).unwrap();
        let scripts = dir.path().join("scripts");
        let sub = submit_with(&plan, &scripts, &fake).unwrap();
        assert_eq!(sub.arrays, ["101", "102", "103"]);
        assert_eq!(sub.collect, "104");
        assert_eq!(sub.all().len(), 4);
        assert!(o.log_dir.is_dir());
        let s = |name: &str| scripts.join(name).display().to_string();
        assert_eq!(
            std::fs::read_to_string(&calls).unwrap(),
            format!(
                "--parsable {}\n--parsable {}\n--parsable {}\n--parsable --dependency=afterany:101:102:103 {}\n",
                s("sweep-array-0.sbatch"),
                s("sweep-array-1.sbatch"),
                s("sweep-array-2.sbatch"),
                s("sweep-collect.sbatch"),
            )
        );
        assert_eq!(std::fs::read_to_string(&sub.scripts[3]).unwrap(), plan.collect);

        std::fs::write(&fake, "#!/bin/sh\necho 'sbatch: error: invalid partition' >&2\nexit 1\n").unwrap();
        let err = submit_with(&plan, &scripts, &fake).unwrap_err().to_string();
        assert!(err.contains("sbatch: error: invalid partition"), "{err}");
    }
}
