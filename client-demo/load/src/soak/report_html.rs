//! `report.html`: a self-contained page (inline SVG charts, no scripts, no external
//! assets) with the verdicts, the headline figures and the time-series charts.

use std::fmt::Write as _;

use super::charts::charts;
use super::plot::{self, PlotError};
use super::summary::SoakSummary;
use super::table::server_rows;

/// Escapes text for HTML element content and attribute values.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}\
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto;border:1px solid #eee}";

fn rows_table(out: &mut String, rows: &[(&str, String)]) {
    out.push_str("<table>\n");
    for (k, v) in rows {
        let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
    }
    out.push_str("</table>\n");
}

/// Renders the report page.
pub fn render(s: &SoakSummary) -> Result<String, PlotError> {
    let mut out = String::new();
    let verdict = if s.passed { "PASSED" } else { "FAILED" };
    let class = if s.passed { "pass" } else { "fail" };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Tickwire soak: {scenario}, {bots} bots — {verdict}</title><style>{STYLE}</style></head><body>\n\
         <h1>Tickwire soak report</h1>\n<p>{scenario} scenario, {bots} {behavior} bots, {dur:.0} s against \
         <code>{url}</code>. Result: <span class=\"{class}\">{verdict}</span></p>\n",
        scenario = escape(&s.scenario),
        bots = s.bots,
        behavior = escape(&s.behavior),
        dur = s.duration_s,
        url = escape(&s.url),
    );

    out.push_str("<h2>Thresholds</h2>\n<table><tr><th>result</th><th>check</th></tr>\n");
    for v in &s.verdicts {
        let (c, word) = if v.passed {
            ("pass", "pass")
        } else {
            ("fail", "FAIL")
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"{c}\">{word}</td><td>{}</td></tr>",
            escape(&v.detail)
        );
    }
    out.push_str("</table>\n<h2>Server</h2>\n");
    rows_table(&mut out, &server_rows(s));
    out.push_str("<h2>Bots</h2>\n");
    rows_table(&mut out, &s.client.rows());

    out.push_str("<h2>Over time</h2>\n");
    for chart in charts(s) {
        let svg = plot::render(&chart)?;
        let _ = writeln!(out, "<figure>{svg}</figure>");
    }
    out.push_str(
        "<p>Tick charts show the server's last whole second at each sample (over a few \
         dozen ticks the p99 is usually the max, so the two lines overlap). The tables' \
         whole-run figures are exact: the server's recorded tick times at the end of the \
         run minus those at its start (to 0.1%). summary.json holds every figure and \
         sample.</p>\n</body></html>\n",
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
