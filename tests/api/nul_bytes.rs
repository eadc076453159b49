//! A NUL byte in every parameter of every route, on both backends: each path parameter, each
//! query parameter and each form field, as a visitor, a signed-in supporter, an admin and the
//! browser that gave.
//! PostgreSQL refuses a NUL in text (a 500 where SQLite said 200): never a 500, and nothing
//! written.
//!
//! The routes are the router's own (`TestApp::routes`, and the sandbox's), so a new route is
//! reached without anyone listing it; the forms and links are read from the pages, crawled
//! from every route. What cannot be found that way (a parameter no page links to, a POST that
//! no page has a form for) is given below, and the test fails when a route is reached by
//! neither.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use obole::domain::staff::Role;

use crate::back_office::signed_in_staff;
use crate::helpers::{Backend, Content, TestApp, spawn_app};
use crate::supporter_space::{Browser, DONOR, signed_in};

dual_backend_tests!(a_nul_in_any_parameter_of_any_route_is_refused_and_nothing_is_written);

/// The tables a refused request must leave as they were.
const TABLES: &[&str] = &[
    "audit_log",
    "campaigns",
    "consent_changes",
    "disputes",
    "donations",
    "emails_sent",
    "impact_tiers",
    "news_posts",
    "payment_failures",
    "pledges",
    "projects",
    "receipt_gifts",
    "recurring_gifts",
    "sign_in_tokens",
    "staff",
    "stripe_events",
    "suggested_amounts",
    "supporters",
    "tax_receipts",
];

/// The sandbox's Stripe API key (demonstration mode).
const SANDBOX_KEY: &str = "sk_test_obole_sandbox";

/// A value for a path parameter no crawled page links to (or the sandbox's, whose ids the
/// checkout below makes): enough for the route to be reached, the NUL put in its place.
fn fallback_value(template: &str, param: &str) -> &'static str {
    match param {
        "slug" if template.starts_with("/projets") => "peps",
        "slug" => "le-sport-pour-grandir",
        "topic" => "nouvelles",
        "action" => "pause",
        "subscription" => "sub_inconnu",
        "name" => "inconnue.png",
        "path" => "inconnu.css",
        "token" => "jeton-inconnu",
        _ => "1",
    }
}

/// The POST routes no page has a form for (APIs, webhooks), with the fields they read.
fn fields_without_a_form(template: &str) -> Option<&'static [&'static str]> {
    Some(match template {
        "/webhooks/stripe" => &[],
        "/sandbox/stripe/v1/checkout/sessions" => &[
            "mode",
            "success_url",
            "customer_email",
            "metadata[pledge_id]",
            "line_items[0][price_data][unit_amount]",
        ],
        "/sandbox/stripe/v1/checkout/sessions/{id}/expire" => &["expand[]"],
        "/sandbox/stripe/v1/subscriptions/{id}" => &["cancel_at_period_end", "metadata[x]"],
        "/sandbox/stripe/v1/refunds" => &["payment_intent", "amount"],
        "/sandbox/stripe/v1/disputes/{id}/close" => &["expand[]"],
        "/sandbox/stripe/v1/billing_portal/sessions" => &["customer", "return_url"],
        "/sandbox/stripe/v1/{*path}" | "/sandbox/stripe/v1" => &["x"],
        // Forms the crawl does not meet: an email's links (their tokens), a one-off gift's
        // thank-you page, a stopped gift, a receipt, a dispute, Stripe's portal.
        "/desinscription/{topic}/{token}"
        | "/mon-espace/adresse/{token}"
        | "/mon-espace/connexion/{token}"
        | "/mon-espace/dons-reguliers/{id}/recommencer" => &["csrf_token"],
        "/merci/mensuel" => &["csrf_token", "session_id"],
        "/admin/recus/{id}/annulation" => &["csrf_token", "reason"],
        "/sandbox/control/disputes/{id}/close" => &["outcome"],
        "/sandbox/portal/{id}/subscriptions/{subscription}/{action}" => &["x"],
        _ => return None,
    })
}

/// Who asks: each crawls every route, with its own cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Visitor,
    Supporter,
    Admin,
    /// The browser that gave: the thank-you page shows the gift to it alone.
    Donor,
}

const EVERYONE: [Who; 4] = [Who::Visitor, Who::Supporter, Who::Admin, Who::Donor];

