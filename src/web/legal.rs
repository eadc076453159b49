//! What the law asks a site that collects donors' data to say, from the organisation's
//! settings (back-office, « Organisation »): the legal notice (LCEN art. 6), the privacy
//! notice (RGPD art. 13) and how to reach the organisation. Also `/don`, the header's
//! « Faire un don », which leads to the first open campaign's form.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use super::AppState;
use super::layout::Layout;
use crate::domain::dates;
use crate::domain::organisation::{CATEGORIES, Organisation};
use crate::error::Result;
use crate::store::{campaigns, settings};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mentions-legales", get(legal_notice))
        .route("/confidentialite", get(privacy))
        .route("/contact", get(contact))
        .route("/don", get(give))
}

/// What the pages say of the organisation; a field not filled in yet reads « à renseigner »,
/// for the team to see what the law still asks of them.
struct Publisher {
    name: String,
    status: String,
    address: String,
    registration: String,
    object: String,
    director: String,
    contact_email: String,
    host: String,
}

const MISSING: &str = "à renseigner";

fn or_missing(text: &str) -> String {
    if text.trim().is_empty() {
        MISSING.to_owned()
    } else {
        text.to_owned()
    }
}

impl Publisher {
    fn new(o: &Organisation, fallback_name: &str) -> Publisher {
        let category = CATEGORIES
            .iter()
            .find(|(key, _)| *key == o.category)
            .map_or("", |(_, label)| *label);
        let status = match (category, o.public_utility != 0) {
            ("", true) => "Association reconnue d’utilité publique".to_owned(),
            ("", false) => MISSING.to_owned(),
            (category, _) => category.to_owned(),
        };
        let address = [
            o.address_line1.trim(),
            &format!("{} {}", o.postal_code.trim(), o.city.trim()),
        ]
        .iter()
        .map(|part| part.trim())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
        let registration = [("SIREN", &o.siren), ("RNA", &o.rna)]
            .iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(label, value)| format!("{label} {}", value.trim()))
            .collect::<Vec<_>>()
            .join(" · ");
        Publisher {
            name: if o.name.trim().is_empty() {
                fallback_name.to_owned()
            } else {
                o.name.clone()
            },
            status,
            address: or_missing(&address),
            registration: or_missing(&registration),
            object: or_missing(&o.object),
            director: or_missing(&o.publication_director),
            contact_email: o.contact_email.trim().to_owned(),
            host: or_missing(&o.host),
        }
    }
}

/// A legal page titled `title`, its template made by `page` from the frame and what the
/// settings say of the organisation.
async fn render<T: Template>(
    state: &AppState,
    title: &str,
    page: fn(Layout, Publisher) -> T,
) -> Result<Html<String>> {
    let organisation = settings::organisation(state.db.pool()).await?;
    let p = Publisher::new(&organisation, &state.config.organisation_name);
    Ok(Html(page(Layout::new(state, title), p).render()?))
}

#[derive(Template)]
#[template(path = "legal/notice.html")]
struct NoticeTemplate {
    layout: Layout,
    p: Publisher,
}

async fn legal_notice(State(state): State<AppState>) -> Result<Html<String>> {
    render(&state, "Mentions légales", |layout, p| NoticeTemplate {
        layout,
        p,
    })
    .await
}

#[derive(Template)]
#[template(path = "legal/privacy.html")]
struct PrivacyTemplate {
    layout: Layout,
    p: Publisher,
}

async fn privacy(State(state): State<AppState>) -> Result<Html<String>> {
    render(&state, "Vos données personnelles", |layout, p| {
        PrivacyTemplate { layout, p }
    })
    .await
}

#[derive(Template)]
#[template(path = "legal/contact.html")]
struct ContactTemplate {
    layout: Layout,
    p: Publisher,
}

async fn contact(State(state): State<AppState>) -> Result<Html<String>> {
    render(&state, "Nous contacter", |layout, p| ContactTemplate {
        layout,
        p,
    })
    .await
}

/// « Faire un don »: the form of the first campaign the home page shows, else the home page.
async fn give(State(state): State<AppState>) -> Result<Response> {
    let open = campaigns::open(state.db.pool(), dates::now()).await?;
    Ok(match open.first() {
        Some(campaign) => Redirect::to(&format!("/campagnes/{}/don", campaign.slug)),
        None => Redirect::to("/#campagnes"),
    }
    .into_response())
}
