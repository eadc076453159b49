//! What the donation pages show, shaped from the form, the campaign and the ledger: the
//! amount groups, the error summary, the thank-you page's sentences.

use std::collections::BTreeMap;

use askama::Template;

use super::monthly_offer::suggested_monthly;
use crate::domain::amount::AmountLimits;
use crate::domain::attribution;
use crate::domain::dates;
use crate::domain::frequency::Frequency;
use crate::domain::gift::{COUNTRIES, DedicationKind, FieldErrors, GiftForm};
use crate::domain::money::{Currency, euros_as_typed, format_money};
use crate::domain::tax::TaxReduction;
use crate::store::campaigns::{Campaign, ImpactTier, SuggestedAmount};
use crate::store::pledges::Pledge;
use crate::web::AppState;
use crate::web::layout::Layout;
use crate::web::share::{ShareLink, share_links};
use crate::web::views::CampaignView;

/// One suggested amount as a radio button.
pub struct AmountChoice {
    pub value: String,
    pub amount: String,
    pub label: Option<String>,
    pub cost_after_tax: String,
    pub checked: bool,
    /// The one the script ticks when the donor has not chosen yet.
    pub default: bool,
}

/// The form's fields in page order: (error key, the element to jump to, its label).
const FIELDS: [(&str, &str, &str); 12] = [
    ("frequency", "frequency", "Fréquence"),
    ("amount", "other_amount", "Montant"),
    ("first_name", "first_name", "Prénom"),
    ("last_name", "last_name", "Nom"),
    ("email", "email", "Adresse e-mail"),
    ("address_line1", "address_line1", "Adresse"),
    ("address_line2", "address_line2", "Complément d’adresse"),
    ("postal_code", "postal_code", "Code postal"),
    ("city", "city", "Ville"),
    ("country", "country", "Pays"),
    ("dedication_kind", "dedication_kind", "Dédicace"),
    ("dedication_name", "dedication_name", "Nom de la personne"),
];

/// One line of the error summary at the top of the form: a link to the field, its label
/// (some messages do not name it) and the message.
pub struct SummaryLine {
    pub anchor: &'static str,
    pub label: &'static str,
    pub message: String,
}

/// The errors in the order of the page, as the summary lists them.
fn error_summary(errors: &BTreeMap<&'static str, String>) -> Vec<SummaryLine> {
    FIELDS
        .iter()
        .filter_map(|(key, anchor, label)| {
            errors.get(key).map(|message| SummaryLine {
                anchor,
                label,
                message: message.clone(),
            })
        })
        .collect()
}

/// The suggestions of one frequency; the page shows the group of the frequency ticked.
pub struct AmountGroup {
    pub frequency: Frequency,
    /// The frequency ticked when the page was made.
    pub current: bool,
    pub amounts: Vec<AmountChoice>,
    pub other_checked: bool,
    /// What is ticked: a suggestion's cents, `other`, or an amount no suggestion has.
    chosen: String,
}

/// What the form says beside the fields: a message per wrong field, or one for the whole
/// form (a service down, too many attempts).
#[derive(Default)]
pub struct Feedback {
    pub errors: FieldErrors,
    pub general_error: Option<String>,
}

impl Feedback {
    pub fn fields(errors: FieldErrors) -> Feedback {
        Feedback {
            errors,
            general_error: None,
        }
    }

    pub fn general(message: impl Into<String>) -> Feedback {
        Feedback {
            errors: FieldErrors::new(),
            general_error: Some(message.into()),
        }
    }
}

#[derive(Template)]
#[template(path = "donate.html")]
pub struct DonateTemplate {
    layout: Layout,
    campaign: CampaignView,
    frequency: Frequency,
    groups: Vec<AmountGroup>,
    form: FormValues,
    summary: Vec<SummaryLine>,
    errors: BTreeMap<&'static str, String>,
    general_error: Option<String>,
    csrf_token: String,
    donate_js: String,
    countries: Vec<(&'static str, &'static str, bool)>,
    tax: TaxReduction,
    cost_preview: Option<String>,
    limits: AmountLimits,
    min_amount: String,
    max_amount: String,
    recap: Recap,
}

/// The gift as chosen when the page was made, beside the form on a laptop (`donate.js`
/// follows the donor's choices from there).
#[derive(Default)]
pub struct Recap {
    gift: Option<String>,
    cost: Option<String>,
    impact: Option<String>,
}