async fn a_nul_in_any_parameter_of_any_route_is_refused_and_nothing_is_written(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    // A monthly gift paid by card: a recurring gift, a donation, emails with their links.
    let (session_id, paid) = app
        .give(
            "le-sport-pour-grandir",
            &[("frequency", "monthly"), ("amount", "2000")],
            "card",
        )
        .await;
    assert_eq!(paid.status(), 303);
    app.settle_webhooks().await;
    // An unpaid checkout, for the sandbox's hosted page and its form.
    let open_checkout = app.submit_gift("le-sport-pour-grandir", &[]).await;
    let open_checkout = path_of(open_checkout.headers()["location"].to_str().unwrap());
    let browsers = [
        Browser::new(&app).client,
        signed_in(&app, DONOR).await.client,
        signed_in_staff(&app, "admin.nul@example.org", Role::Admin)
            .await
            .client,
        app.client.clone(),
    ];
    let browser = |who: Who| &browsers[who as usize];

    let templates = every_template(&app);
    assert!(templates.len() > 80, "the router's routes: {templates:?}");

    // Crawl: from the pages everyone starts at, every page linked to, once per route; then
    // the routes no link reached, at an address another one found, or their fallback.
    let seeds = [
        "/".to_owned(),
        "/admin".to_owned(),
        "/mon-espace".to_owned(),
        "/demo/emails".to_owned(),
        "/sandbox".to_owned(),
        format!("/merci?session_id={session_id}"),
        open_checkout,
    ];
    let mut crawl = Crawl::default();
    for who in EVERYONE {
        crawl
            .visit(&app, &templates, who, browser(who), seeds.to_vec())
            .await;
    }
    for who in EVERYONE {
        let rest: Vec<String> = templates
            .iter()
            .filter(|t| !crawl.visited.contains(&(who, (*t).clone())))
            .map(|t| crawl.examples.get(t).cloned().unwrap_or_else(|| example(t)))
            .collect();
        crawl.visit(&app, &templates, who, browser(who), rest).await;
    }

    // Every answer over 499 and every write, said at the end (a write is counted once).
    let mut problems = Problems {
        counts: row_counts(&app).await,
        found: Vec::new(),
    };
    let mut reached = BTreeSet::new();
    let mut post_routes = BTreeSet::new();

    // Each path parameter, and the query string, of every route, with each method it takes.
    for template in &templates {
        let path = crawl.examples.get(template).cloned().unwrap_or_else(|| {
            panic!("no page links to {template} and it has no example: give one")
        });
        let methods = methods_of(&app, &path).await;
        if methods.iter().any(|m| m == "POST") {
            post_routes.insert(template.clone());
        }
        for who in EVERYONE {
            let client = browser(who);
            for method in &methods {
                for nul_path in nul_in_each_segment(template, &path) {
                    let response = request(client, &app, method, &nul_path).send().await;
                    let status = response.unwrap().status().as_u16();
                    problems.status(status, || format!("{method} {nul_path} as {who:?}"));
                }
                let target = path.split('?').next().unwrap_or_default();
                let mut names: BTreeSet<String> = ["x".to_owned()].into();
                names.extend(crawl.query_names.get(target).cloned().unwrap_or_default());
                for name in names {
                    let nul_query = format!("{target}?{name}=a%00b");
                    let response = request(client, &app, method, &nul_query).send().await;
                    let status = response.unwrap().status().as_u16();
                    assert_eq!(status, 404, "{method} {nul_query} as {who:?}");
                }
            }
            problems
                .writes(&app, || format!("{template} as {who:?}"))
                .await;
        }
    }

    // Each field of every form a page shows, one at a time, the others as the page has them.
    let mut seen = BTreeSet::new();
    for (who, form) in &crawl.forms {
        if form.method != "post" {
            continue;
        }
        let Some(template) = template_of(&templates, &form.action) else {
            panic!("a form posts to {} that no route serves", form.action);
        };
        let names: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
        if !seen.insert((*who, template.clone(), names.join("&"))) {
            continue;
        }
        reached.insert(template.clone());
        // A checkbox says yes by being sent, whatever its value: no text of it is kept. A
        // radio button not ticked is not sent.
        for field in form
            .fields
            .iter()
            .filter(|f| (f.sent && !f.checkbox) || f.file)
        {
            // Early, where a parser would stop at it; last, past what it checks.
            for at_end in [false, true] {
                let response = form
                    .post_with_nul_in(browser(*who), &app, &field.name, at_end)
                    .await;
                let status = response.status().as_u16();
                let what = || {
                    format!(
                        "POST {} with a NUL in {} as {who:?}",
                        form.action, field.name
                    )
                };
                problems.status(status, what);
                problems.writes(&app, what).await;
            }
        }
    }

    // The POST routes without a form: the fields they read, and a signed webhook.
    for template in &templates {
        let Some(fields) = fields_without_a_form(template) else {
            continue;
        };
        reached.insert(template.clone());
        let path = &crawl.examples[template];
        for (who, field) in EVERYONE
            .into_iter()
            .flat_map(|w| fields.iter().map(move |f| (w, f)))
        {
            let response = browser(who)
                .post(app.url(path))
                .bearer_auth(SANDBOX_KEY)
                .form(&[(*field, "a\0b")])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            problems.status(status, || {
                format!("POST {path} with a NUL in {field} as {who:?}")
            });
        }
    }
    for event in nul_events() {
        let status = app.deliver(&event).await;
        problems.status(status, || format!("webhook {event}"));
        problems
            .writes(&app, || format!("webhook {event}: {status}"))
            .await;
    }
    problems
        .writes(&app, || "the forms without a page".to_owned())
        .await;
    assert!(problems.found.is_empty(), "{}", problems.found.join("\n"));

    eprintln!(
        "NUL sent to {} routes ({} forms, {} with a POST) as a visitor, a supporter, an admin and a donor",
        templates.len(),
        seen.len(),
        post_routes.len()
    );
    let missed: Vec<_> = post_routes.difference(&reached).collect();
    assert!(
        missed.is_empty(),
        "POST routes no form reached (give their fields in `fields_without_a_form`): {missed:?}"
    );
}

