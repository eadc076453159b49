//! What each email says: its data read now, rendered by a pair of templates
//! (`templates/emails/*.html` and `*.txt`). Names and texts are escaped in the HTML part by
//! askama; the plain-text part is not HTML and is not escaped.

use askama::Template;

use super::Message;
use crate::domain::donation::DonationStatus;
use crate::domain::money::format_money;
use crate::jobs::{JobContext, JobError};
use crate::store::campaigns::{self, ImpactTier};
use crate::store::notices::{self, GiftNotice};

/// A message ready for the mailer.
#[derive(Debug, Clone)]
pub struct Composed {
    pub to_address: String,
    pub to_name: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Who sends, and where to reach them: the footer of every email.
#[derive(Debug, Clone)]
struct Footer {
    organisation: String,
    address: String,
    site: String,
}

/// The facts of a gift every email about one states.
#[derive(Debug, Clone)]
struct GiftFacts {
    first_name: String,
    amount: String,
    /// " par mois", or empty for a one-off gift.
    per: String,
    campaign_title: String,
    campaign_url: String,
    /// What the gift makes possible, from the campaign's impact tiers.
    impact: Option<String>,
    /// What a year of the gift costs after the tax reduction.
    cost_after_tax: String,
    tax_rule: String,
    space_url: String,
}

#[derive(Template)]
#[template(path = "emails/thank_you.html")]
struct ThankYouHtml<'a> {
    gift: &'a GiftFacts,
    footer: &'a Footer,
}

#[derive(Template)]
#[template(path = "emails/thank_you.txt")]
struct ThankYouText<'a> {
    gift: &'a GiftFacts,
    footer: &'a Footer,
}

#[derive(Template)]
#[template(path = "emails/welcome.html")]
struct WelcomeHtml<'a> {
    gift: &'a GiftFacts,
    footer: &'a Footer,
}

#[derive(Template)]
#[template(path = "emails/welcome.txt")]
struct WelcomeText<'a> {
    gift: &'a GiftFacts,
    footer: &'a Footer,
}

/// The message, or `None` when it is no longer called for.
pub async fn compose(ctx: &JobContext, message: &Message) -> Result<Option<Composed>, JobError> {
    let pool = ctx.db.pool();
    let footer = Footer {
        organisation: ctx.config.organisation_name.clone(),
        address: ctx.config.organisation_address.clone(),
        site: ctx.base_url.to_string(),
    };
    match *message {
        Message::ThankYou { donation_id } => {
            let Some(notice) = notices::of_donation(pool, donation_id).await? else {
                return Ok(None);
            };
            // Only for money kept: not for a gift failed or refunded in full meanwhile.
            if notice.status != DonationStatus::Paid.as_str() {
                return Ok(None);
            }
            let gift = facts(ctx, &notice).await?;
            Ok(Some(Composed {
                subject: format!("Merci pour votre don à « {} »", notice.campaign_title),
                html: ThankYouHtml {
                    gift: &gift,
                    footer: &footer,
                }
                .render()?,
                text: ThankYouText {
                    gift: &gift,
                    footer: &footer,
                }
                .render()?,
                ..addressed_to(&notice)
            }))
        }
        Message::Welcome { recurring_gift_id } => {
            let Some(notice) = notices::of_recurring_gift(pool, recurring_gift_id).await? else {
                return Ok(None);
            };
            let gift = facts(ctx, &notice).await?;
            Ok(Some(Composed {
                subject: format!(
                    "Bienvenue parmi les donateurs réguliers de « {} »",
                    notice.campaign_title
                ),
                html: WelcomeHtml {
                    gift: &gift,
                    footer: &footer,
                }
                .render()?,
                text: WelcomeText {
                    gift: &gift,
                    footer: &footer,
                }
                .render()?,
                ..addressed_to(&notice)
            }))
        }
    }
}

fn addressed_to(notice: &GiftNotice) -> Composed {
    Composed {
        to_address: notice.email.as_str().to_owned(),
        to_name: format!("{} {}", notice.first_name, notice.last_name),
        subject: String::new(),
        html: String::new(),
        text: String::new(),
    }
}

async fn facts(ctx: &JobContext, notice: &GiftNotice) -> Result<GiftFacts, JobError> {
    let tiers =
        campaigns::impact_tiers(ctx.db.pool(), notice.campaign_id, notice.project_id).await?;
    let tax = ctx.config.tax_reduction;
    let kept = notice.amount_cents - notice.refunded_cents;
    Ok(GiftFacts {
        first_name: notice.first_name.clone(),
        amount: format_money(notice.amount_cents, notice.currency),
        per: match notice.frequency.per() {
            "" => String::new(),
            per => format!(" {per}"),
        },
        campaign_title: notice.campaign_title.clone(),
        campaign_url: format!("{}/campagnes/{}", ctx.base_url, notice.campaign_slug),
        impact: ImpactTier::made_possible_by(&tiers, notice.amount_cents).map(str::to_owned),
        cost_after_tax: format_money(
            tax.cost_after_reduction(kept, notice.frequency.instalments_per_year()),
            notice.currency,
        ),
        tax_rule: tax.describe(),
        space_url: format!("{}/mon-espace", ctx.base_url),
    })
}
