//! Where a gift comes from, as the team reads it in the back-office: the `utm_source` and
//! `utm_campaign` of the link that brought the donor (carried from the campaign page to the
//! form in its links, without cookies), or else the site the donor came from when they landed
//! on the form itself. No personal data: a tag, or a host name.

/// A gift's origin; each part `None` when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    pub source: Option<String>,
    pub campaign: Option<String>,
    pub referrer: Option<String>,
}

const MAX_TAG: usize = 100;

/// A tag as links carry it (`newsletter-decembre`, `facebook`), or `None`: anything else is
/// dropped quietly (a tracking parameter never stops a gift).
pub fn tag(raw: Option<&str>) -> Option<String> {
    let trimmed = raw?.trim();
    let fine = !trimmed.is_empty()
        && trimmed.len() <= MAX_TAG
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '~'));
    fine.then(|| trimmed.to_lowercase())
}

/// The host of a `Referer` that is not ours (`www.facebook.com`), or `None`.
pub fn referrer_host(referer: Option<&str>, our_base_url: &str) -> Option<String> {
    let referer = url::Url::parse(referer?).ok()?;
    let host = referer.host_str()?.to_lowercase();
    let ours = url::Url::parse(our_base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_lowercase));
    (Some(&host) != ours.as_ref() && tag(Some(&host)).is_some()).then_some(host)
}

impl Attribution {
    /// How the back-office names the origin: the source, else the referring site, else
    /// « direct ».
    pub fn label(source: Option<&str>, referrer: Option<&str>) -> String {
        source
            .or(referrer)
            .map_or_else(|| "direct".to_owned(), str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_kept_tidy_or_dropped() {
        assert_eq!(
            tag(Some(" Newsletter-Decembre ")),
            Some("newsletter-decembre".into())
        );
        assert_eq!(tag(Some("a b")), None);
        assert_eq!(tag(Some("<script>")), None);
        assert_eq!(tag(Some("")), None);
        assert_eq!(tag(Some(&"x".repeat(101))), None);
        assert_eq!(tag(None), None);
    }

    #[test]
    fn only_other_sites_count_as_referrers() {
        let base = "https://dons.example.org";
        assert_eq!(
            referrer_host(Some("https://www.Facebook.com/some/post?x=1"), base),
            Some("www.facebook.com".into())
        );
        assert_eq!(
            referrer_host(Some("https://dons.example.org/campagnes/x"), base),
            None
        );
        assert_eq!(referrer_host(Some("pas une adresse"), base), None);
        assert_eq!(referrer_host(None, base), None);
        assert_eq!(
            Attribution::label(None, Some("www.facebook.com")),
            "www.facebook.com"
        );
        assert_eq!(
            Attribution::label(Some("newsletter"), Some("x")),
            "newsletter"
        );
        assert_eq!(Attribution::label(None, None), "direct");
    }
}