/// What went wrong, and the row counts as they now are.
struct Problems {
    counts: BTreeMap<&'static str, i64>,
    found: Vec<String>,
}

impl Problems {
    fn status(&mut self, status: u16, what: impl Fn() -> String) {
        if status >= 500 {
            self.found.push(format!("{} answered {status}", what()));
        }
    }

    async fn writes(&mut self, app: &TestApp, what: impl Fn() -> String) {
        let counts = row_counts(app).await;
        let written: Vec<String> = counts
            .iter()
            .filter(|(table, count)| self.counts[*table] != **count)
            .map(|(table, count)| format!("{table} {} → {count}", self.counts[table]))
            .collect();
        if !written.is_empty() {
            self.found
                .push(format!("{} wrote: {}", what(), written.join(", ")));
            self.counts = counts;
        }
    }
}

/// What the crawl found.
#[derive(Default)]
struct Crawl {
    visited: BTreeSet<(Who, String)>,
    /// A real address for each route reached, the first seen.
    examples: BTreeMap<String, String>,
    /// The query parameters that links carry, by path.
    query_names: BTreeMap<String, BTreeSet<String>>,
    forms: Vec<(Who, Form)>,
}

impl Crawl {
    /// Visits `start` and what it links to, as `who`: each route once.
    async fn visit(
        &mut self,
        app: &TestApp,
        templates: &[String],
        who: Who,
        client: &reqwest::Client,
        start: Vec<String>,
    ) {
        let mut queue: VecDeque<String> = start.into();
        while let Some(path) = queue.pop_front() {
            let Some(template) = template_of(templates, &path) else {
                continue;
            };
            if !self.visited.insert((who, template.clone())) {
                continue;
            }
            self.examples
                .entry(template.clone())
                .or_insert_with(|| path.clone());
            let response = client.get(app.url(&path)).send().await.unwrap();
            let status = response.status().as_u16();
            assert!(status < 500, "GET {path} as {who:?}: {status}");
            let html = response.text().await.unwrap_or_default();
            for link in links(&html) {
                let link = path_of(&link);
                if let Some((target, query)) = link.split_once('?') {
                    let names = query.split('&').filter_map(|p| p.split('=').next());
                    self.query_names
                        .entry(target.to_owned())
                        .or_default()
                        .extend(names.map(str::to_owned));
                }
                queue.push_back(link);
            }
            for form in forms(&html, &path) {
                let action = path_of(&form.action);
                self.forms.push((who, Form { action, ..form }));
            }
        }
    }
}

