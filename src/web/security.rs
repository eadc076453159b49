//! Security headers on every response: a CSP without inline script or style, no framing,
//! no MIME sniffing, a discreet referrer. Forms may lead to Stripe's hosted pages (browsers
//! check `form-action` on the redirect that follows a post), and to Obole's own public
//! address: the demo's sandbox checkout lives there, and a page opened at another name of the
//! same server (`127.0.0.1` for `localhost`) must not see its « Payer » blocked in silence.

use axum::http::{HeaderName, HeaderValue, header};
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy, with `origin` (Obole's public address) among the forms' destinations.
fn csp(origin: &str) -> String {
    format!(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         object-src 'none'; base-uri 'self'; \
         form-action 'self' {origin} https://checkout.stripe.com https://billing.stripe.com; \
         frame-ancestors 'none'"
    )
}

type HeaderLayer = SetResponseHeaderLayer<HeaderValue>;
type Five = Stack<
    HeaderLayer,
    Stack<HeaderLayer, Stack<HeaderLayer, Stack<HeaderLayer, Stack<HeaderLayer, Identity>>>>,
>;
pub type SecurityHeaders =
    ServiceBuilder<Stack<HeaderLayer, Stack<HeaderLayer, Stack<HeaderLayer, Five>>>>;

/// No page of ours uses the camera, the microphone, the location, the browser's payment
/// sheet (Stripe's pages take the card) or USB; and none is an interest-based ad target.
const PERMISSIONS: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()";

/// HSTS is only sent when the public URL is https (never on a plain-http laptop).
pub fn headers(base_url: &str) -> SecurityHeaders {
    let hsts = if base_url.starts_with("https://") {
        HeaderValue::from_static("max-age=31536000; includeSubDomains")
    } else {
        HeaderValue::from_static("max-age=0")
    };
    // A configured address is a valid URL (checked at start-up); its origin has no
    // character a header refuses.
    let origin = url::Url::parse(base_url)
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_default();
    let csp = HeaderValue::from_str(&csp(&origin))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(
            header::REFERRER_POLICY,
            "strict-origin-when-cross-origin",
        ))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            hsts,
        ))
        .layer(set(
            HeaderName::from_static("permissions-policy"),
            PERMISSIONS,
        ))
        // Another site's window never shares a browsing context with ours, nor loads our
        // responses into its pages.
        .layer(set(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
        .layer(set(
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ))
}

fn set(name: HeaderName, value: &'static str) -> HeaderLayer {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
