//! The report as one standalone HTML page: the Markdown rendered by a
//! Markdown library (pulldown-cmark, tables on). Raw HTML in the Markdown —
//! there should be none, since outside text is escaped — is shown as text.

use pulldown_cmark::{html, Event, Options, Parser};

use super::RunReport;

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1d2433}\
h1{font-size:1.6rem;border-bottom:2px solid #2f6fdf;padding-bottom:.3rem}\
h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.05rem;margin-bottom:.3rem}\
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #c9cfd9;padding:.3rem .6rem;text-align:left;vertical-align:top}\
th{background:#eef2f8}td:first-child{white-space:nowrap}\
code{background:#eef2f8;padding:0 .25rem;border-radius:3px}\
blockquote{margin:0;padding:.4rem .8rem;border-left:4px solid #d99a00;background:#fff8e5}\
ul{padding-left:1.3rem}";

/// For the page's title, which is outside the rendered Markdown.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn render(r: &RunReport) -> String {
    let md = super::markdown::render(r);
    let parser = Parser::new_ext(&md, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut body = String::with_capacity(md.len() * 2);
    html::push_html(&mut body, parser);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} — {}</title>\n<style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        escape(&r.context.lab_title),
        escape(&r.summary.id)
    )
}