/// Every route template: Obole's, and the sandbox's under `/sandbox`.
fn every_template(app: &TestApp) -> Vec<String> {
    let mut templates: Vec<String> = app
        .routes
        .iter()
        .filter(|path| !matches!(path.as_str(), "/sandbox" | "/sandbox/"))
        .cloned()
        .collect();
    let sandbox = obole::web::route_paths(&app.sandbox().router());
    templates.extend(sandbox.iter().map(|path| match path.as_str() {
        "/" => "/sandbox".to_owned(),
        path => format!("/sandbox{path}"),
    }));
    templates.sort();
    templates.dedup();
    templates
}

/// `template` with each parameter given its fallback value.
fn example(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match param_name(segment) {
            Some(name) => fallback_value(template, name).to_owned(),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `{name}` or `{*name}`: the parameter's name.
fn param_name(segment: &str) -> Option<&str> {
    let inner = segment.strip_prefix('{')?.strip_suffix('}')?;
    Some(inner.trim_start_matches('*'))
}

/// The route that serves `path` (its query aside): the most specific template that matches.
fn template_of(templates: &[String], path: &str) -> Option<String> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    templates
        .iter()
        .filter(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            let wildcard = parts.last().is_some_and(|p| p.starts_with("{*"));
            if wildcard {
                segments.len() >= parts.len()
                    && parts[..parts.len() - 1]
                        .iter()
                        .zip(&segments)
                        .all(|(p, s)| p == s || (param_name(p).is_some() && !s.is_empty()))
            } else {
                segments.len() == parts.len()
                    && parts
                        .iter()
                        .zip(&segments)
                        .all(|(p, s)| p == s || (param_name(p).is_some() && !s.is_empty()))
            }
        })
        // Literal segments win over parameters, as in the router.
        .max_by_key(|template| {
            let literal = template
                .split('/')
                .filter(|p| param_name(p).is_none())
                .count();
            (!template.contains("{*"), literal)
        })
        .cloned()
}

/// `path` (an address of `template`) once per parameter, with a NUL in that one.
fn nul_in_each_segment(template: &str, path: &str) -> Vec<String> {
    let path = path.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = template.split('/').collect();
    let segments: Vec<&str> = path.split('/').collect();
    let mut variants = Vec::new();
    for (at, part) in parts.iter().enumerate() {
        if param_name(part).is_none() {
            continue;
        }
        let mut nul: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
        let value = &segments[at];
        let split = value.chars().next().map_or(0, char::len_utf8);
        nul[at] = format!("{}%00{}", &value[..split], &value[split..]);
        variants.push(nul.join("/"));
    }
    variants
}

/// The methods a route takes, from the `Allow` header of its 405 to another one (GET and
/// POST for a route that takes any).
async fn methods_of(app: &TestApp, path: &str) -> Vec<String> {
    let response = app
        .client
        .request(reqwest::Method::PATCH, app.url(path))
        .bearer_auth(SANDBOX_KEY)
        .send()
        .await
        .unwrap();
    let allow = response
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match allow {
        Some(allow) => allow
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| m != "HEAD")
            .collect(),
        None => vec!["GET".to_owned(), "POST".to_owned(), "DELETE".to_owned()],
    }
}

fn request(
    client: &reqwest::Client,
    app: &TestApp,
    method: &str,
    path: &str,
) -> reqwest::RequestBuilder {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    client
        .request(method, app.url(path))
        .bearer_auth(SANDBOX_KEY)
        .form(&[("csrf_token", "x")])
}

/// An address as a path (`/…?…`): every absolute one in the tests is this server's (under
/// whatever name the configuration gives it).
fn path_of(link: &str) -> String {
    match link.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map_or("/".to_owned(), |at| rest[at..].to_owned()),
        None => link.to_owned(),
    }
}

/// The row count of each table.
async fn row_counts(app: &TestApp) -> BTreeMap<&'static str, i64> {
    let mut counts = BTreeMap::new();
    for table in TABLES {
        counts.insert(
            *table,
            app.count(&format!("SELECT COUNT(*) FROM {table}")).await,
        );
    }
    counts
}

