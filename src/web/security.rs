//! Security headers on every response: a CSP without inline script or style, no framing,
//! no MIME sniffing, a discreet referrer. Forms may lead to Stripe's hosted pages (browsers
//! check `form-action` on the redirect that follows a post).

use axum::http::{HeaderName, HeaderValue, header};
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::set_header::SetResponseHeaderLayer;

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   object-src 'none'; base-uri 'self'; form-action 'self' https://checkout.stripe.com https://billing.stripe.com; frame-ancestors 'none'";

type HeaderLayer = SetResponseHeaderLayer<HeaderValue>;
pub type SecurityHeaders = ServiceBuilder<
    Stack<
        HeaderLayer,
        Stack<HeaderLayer, Stack<HeaderLayer, Stack<HeaderLayer, Stack<HeaderLayer, Identity>>>>,
    >,
>;

/// HSTS is only sent when the public URL is https (never on a plain-http laptop).
pub fn headers(base_url: &str) -> SecurityHeaders {
    let hsts = if base_url.starts_with("https://") {
        HeaderValue::from_static("max-age=31536000; includeSubDomains")
    } else {
        HeaderValue::from_static("max-age=0")
    };
    ServiceBuilder::new()
        .layer(set(header::CONTENT_SECURITY_POLICY, CSP))
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
}

fn set(name: HeaderName, value: &'static str) -> HeaderLayer {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
