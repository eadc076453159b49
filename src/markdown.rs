//! Texts the team writes (campaign stories, project descriptions, news) in Markdown, made
//! safe to show: HTML typed in them is shown as text, links keep only web, mail and on-site
//! addresses, pictures are not fetched (covers are uploaded instead), and headings start below
//! the page's own.

use std::fmt;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// HTML made from a team's text: safe to put in a page as is (`|safe` in templates).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SafeHtml(String);

impl SafeHtml {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for SafeHtml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a link may point to: the web, a mailbox, a page of the site, a place on the page.
/// Anything else (`javascript:`, `data:`, `vbscript:`…) could run code in the reader's
/// browser.
fn safe_destination(url: &str) -> bool {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (url.starts_with('/') && !url.starts_with("//"))
        || url.starts_with('#')
}

/// The parser's events with everything unsafe taken out; each kept link says whether it was
/// kept, so its end can be matched.
fn safe_events(text: &str) -> impl Iterator<Item = Event<'_>> {
    let mut kept_links: Vec<bool> = Vec::new();
    Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH).filter_map(move |event| match event {
        // Raw HTML is the team's text, not markup: shown escaped.
        Event::Html(html) | Event::InlineHtml(html) => Some(Event::Text(html)),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let keep = safe_destination(&dest_url);
            kept_links.push(keep);
            keep.then_some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::End(TagEnd::Link) => kept_links
            .pop()
            .unwrap_or(false)
            .then_some(Event::End(TagEnd::Link)),
        // A picture's description stays, as text; the picture is not loaded from elsewhere.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Some(Event::Start(Tag::Heading {
            level: below_page_headings(level),
            id,
            classes,
            attrs,
        })),
        Event::End(TagEnd::Heading(level)) => {
            Some(Event::End(TagEnd::Heading(below_page_headings(level))))
        }
        other => Some(other),
    })
}

/// The page has its `h1` and `h2`: a text's titles start at `h3`.
fn below_page_headings(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 | HeadingLevel::H2 => HeadingLevel::H3,
        other => other,
    }
}

/// The text as safe HTML.
pub fn to_html(text: &str) -> SafeHtml {
    let mut html = String::with_capacity(text.len() * 5 / 4);
    pulldown_cmark::html::push_html(&mut html, safe_events(text));
    SafeHtml(html)
}

/// The text as plain paragraphs (for a text email): marks dropped, a list item starting with
/// « • », a link followed by its address.
pub fn plain_paragraphs(text: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    let mut links: Vec<CowStr<'_>> = Vec::new();
    for event in safe_events(text) {
        match event {
            Event::Text(t) | Event::Code(t) => current.push_str(&t),
            Event::SoftBreak => current.push(' '),
            Event::HardBreak => current.push('\n'),
            Event::Start(Tag::Item) => current.push_str("• "),
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url),
            Event::End(TagEnd::Link) => {
                if let Some(url) = links.pop()
                    && !url.starts_with('#')
                {
                    current.push_str(&format!(" ({url})"));
                }
            }
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock)
            | Event::End(TagEnd::Item) => {
                let paragraph = current.trim().to_owned();
                if !paragraph.is_empty() {
                    paragraphs.push(paragraph);
                }
                current.clear();
            }
            _ => {}
        }
    }
    let rest = current.trim();
    if !rest.is_empty() {
        paragraphs.push(rest.to_owned());
    }
    paragraphs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_emphasis_lists_and_links_render() {
        let html = to_html(
            "Un **été** de sport.\n\nAvec [l’équipe](https://exemple.fr/a?b=1&c=2) :\n\n- foot\n- judo",
        );
        assert_eq!(
            html.as_str(),
            "<p>Un <strong>été</strong> de sport.</p>\n\
             <p>Avec <a href=\"https://exemple.fr/a?b=1&amp;c=2\">l’équipe</a> :</p>\n\
             <ul>\n<li>foot</li>\n<li>judo</li>\n</ul>\n"
        );
    }

    #[test]
    fn html_typed_in_a_text_is_shown_not_run() {
        for text in [
            "<script>alert(1)</script>",
            "Bonjour <img src=x onerror=alert(1)> !",
            "<a href=\"javascript:alert(1)\">clic</a>",
            "<iframe src=\"https://ailleurs.example\"></iframe>",
            "<style>body{display:none}</style>",
        ] {
            let html = to_html(text);
            let html = html.as_str();
            for tag in ["<script", "<img", "<a ", "<iframe", "<style"] {
                assert!(!html.contains(tag), "{text:?} gave {html:?}");
            }
            assert!(html.contains("&lt;"), "{text:?} gave {html:?}");
        }
    }

    #[test]
    fn links_to_code_lose_their_address_and_keep_their_words() {
        for url in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "vbscript:msgbox",
            "//ailleurs.example/page",
        ] {
            let text = format!("Voir [ici]({url}) et <{url}>.");
            let html = to_html(&text);
            assert!(!html.as_str().contains("href"), "{url:?}: {html}");
            assert!(html.as_str().contains("ici"), "{url:?}: {html}");
        }
        let kept = to_html("[a](/campagnes/peps) [b](mailto:contact@exemple.fr) [c](#dons)");
        assert_eq!(kept.as_str().matches("<a href=").count(), 3, "{kept}");
    }

    #[test]
    fn pictures_are_not_loaded_but_described() {
        let html = to_html("![Des enfants au stade](https://ailleurs.example/pixel.gif)");
        assert_eq!(html.as_str(), "<p>Des enfants au stade</p>\n");
    }

    #[test]
    fn titles_start_below_the_pages_own() {
        let html = to_html("# Grand titre\n\n## Moyen\n\n### Petit\n\n#### Plus petit");
        assert_eq!(
            html.as_str(),
            "<h3>Grand titre</h3>\n<h3>Moyen</h3>\n<h3>Petit</h3>\n<h4>Plus petit</h4>\n"
        );
    }

    #[test]
    fn plain_paragraphs_drop_marks_and_spell_out_links() {
        assert_eq!(
            plain_paragraphs(
                "## Du nouveau\n\nUn **été** de\nsport avec [nous](https://exemple.fr).\n\n- foot\n- <b>judo</b>"
            ),
            vec![
                "Du nouveau",
                "Un été de sport avec nous (https://exemple.fr).",
                "• foot",
                "• <b>judo</b>",
            ]
        );
        assert!(plain_paragraphs("  \n\n ").is_empty());
    }
}