impl Recap {
    fn new(
        groups: &[AmountGroup],
        free_amount: Option<String>,
        free_cost: Option<String>,
    ) -> Recap {
        let ticked = groups
            .iter()
            .find(|g| g.current)
            .and_then(|g| g.amounts.iter().find(|a| a.checked));
        match ticked {
            Some(a) => Recap {
                gift: Some(a.amount.clone()),
                cost: Some(a.cost_after_tax.clone()),
                impact: a.label.clone(),
            },
            None => Recap {
                gift: free_amount,
                cost: free_cost,
                impact: None,
            },
        }
    }
}

impl DonateTemplate {
    pub fn new(
        state: &AppState,
        campaign: &Campaign,
        suggested: &[SuggestedAmount],
        form: &GiftForm,
        feedback: Feedback,
        csrf_token: String,
    ) -> DonateTemplate {
        let limits = state.config.amount_limits;
        let tax = state.config.tax_reduction;
        let frequency = form.frequency();
        let groups = amount_groups(suggested, form, campaign.currency, tax);
        let form = &shown_form(form, &groups);
        // Without the script, the cost of a free amount sent back; each suggestion shows its
        // own, and a sentence under them would go stale when another is ticked.
        let free_amount_chosen = groups.iter().any(|g| g.current && g.other_checked);
        let free_amount = free_amount_chosen
            .then(|| form.chosen_amount(limits))
            .flatten();
        let cost_preview = free_amount.map(|cents| {
            format_money(
                tax.cost_after_reduction(cents, frequency.instalments_per_year()),
                campaign.currency,
            )
        });
        let recap = Recap::new(
            &groups,
            free_amount.map(|cents| format_money(cents, campaign.currency)),
            cost_preview.clone(),
        );
        let country = form.country.clone().unwrap_or_else(|| "FR".to_owned());
        DonateTemplate {
            layout: Layout::new(state, format!("Je donne — {}", campaign.title)),
            campaign: CampaignView::new(campaign, dates::now()),
            frequency,
            groups,
            form: FormValues::from(form),
            summary: error_summary(&feedback.errors),
            errors: feedback.errors,
            general_error: feedback.general_error,
            csrf_token,
            donate_js: crate::web::assets::versioned_url("donate.js"),
            countries: COUNTRIES
                .iter()
                .map(|(code, name)| (*code, *name, *code == country))
                .collect(),
            tax,
            cost_preview,
            limits,
            min_amount: format_money(limits.min_cents, Currency::EUR),
            max_amount: format_money(limits.max_cents, Currency::EUR),
            recap,
        }
    }
}

/// Each frequency's suggestions, with what the form ticked among them.
fn amount_groups(
    suggested: &[SuggestedAmount],
    form: &GiftForm,
    currency: Currency,
    tax: TaxReduction,
) -> Vec<AmountGroup> {
    let frequency = form.frequency();
    let free_typed = free_amount_typed(form);
    Frequency::ALL
        .iter()
        .map(|&f| {
            let offered: Vec<_> = suggested.iter().filter(|a| a.frequency == f).collect();
            // What was sent (or linked to) is ticked; nothing else. The script ticks the
            // suggestion marked as the default, the middle one of three or more that donors
            // most often choose: without it nothing is ticked, so a free amount typed counts
            // without a second step.
            let chosen = match form.ticked_for(f) {
                Some(ticked) => ticked,
                // A free amount typed with nothing ticked is what counted.
                None if f == frequency && free_typed => "other".to_owned(),
                None => String::new(),
            };
            let default = offered.get(if offered.len() >= 3 { 1 } else { 0 });
            let amounts: Vec<AmountChoice> = offered
                .iter()
                .map(|a| AmountChoice {
                    value: a.amount_cents.to_string(),
                    amount: format_money(a.amount_cents, currency),
                    label: a.label.clone(),
                    cost_after_tax: format_money(
                        tax.cost_after_reduction(a.amount_cents, f.instalments_per_year()),
                        currency,
                    ),
                    checked: chosen == a.amount_cents.to_string(),
                    default: default.is_some_and(|d| d.amount_cents == a.amount_cents),
                })
                .collect();
            AmountGroup {
                frequency: f,
                current: f == frequency,
                other_checked: !chosen.is_empty() && !amounts.iter().any(|a| a.checked),
                amounts,
                chosen,
            }
        })
        .collect()
}

fn free_amount_typed(form: &GiftForm) -> bool {
    form.other_amount
        .as_deref()
        .is_some_and(|a| !a.trim().is_empty())
}

