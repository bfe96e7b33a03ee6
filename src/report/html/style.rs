//! The page's look: its one inline stylesheet, and escaping text into it.

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Inlined in the page's `<head>`: the page loads no stylesheet.
pub(super) const CSS: &str = "\
:root{--fg:#1d2433;--muted:#5f6b7a;--line:#dde2ea;--bg:#f6f8fb;--done:#2ca02c;--failed:#d62728;--pending:#9aa4b2}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1240px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:19px;margin:32px 0 12px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:16px;margin:20px 0 8px}
.sub{color:var(--muted);margin:0 0 16px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px;margin:12px 0}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.facts th{width:180px}
code,pre{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:13px}
pre{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px;overflow:auto;white-space:pre-wrap;word-break:break-word}
.counts{display:flex;gap:12px;flex-wrap:wrap}
.count{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:130px}
.count b{display:block;font-size:24px}
.count.done b{color:var(--done)}.count.failed b{color:var(--failed)}.count.pending b{color:var(--pending)}
.bar{display:flex;height:12px;border-radius:6px;overflow:hidden;background:var(--line);margin:12px 0}
.bar span{display:block;height:100%}
.bar .done{background:var(--done)}.bar .failed{background:var(--failed)}.bar .pending{background:var(--pending)}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px}
figure svg{display:block;max-width:100%;height:auto}
.plots figure svg{width:100%}
figcaption{color:var(--muted);font-size:13px;padding:4px 8px}
.note{color:var(--muted);font-size:14px}
.msg{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:13px;white-space:pre-wrap;word-break:break-word}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_both_quotes() {
        assert_eq!(escape("<a href='x'>\"&\"</a> é"), "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt; é");
    }
}