/// Signed events whose fields hold a NUL where Obole reads them.
fn nul_events() -> Vec<serde_json::Value> {
    let event = |id: &str, kind: &str, object: serde_json::Value| {
        serde_json::json!({
            "id": id, "object": "event", "type": kind, "created": 1_767_225_600,
            "api_version": "2026-09-30.endive", "livemode": false, "pending_webhooks": 1,
            "data": { "object": object },
        })
    };
    vec![
        event(
            "evt_\0",
            "customer.created",
            serde_json::json!({ "id": "cus_1" }),
        ),
        event(
            "evt_nul_checkout",
            "checkout.session.completed",
            serde_json::json!({ "id": "cs_\0", "object": "checkout.session", "mode": "payment",
                "payment_status": "paid", "amount_total": 100, "currency": "eur",
                "payment_intent": "pi_\0", "metadata": { "pledge_id": "1\0" } }),
        ),
        event(
            "evt_nul_refund",
            "charge.refunded",
            serde_json::json!({ "id": "ch_\0", "object": "charge", "amount": 100,
                "amount_refunded": 100, "currency": "eur", "payment_intent": "pi_\0" }),
        ),
        event(
            "evt_nul_subscription",
            "customer.subscription.updated",
            serde_json::json!({ "id": "sub_\0", "object": "subscription", "status": "active",
                "customer": "cus_\0", "metadata": { "pledge_id": "\0" } }),
        ),
        event(
            "evt_nul_invoice",
            "invoice.paid",
            serde_json::json!({ "id": "in_\0", "object": "invoice", "amount_paid": 100,
                "currency": "eur", "subscription": "sub_\0" }),
        ),
        event(
            "evt_nul_dispute",
            "charge.dispute.created",
            serde_json::json!({ "id": "dp_\0", "object": "dispute", "amount": 100,
                "currency": "eur", "charge": "ch_\0", "payment_intent": "pi_\0",
                "reason": "fraud\0", "status": "needs_response\0", "created": 1 }),
        ),
    ]
}

// A small reader of the HTML Obole writes (askama templates: double-quoted attributes).

/// A form as a page shows it.
#[derive(Debug, Clone)]
struct Form {
    action: String,
    method: String,
    multipart: bool,
    fields: Vec<Field>,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    value: String,
    /// Sent as the page has it (a checkbox or radio button not ticked is not).
    sent: bool,
    file: bool,
    checkbox: bool,
}

impl Form {
    /// Posts the form as the page has it, but with a NUL in the field `nul`: after its first
    /// character, or at its end.
    async fn post_with_nul_in(
        &self,
        client: &reqwest::Client,
        app: &TestApp,
        nul: &str,
        at_end: bool,
    ) -> reqwest::Response {
        let with_nul = |value: &str| {
            let split = match at_end {
                true => value.len(),
                false => value.chars().next().map_or(0, char::len_utf8),
            };
            format!("{}\0{}", &value[..split], &value[split..])
        };
        let url = app.url(&self.action);
        if self.multipart {
            let mut body = reqwest::multipart::Form::new();
            for field in &self.fields {
                if field.file {
                    let name = if field.name == nul {
                        "image\0.png"
                    } else {
                        "image.png"
                    };
                    let part = reqwest::multipart::Part::bytes(COVER.to_vec())
                        .file_name(name)
                        .mime_str("image/png")
                        .unwrap();
                    body = body.part(field.name.clone(), part);
                } else if field.name == nul {
                    body = body.text(field.name.clone(), with_nul(&field.value));
                } else if field.sent {
                    body = body.text(field.name.clone(), field.value.clone());
                }
            }
            return client.post(url).multipart(body).send().await.unwrap();
        }
        let mut fields: Vec<(String, String)> = Vec::new();
        for field in &self.fields {
            if field.name == nul {
                if !fields.iter().any(|(name, _)| name == nul) {
                    fields.push((field.name.clone(), with_nul(&field.value)));
                }
            } else if field.sent {
                fields.push((field.name.clone(), field.value.clone()));
            }
        }
        client.post(url).form(&fields).send().await.unwrap()
    }
}

const COVER: &[u8] = include_bytes!("../fixtures/cover.png");

/// The internal links of a page: its `href`s and its forms' actions.
fn links(html: &str) -> Vec<String> {
    let mut links = Vec::new();
    for attribute in ["href=\"", "action=\""] {
        for piece in html.split(attribute).skip(1) {
            let Some(end) = piece.find('"') else { continue };
            let link = unescape(&piece[..end]);
            if link.starts_with('/') || link.starts_with("http://") {
                links.push(link);
            }
        }
    }
    links
}