/// The form as the page shows it: with the choices of `groups` ticked, and an amount that is
/// no suggestion (a link's `montant`) in the free amount field, « Autre montant » ticked.
fn shown_form(form: &GiftForm, groups: &[AmountGroup]) -> GiftForm {
    let frequency = form.frequency();
    let mut shown = form.clone();
    if let Some(current) = groups.iter().find(|g| g.current) {
        match current.chosen.parse::<i64>() {
            Ok(cents) if current.other_checked && !free_amount_typed(form) && cents > 0 => {
                shown.other_amount = Some(euros_as_typed(cents));
                shown.set_ticked(frequency, "other");
            }
            _ => shown.set_ticked(frequency, &current.chosen),
        }
    }
    shown
}

/// The form's text fields as the template shows them (never `None`).
pub struct FormValues {
    pub other_amount: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub address_line1: String,
    pub address_line2: String,
    pub postal_code: String,
    pub city: String,
    /// The kind chosen, if it is one (the list offers nothing else).
    pub dedication_kind: Option<DedicationKind>,
    pub dedication_name: String,
    pub show_publicly: bool,
    pub news_consent: bool,
    /// Where the donor came from, passed on as typed by the link (tidy tags only).
    pub utm_source: Option<String>,
    pub utm_campaign: Option<String>,
    pub referrer: Option<String>,
}

impl FormValues {
    /// Whether the dedication list shows `kind` as chosen.
    pub fn dedicates(&self, kind: &DedicationKind) -> bool {
        self.dedication_kind == Some(*kind)
    }
}

impl From<&GiftForm> for FormValues {
    fn from(f: &GiftForm) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        FormValues {
            other_amount: text(&f.other_amount),
            first_name: text(&f.first_name),
            last_name: text(&f.last_name),
            email: text(&f.email),
            address_line1: text(&f.address_line1),
            address_line2: text(&f.address_line2),
            postal_code: text(&f.postal_code),
            city: text(&f.city),
            dedication_kind: f
                .dedication_kind
                .as_deref()
                .and_then(|kind| kind.trim().parse().ok()),
            dedication_name: text(&f.dedication_name),
            utm_source: attribution::tag(f.utm_source.as_deref()),
            utm_campaign: attribution::tag(f.utm_campaign.as_deref()),
            referrer: attribution::tag(f.referrer.as_deref()),
            show_publicly: f.show_publicly.is_some(),
            news_consent: f.news_consent.is_some(),
        }
    }
}

/// Where the gift stands, as the thank-you page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentProgress {
    Confirmed,
    /// Stripe took the payment; its webhook has not reached us yet.
    Confirming,
    /// A SEPA debit, settled in a few days.
    SepaPending,
    Failed,
    /// Paid, then given back in full.
    Refunded,
    /// The donor came back without paying.
    NotPaid,
}

/// Where a gift stands, as the thank-you page needs it.
pub struct Standing {
    pub state: PaymentProgress,
    /// Whether its checkout can still be resumed.
    pub checkout_open: bool,
    /// Given back so far (a one-off gift refunded in part).
    pub refunded_cents: i64,
}

impl From<PaymentProgress> for Standing {
    fn from(state: PaymentProgress) -> Standing {
        Standing {
            state,
            checkout_open: false,
            refunded_cents: 0,
        }
    }
}

/// One look at the thank-you page: the checkout it is about, and how many times the page
/// has refreshed itself already.
pub struct Visit {
    pub session_id: String,
    pub refreshes: u32,
}

/// The "confirming" page refreshes itself every 4 s for about a minute, then stops (a screen
/// reader starts the page again at each refresh) and offers a link to look again later.
const MAX_REFRESHES: u32 = 15;

#[derive(Template)]
#[template(path = "thanks.html")]
pub struct ThanksTemplate {
    layout: Layout,
    state: PaymentProgress,
    first_name: String,
    amount: String,
    per: String,
    cost_after_tax: String,
    /// What was given back of a one-off gift, when part of it was.
    refunded: Option<String>,
    impact: Option<String>,
    campaign_title: String,
    campaign_slug: String,
    session_id: String,
    /// The checkout to go back to, while it is still open.
    checkout_url: Option<String>,
    /// The form again, with the entries kept.
    retry_url: String,
    /// While the payment is being confirmed: the page asked again (by `thanks.js`, or the
    /// reader's click without JavaScript).
    refresh_url: Option<String>,
    thanks_js: String,
    cost_intro: String,
    /// For the form that sends a sign-in link to « Mon espace ».
    csrf_token: String,
    /// Telling others about the campaign, once the gift is made.
    share: Vec<ShareLink>,
    /// After a one-off gift confirmed: keep giving each month ([`super::monthly_offer`]).
    monthly_offer: Option<MonthlyOffer>,
}

