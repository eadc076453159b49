//! Sharing a campaign: plain links to the networks' own share pages (nothing of theirs is
//! loaded until a visitor clicks), and the absolute addresses a link preview needs.

use url::form_urlencoded::byte_serialize;

/// One way to share: its name and where it leads.
#[derive(Debug, Clone)]
pub struct ShareLink {
    pub name: &'static str,
    pub href: String,
}

fn encoded(text: &str) -> String {
    byte_serialize(text.as_bytes()).collect()
}

/// The ways to share the page at `url`, titled `title`.
pub fn share_links(title: &str, url: &str) -> Vec<ShareLink> {
    let (title, url) = (encoded(title), encoded(url));
    [
        ("E-mail", format!("mailto:?subject={title}&body={url}")),
        ("WhatsApp", format!("https://wa.me/?text={title}%20{url}")),
        (
            "Facebook",
            format!("https://www.facebook.com/sharer/sharer.php?u={url}"),
        ),
        (
            "LinkedIn",
            format!("https://www.linkedin.com/sharing/share-offsite/?url={url}"),
        ),
        (
            "X",
            format!("https://x.com/intent/post?text={title}&url={url}"),
        ),
    ]
    .into_iter()
    .map(|(name, href)| ShareLink { name, href })
    .collect()
}

/// `path` on the site as an absolute address (a preview is read from elsewhere); an address
/// that is already absolute stays as it is.
pub fn absolute(base_url: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        path.to_owned()
    } else {
        format!(
            "{}/{}",
            base_url.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_the_page_encoded() {
        let links = share_links("Le sport & l’école", "https://dons.example/campagnes/sport");
        let whatsapp = &links[1].href;
        assert!(
            whatsapp.contains("Le+sport+%26+l%E2%80%99%C3%A9cole"),
            "{whatsapp}"
        );
        assert!(whatsapp.ends_with("https%3A%2F%2Fdons.example%2Fcampagnes%2Fsport"));
    }

    #[test]
    fn paths_become_absolute_once() {
        assert_eq!(
            absolute("http://a.test/", "/medias/x.png"),
            "http://a.test/medias/x.png"
        );
        assert_eq!(
            absolute("http://a.test", "https://cdn.test/x.png"),
            "https://cdn.test/x.png"
        );
    }
}
