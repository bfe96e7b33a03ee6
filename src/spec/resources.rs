//! `[resources]`: the cores, memory and GPUs each task needs (see `crate::resources`).

use super::{Ctx, RawResources, SpecError};
use crate::resources::Request;
use toml::Spanned;

/// More threads or GPUs than any machine sweep runs on has: a typo, not a request.
const MAX_COUNT: i64 = 4096;

impl Ctx<'_> {
    /// The request of `[resources]`; nothing asked without the table.
    pub(super) fn resources(&self, raw: Option<&Spanned<RawResources>>) -> Result<Request, SpecError> {
        let Some(raw) = raw.map(Spanned::get_ref) else { return Ok(Request::default()) };
        let count = |v: &Spanned<i64>, key: &str, min: i64, e_g: &str| {
            let n = *v.get_ref();
            if n < min || n > MAX_COUNT {
                return Err(self.at(
                    v,
                    format!("`{key}` must be between {min} and {MAX_COUNT}"),
                    Some(format!("e.g. `{key} = {e_g}`")),
                ));
            }
            Ok(n as usize)
        };
        let threads = raw.threads.as_ref().map(|t| count(t, "threads", 1, "4")).transpose()?;
        let gpus = raw.gpus.as_ref().map(|g| count(g, "gpus", 0, "1")).transpose()?.unwrap_or(0);
        let memory = match &raw.memory {
            None => None,
            Some(m) => {
                let help = Some("write a size, e.g. `memory = \"6 GiB\"` or `memory = \"512 MB\"`".to_string());
                let parsed = match m.get_ref() {
                    toml::Value::String(s) => crate::resources::parse_size(s),
                    toml::Value::Integer(n) if *n > 0 => Ok(*n as u64),
                    other => Err(format!("`{other}` is not a size")),
                };
                Some(parsed.map_err(|e| self.at(m, format!("`memory`: {e}"), help))?)
            }
        };
        Ok(Request { threads, memory, gpus })
    }
}