/// Every form of a page (its action defaulting to the page's own address).
fn forms(html: &str, page: &str) -> Vec<Form> {
    let mut forms = Vec::new();
    for piece in html.split("<form").skip(1) {
        let Some(open_end) = piece.find('>') else {
            continue;
        };
        let attrs = attributes(&piece[..open_end]);
        let body = &piece[open_end + 1..piece.find("</form>").unwrap_or(piece.len())];
        let mut fields = Vec::new();
        for (tag, rest) in tags(body) {
            let field_attrs = attributes(rest);
            let Some(name) = field_attrs.get("name").cloned() else {
                continue;
            };
            if field_attrs.contains_key("disabled") {
                continue;
            }
            let kind = field_attrs.get("type").map_or("text", String::as_str);
            let (value, sent, file) = match tag {
                "textarea" => {
                    let content = &body[offset(body, rest)..];
                    let start = content.find('>').map_or(0, |i| i + 1);
                    let end = content.find("</textarea>").unwrap_or(content.len());
                    (unescape(&content[start..end]), true, false)
                }
                "select" => {
                    let content = &body[offset(body, rest)..];
                    let end = content.find("</select>").unwrap_or(content.len());
                    let options: Vec<_> = tags(&content[..end])
                        .into_iter()
                        .filter(|(t, _)| *t == "option")
                        .map(|(_, a)| attributes(a))
                        .collect();
                    let chosen = options
                        .iter()
                        .find(|o| o.contains_key("selected"))
                        .or(options.first());
                    let value = chosen
                        .and_then(|o| o.get("value").cloned())
                        .unwrap_or_default();
                    (value, true, false)
                }
                "button" => (
                    field_attrs.get("value").cloned().unwrap_or_default(),
                    false,
                    false,
                ),
                _ => {
                    let value = field_attrs.get("value").cloned();
                    match kind {
                        "checkbox" | "radio" => (
                            value.unwrap_or_else(|| "on".to_owned()),
                            field_attrs.contains_key("checked"),
                            false,
                        ),
                        "submit" | "image" | "reset" => (value.unwrap_or_default(), false, false),
                        "file" => (String::new(), false, true),
                        _ => (value.unwrap_or_default(), true, false),
                    }
                }
            };
            // A radio group already met keeps its first (or ticked) value.
            if let Some(known) = fields.iter_mut().find(|f: &&mut Field| f.name == name) {
                if sent && !known.sent {
                    known.value = value;
                    known.sent = true;
                }
                continue;
            }
            let checkbox = tag == "input" && kind == "checkbox";
            fields.push(Field {
                checkbox,
                name,
                value,
                sent,
                file,
            });
        }
        forms.push(Form {
            action: attrs
                .get("action")
                .cloned()
                .unwrap_or_else(|| page.to_owned()),
            method: attrs
                .get("method")
                .map_or_else(|| "get".to_owned(), |m| m.to_ascii_lowercase()),
            multipart: attrs
                .get("enctype")
                .is_some_and(|e| e.contains("multipart")),
            fields,
        });
    }
    forms
}

/// Where `part`, a slice of `whole`, starts in it.
fn offset(whole: &str, part: &str) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
}

/// The tags of interest in `html`: (name, the text of the opening tag after its name).
fn tags(html: &str) -> Vec<(&'static str, &str)> {
    let mut found = Vec::new();
    for (at, _) in html.match_indices('<') {
        let rest = &html[at + 1..];
        for tag in ["input", "select", "textarea", "button", "option"] {
            let Some(after) = rest.strip_prefix(tag) else {
                continue;
            };
            if !after.starts_with([' ', '>', '/', '\n']) {
                continue;
            }
            let end = after.find('>').unwrap_or(after.len());
            found.push((tag, &after[..end]));
        }
    }
    found
}

/// The attributes of an opening tag, unescaped; a bare one (`checked`) maps to "".
fn attributes(tag: &str) -> BTreeMap<String, String> {
    let mut attrs = BTreeMap::new();
    let mut rest = tag.trim_start();
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = &rest[name_end..];
        let value = if let Some(after) = rest.strip_prefix("=\"") {
            let end = after.find('"').unwrap_or(after.len());
            rest = &after[(end + 1).min(after.len())..];
            unescape(&after[..end])
        } else {
            rest = rest.get(1..).unwrap_or_default();
            String::new()
        };
        if !name.is_empty() {
            attrs.insert(name, value);
        }
        rest = rest.trim_start();
    }
    attrs
}

/// HTML's character references, named (the few askama writes) or numbered.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|end| *end <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let number = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => name.strip_prefix('#').and_then(|n| n.parse().ok()),
        };
        let decoded = match name {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "apos" => Some('\''),
            _ => number.and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