/// The monthly gift offered: « 5 € » a month, « 60 € » over a year, « 1,70 € » after tax.
pub struct MonthlyOffer {
    amount: String,
    yearly: String,
    cost: String,
}

impl ThanksTemplate {
    pub fn new(
        state: &AppState,
        pledge: &Pledge,
        campaign: &Campaign,
        standing: &Standing,
        tiers: &[ImpactTier],
        visit: Visit,
        csrf_token: String,
    ) -> ThanksTemplate {
        let frequency = pledge.frequency;
        let Visit {
            session_id,
            refreshes,
        } = visit;
        let refresh_url = (standing.state == PaymentProgress::Confirming
            && refreshes < MAX_REFRESHES)
            .then(|| format!("/merci?session_id={session_id}&essai={}", refreshes + 1));
        let tax = state.config.tax_reduction;
        let refunded_cents = standing.refunded_cents;
        ThanksTemplate {
            layout: Layout::new(state, "Merci pour votre don"),
            state: standing.state,
            first_name: pledge.donor.first_name.clone(),
            amount: format_money(pledge.amount_cents, pledge.currency),
            // With its leading space, so that a one-off gift reads "17 €." and not "17 € .".
            per: match frequency.per() {
                "" => String::new(),
                per => format!(" {per}"),
            },
            // What was given back does not count for the tax reduction.
            cost_after_tax: format_money(
                tax.cost_after_reduction(
                    pledge.amount_cents - refunded_cents,
                    frequency.instalments_per_year(),
                ),
                pledge.currency,
            ),
            refunded: (refunded_cents > 0).then(|| format_money(refunded_cents, pledge.currency)),
            impact: ImpactTier::made_possible_by(tiers, pledge.amount_cents).map(str::to_owned),
            campaign_title: campaign.title.clone(),
            campaign_slug: campaign.slug.clone(),
            checkout_url: pledge
                .checkout_url
                .clone()
                .filter(|_| standing.checkout_open),
            retry_url: format!(
                "/campagnes/{}/don?frequence={}&reprendre={session_id}",
                campaign.slug,
                frequency.as_str()
            ),
            refresh_url,
            thanks_js: crate::web::assets::versioned_url("thanks.js"),
            cost_intro: tax.cost_intro(),
            monthly_offer: (standing.state == PaymentProgress::Confirmed
                && frequency == Frequency::Once)
                .then(|| {
                    let monthly =
                        suggested_monthly(pledge.amount_cents, state.config.amount_limits);
                    MonthlyOffer {
                        amount: format_money(monthly, pledge.currency),
                        yearly: format_money(monthly * 12, pledge.currency),
                        cost: format_money(tax.cost_after_reduction(monthly, 12), pledge.currency),
                    }
                }),
            share: share_links(
                &campaign.title,
                &format!("{}/campagnes/{}", state.base_url, campaign.slug),
            ),
            session_id,
            csrf_token,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_summary_follows_the_page_and_misses_no_field() {
        let everything_wrong = GiftForm {
            frequency: Some("weekly".into()),
            amount: Some("other".into()),
            other_amount: Some("abc".into()),
            first_name: Some(" ".into()),
            last_name: Some("x".repeat(101)),
            email: Some("pas-un-email".into()),
            address_line1: Some(String::new()),
            address_line2: Some("Bât.\u{0}B".into()),
            postal_code: Some("6900".into()),
            city: Some(String::new()),
            country: Some("XX".into()),
            dedication_kind: Some("cousin".into()),
            ..GiftForm::default()
        };
        let errors = everything_wrong
            .validate(AmountLimits::default())
            .unwrap_err();
        let summary = error_summary(&errors);
        assert_eq!(summary.len(), errors.len(), "every error is listed");
        let labels: Vec<_> = summary.iter().map(|line| line.label).collect();
        assert_eq!(&labels[..4], ["Fréquence", "Montant", "Prénom", "Nom"]);
        let anchors: Vec<_> = summary.iter().map(|line| line.anchor).collect();
        assert!(anchors.contains(&"other_amount"), "the amount's field");
    }
}
