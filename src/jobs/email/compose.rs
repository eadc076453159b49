//! What each email says: its data read now, rendered by a pair of templates
//! (`templates/emails/*.html` and `*.txt`). Names and texts are escaped in the HTML part by
//! askama; the plain-text part is not HTML and is not escaped.

use askama::Template;

use super::{GiftChange, Message};
use crate::domain::consent::Topic;
use crate::domain::dates::{self, DAY, HOUR, MINUTE, french_date};
use crate::domain::donation::DonationStatus;
use crate::domain::money::format_money;
use crate::domain::pledge::PledgeStatus;
use crate::domain::receipt::{ReceiptContent, ReceiptStatus};
use crate::domain::recurring_gift::RecurringGiftStatus;
use crate::domain::sign_in;
use crate::jobs::{JobContext, JobError};
use crate::links::{NO_EXPIRY, Purpose};
use crate::markdown;
use crate::receipts;
use crate::store::campaigns::{self, ImpactTier};
use crate::store::news;
use crate::store::notices::{self, GiftNotice};
use crate::store::receipts as store_receipts;
use crate::store::sign_in_tokens::{self, LinkKind, LinkState};
use crate::store::supporters;

/// How long the link of a failed-payment email opens the Billing Portal: as long as Stripe's
/// retries last, and some.
const FIX_PAYMENT_LINK_LIFETIME: i64 = 45 * DAY;

/// What the thank-you email says of the gift's tax receipt, and the receipt itself.
#[derive(Debug, Clone, Default)]
pub struct ReceiptNote {
    /// « Votre reçu fiscal n° 2026-000123 est joint à ce message. » or why it waits.
    pub sentence: String,
    pub attachment: Option<Attachment>,
}

/// Issues the gift's receipt (once: sent again, the email finds the same one) and says so.
async fn receipt_of_gift(ctx: &JobContext, donation_id: i64) -> Result<ReceiptNote, JobError> {
    let now = dates::now();
    let outcome = receipts::issue_single(&ctx.db, donation_id, now).await?;
    let mut conn = ctx.db.pool().acquire().await?;
    let covering = store_receipts::covering(&mut conn, donation_id).await?;
    drop(conn);
    if let Some(receipt_id) = covering {
        let pdf = receipts::pdf_of(&ctx.db, &ctx.config.data_dir, receipt_id)
            .await
            .map_err(|e| JobError::Transient(format!("reçu fiscal : {e}")))?;
        let mut conn = ctx.db.pool().acquire().await?;
        let number = store_receipts::find(&mut conn, receipt_id)
            .await?
            .map(|r| r.number)
            .unwrap_or_default();
        return Ok(ReceiptNote {
            sentence: format!(
                "Votre reçu fiscal n° {number} est joint à ce message ; vous le retrouverez aussi dans votre espace donateur."
            ),
            attachment: pdf.map(|bytes| Attachment {
                filename: format!("recu-fiscal-{number}.pdf"),
                content_type: "application/pdf",
                bytes,
            }),
        });
    }
    let sentence = match outcome {
        receipts::Outcome::AddressMissing { supporter_id } => {
            supporters::receipt_address_asked(&ctx.db, supporter_id, now).await?;
            "Pour établir votre reçu fiscal, il nous manque votre adresse postale : indiquez-la dans votre espace donateur, et il vous sera envoyé."
        }
        _ => "Votre reçu fiscal vous sera envoyé prochainement.",
    };
    Ok(ReceiptNote {
        sentence: sentence.to_owned(),
        attachment: None,
    })
}

/// A receipt still standing (one cancelled meanwhile gets its own correction's email), what
/// it says, and its donor (none once erased).
async fn standing_receipt(
    ctx: &JobContext,
    receipt_id: i64,
) -> Result<Option<(store_receipts::Receipt, ReceiptContent, notices::Recipient)>, JobError> {
    let pool = ctx.db.pool();
    let mut conn = pool.acquire().await?;
    let Some(receipt) = store_receipts::find(&mut conn, receipt_id).await? else {
        return Ok(None);
    };
    drop(conn);
    if receipt.status != ReceiptStatus::Issued {
        return Ok(None);
    }
    let Some(person) = notices::recipient(pool, receipt.supporter_id).await? else {
        return Ok(None);
    };
    let content: ReceiptContent = serde_json::from_str(&receipt.content)
        .map_err(|e| JobError::Permanent(format!("reçu illisible : {e}")))?;
    Ok(Some((receipt, content, person)))
}

/// An email to a supporter, by name.
fn addressed_to_person(person: &notices::Recipient, supporter_id: i64) -> Composed {
    Composed {
        to_address: person.email.as_str().to_owned(),
        to_name: format!("{} {}", person.first_name, person.last_name),
        supporter_id: Some(supporter_id),
        ..Composed::default()
    }
}

/// A receipt's PDF, as a file to attach.
async fn receipt_attachment(
    ctx: &JobContext,
    receipt_id: i64,
) -> Result<Vec<Attachment>, JobError> {
    let mut conn = ctx.db.pool().acquire().await?;
    let Some(receipt) = store_receipts::find(&mut conn, receipt_id).await? else {
        return Ok(Vec::new());
    };
    drop(conn);
    let pdf = receipts::pdf_of(&ctx.db, &ctx.config.data_dir, receipt_id)
        .await
        .map_err(|e| JobError::Transient(format!("reçu fiscal : {e}")))?;
    Ok(pdf
        .map(|bytes| Attachment {
            filename: format!("recu-fiscal-{}.pdf", receipt.number),
            content_type: "application/pdf",
            bytes,
        })
        .into_iter()
        .collect())
}

/// A message ready for the mailer.
#[derive(Debug, Clone, Default)]
pub struct Composed {
    pub to_address: String,
    pub to_name: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The one-click unsubscribe of an email that is not strictly transactional (RFC 8058).
    pub unsubscribe: Option<String>,
    /// The supporter it is for, whose record of emails sent keeps it.
    pub supporter_id: Option<i64>,
    /// Files sent with it (a tax receipt).
    pub attachments: Vec<Attachment>,
}

/// A file sent with an email.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
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
    receipt: &'a ReceiptNote,
    footer: &'a Footer,
}

#[derive(Template)]
#[template(path = "emails/thank_you.txt")]
struct ThankYouText<'a> {
    gift: &'a GiftFacts,
    receipt: &'a ReceiptNote,
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

/// A short email about a gift or an account: a few paragraphs, one fact set apart, at most one
/// button, and the unsubscribe line of a non-transactional email.
#[derive(Debug, Clone, Default)]
struct Notice {
    title: String,
    first_name: String,
    paragraphs: Vec<String>,
    highlight: Option<String>,
    action: Option<Action>,
    unsubscribe: Option<Unsubscribe>,
}

#[derive(Debug, Clone)]
struct Action {
    label: &'static str,
    url: String,
}

#[derive(Debug, Clone)]
struct Unsubscribe {
    /// What the email is about, as « you receive it because you asked for … ».
    what: &'static str,
    url: String,
}

#[derive(Template)]
#[template(path = "emails/notice.html")]
struct NoticeHtml<'a> {
    notice: &'a Notice,
    footer: &'a Footer,
}

#[derive(Template)]
#[template(path = "emails/notice.txt")]
struct NoticeText<'a> {
    notice: &'a Notice,
    footer: &'a Footer,
}

/// How much of a news post its email carries (the rest is on the site).
const NEWS_PARAGRAPHS: usize = 3;

/// The message, or `None` when it is no longer called for.
pub async fn compose(ctx: &JobContext, message: &Message) -> Result<Option<Composed>, JobError> {
    let pool = ctx.db.pool();
    let footer = Footer {
        organisation: ctx.config.organisation_name.clone(),
        address: ctx.config.organisation_address.clone(),
        site: ctx.base_url.to_string(),
    };
    match message {
        Message::ThankYou { donation_id } => {
            let Some(notice) = notices::of_donation(pool, *donation_id).await? else {
                return Ok(None);
            };
            // Only for money kept: not for a gift failed or refunded in full meanwhile.
            if notice.status != DonationStatus::Paid.as_str() {
                return Ok(None);
            }
            let gift = facts(ctx, &notice).await?;
            let receipt = receipt_of_gift(ctx, *donation_id).await?;
            Ok(Some(Composed {
                subject: format!("Merci pour votre don à « {} »", notice.campaign_title),
                html: ThankYouHtml {
                    gift: &gift,
                    receipt: &receipt,
                    footer: &footer,
                }
                .render()?,
                text: ThankYouText {
                    gift: &gift,
                    receipt: &receipt,
                    footer: &footer,
                }
                .render()?,
                attachments: receipt.attachment.clone().into_iter().collect(),
                ..addressed_to(&notice)
            }))
        }
        Message::Welcome { recurring_gift_id } => {
            let Some(notice) = notices::of_recurring_gift(pool, *recurring_gift_id).await? else {
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
        other => {
            let Some((notice, to)) = self::notice(ctx, other).await? else {
                return Ok(None);
            };
            let attachments = match other {
                Message::ReceiptCorrected { receipt_id }
                | Message::AnnualReceipt { receipt_id } => {
                    receipt_attachment(ctx, *receipt_id).await?
                }
                _ => Vec::new(),
            };
            Ok(Some(Composed {
                attachments,
                subject: notice.title.clone(),
                html: NoticeHtml {
                    notice: &notice,
                    footer: &footer,
                }
                .render()?,
                text: NoticeText {
                    notice: &notice,
                    footer: &footer,
                }
                .render()?,
                unsubscribe: notice.unsubscribe.as_ref().map(|u| u.url.clone()),
                ..to
            }))
        }
    }
}

/// The short emails: what each says, and to whom, or `None` when it is no longer called for.
async fn notice(
    ctx: &JobContext,
    message: &Message,
) -> Result<Option<(Notice, Composed)>, JobError> {
    let pool = ctx.db.pool();
    let base = &ctx.base_url;
    match message {
        Message::ThankYou { .. } | Message::Welcome { .. } => Ok(None),
        Message::Instalment { donation_id } => {
            let Some(gift) = notices::of_donation(pool, *donation_id).await? else {
                return Ok(None);
            };
            // Only while they still want it, for money kept, and not for the first
            // instalment (the welcome email is its thanks).
            if gift.instalment_emails == 0
                || gift.status != DonationStatus::Paid.as_str()
                || notices::is_first_instalment(pool, *donation_id).await?
            {
                return Ok(None);
            }
            let notice = Notice {
                title: format!("Votre don à « {} » est bien arrivé", gift.campaign_title),
                paragraphs: vec![
                    format!(
                        "Nous avons bien reçu votre don{} de {} du {} pour « {} ». Merci de votre fidélité !",
                        frequency_adjective(&gift),
                        format_money(gift.amount_cents, gift.currency),
                        french_date(gift.at),
                        gift.campaign_title
                    ),
                    "Votre reçu fiscal annuel récapitulera tous vos dons de l’année.".to_owned(),
                ],
                action: Some(space_action(base)),
                unsubscribe: Some(Unsubscribe {
                    what: "un email à chaque prélèvement de votre don régulier",
                    url: ctx.links.url(
                        base,
                        Purpose::Unsubscribe(Topic::Instalments),
                        gift.supporter_id,
                        NO_EXPIRY,
                    ),
                }),
                ..greeting(&gift)
            };
            Ok(Some((notice, addressed_to(&gift))))
        }
        Message::PaymentFailed {
            recurring_gift_id, ..
        } => {
            let Some(gift) = notices::of_recurring_gift(pool, *recurring_gift_id).await? else {
                return Ok(None);
            };
            // Fixed already (a retry went through), or ended: nothing left to fix. Nor for a
            // gift that never started (its rejected first debit is told by itself).
            if gift.status != RecurringGiftStatus::PastDue.as_str()
                || !notices::gift_started(pool, *recurring_gift_id).await?
            {
                return Ok(None);
            }
            let expires = dates::now() + FIX_PAYMENT_LINK_LIFETIME;
            let notice = Notice {
                title: "Votre don régulier n’a pas pu être prélevé".to_owned(),
                paragraphs: vec![
                    format!(
                        "Le dernier prélèvement de votre don de {}{} pour « {} » n’a pas abouti : \
                         carte expirée ou remplacée, plafond atteint, ou prélèvement rejeté par votre banque.",
                        format_money(gift.amount_cents, gift.currency),
                        per(&gift),
                        gift.campaign_title
                    ),
                    "Nous réessaierons dans quelques jours. Pour que votre soutien continue sans interruption, \
                     vous pouvez mettre à jour votre carte ou votre IBAN dès maintenant, sur la page sécurisée de notre prestataire de paiement."
                        .to_owned(),
                    "Si vous préférez arrêter votre don, vous n’avez rien à faire : il prendra fin après le dernier essai."
                        .to_owned(),
                ],
                action: Some(Action {
                    label: "Mettre à jour mon moyen de paiement",
                    url: ctx
                        .links
                        .url(base, Purpose::FixPayment, *recurring_gift_id, expires),
                }),
                ..greeting(&gift)
            };
            Ok(Some((notice, addressed_to(&gift))))
        }
        Message::DebitRejected { pledge_id } => {
            let Some(gift) = notices::of_pledge(pool, *pledge_id).await? else {
                return Ok(None);
            };
            if gift.status != PledgeStatus::Failed.as_str() {
                return Ok(None);
            }
            let what = if gift.frequency.is_recurring() {
                format!(
                    "Votre banque a rejeté le premier prélèvement de votre don de {}{} pour « {} » : votre don régulier n’a donc pas pu commencer.",
                    format_money(gift.amount_cents, gift.currency),
                    per(&gift),
                    gift.campaign_title
                )
            } else {
                format!(
                    "Votre banque a rejeté le prélèvement de votre don de {} pour « {} » : il n’a pas été encaissé.",
                    format_money(gift.amount_cents, gift.currency),
                    gift.campaign_title
                )
            };
            let notice = Notice {
                title: "Votre prélèvement a été rejeté".to_owned(),
                paragraphs: vec![
                    what,
                    "Cela arrive avec un IBAN mal saisi, un compte qui refuse les prélèvements ou un solde insuffisant. \
                     Si vous le souhaitez, vous pouvez donner à nouveau, par carte ou avec un autre compte."
                        .to_owned(),
                ],
                action: Some(Action {
                    label: "Donner à nouveau",
                    url: format!("{base}/campagnes/{}/don", gift.campaign_slug),
                }),
                ..greeting(&gift)
            };
            Ok(Some((notice, addressed_to(&gift))))
        }
        Message::GiftChanged {
            recurring_gift_id,
            change,
            ..
        } => {
            let Some(gift) = notices::of_recurring_gift(pool, *recurring_gift_id).await? else {
                return Ok(None);
            };
            if *change == GiftChange::Lapsed
                && !notices::gift_started(pool, *recurring_gift_id).await?
            {
                return Ok(None); // It never started: the rejection of its first debit said so.
            }
            let notice = Notice {
                action: Some(space_action(base)),
                ..gift_changed(&gift, *change)
            };
            Ok(Some((notice, addressed_to(&gift))))
        }
        Message::Refunded {
            donation_id,
            refunded_cents,
        } => {
            let Some(gift) = notices::of_donation(pool, *donation_id).await? else {
                return Ok(None);
            };
            let refunded = format_money(*refunded_cents, gift.currency);
            let amount = format_money(gift.amount_cents, gift.currency);
            let first = if *refunded_cents >= gift.amount_cents {
                format!(
                    "Votre don de {amount} du {} pour « {} » vous a été remboursé en totalité.",
                    french_date(gift.at),
                    gift.campaign_title
                )
            } else {
                format!(
                    "Sur votre don de {amount} du {} pour « {} », {refunded} vous ont été remboursés.",
                    french_date(gift.at),
                    gift.campaign_title
                )
            };
            let kept = gift.amount_cents - refunded_cents.min(&gift.amount_cents);
            let notice = Notice {
                title: "Votre remboursement".to_owned(),
                paragraphs: vec![
                    first,
                    "Le remboursement apparaît sur votre relevé sous 5 à 10 jours ouvrés, sur le moyen de paiement utilisé pour le don."
                        .to_owned(),
                    if kept > 0 {
                        format!(
                            "Seuls les {} conservés comptent pour votre réduction d’impôt.",
                            format_money(kept, gift.currency)
                        )
                    } else {
                        "Ce don ne compte plus pour votre réduction d’impôt.".to_owned()
                    },
                ],
                highlight: Some(format!("Remboursé : {refunded}")),
                ..greeting(&gift)
            };
            Ok(Some((notice, addressed_to(&gift))))
        }
        Message::SignIn {
            supporter_id,
            token,
        } => {
            let Some(person) = notices::recipient(pool, *supporter_id).await? else {
                return Ok(None);
            };
            // A link that no longer works is not worth sending (a retry after an outage).
            let link =
                sign_in_tokens::state(pool, LinkKind::SignIn, &sign_in::hash(token), dates::now())
                    .await?;
            if link != LinkState::Valid(*supporter_id, None) {
                return Ok(None);
            }
            let notice = Notice {
                title: "Votre lien de connexion à « Mon espace »".to_owned(),
                first_name: person.first_name.clone(),
                paragraphs: vec![
                    format!(
                        "Voici le lien demandé pour ouvrir votre espace donateur. Il fonctionne une seule fois, \
                         pendant {} minutes.",
                        sign_in::LIFETIME / MINUTE
                    ),
                    "Si vous n’avez rien demandé, ignorez cet email : sans ce lien, personne ne peut ouvrir votre espace."
                        .to_owned(),
                ],
                action: Some(Action {
                    label: "Ouvrir mon espace",
                    url: format!("{base}/mon-espace/connexion/{token}"),
                }),
                ..Notice::default()
            };
            let to = addressed_to_person(&person, *supporter_id);
            Ok(Some((notice, to)))
        }
        Message::AnnualReceipt { receipt_id } => {
            let Some((receipt, content, person)) = standing_receipt(ctx, *receipt_id).await? else {
                return Ok(None);
            };
            let notice = Notice {
                title: format!("Votre reçu fiscal {}", receipt.gift_year),
                first_name: person.first_name.clone(),
                paragraphs: vec![format!(
                    "Merci pour votre fidélité en {}. Voici, joint à ce message, le reçu fiscal n° {} de vos dons de l’année : il vous permet d’en déduire une partie de votre impôt sur le revenu.",
                    receipt.gift_year, content.number
                )],
                highlight: Some(format!("Montant du reçu : {}", content.amount_figures)),
                action: Some(Action {
                    label: "Voir mes reçus fiscaux",
                    url: format!("{base}/mon-espace/recus"),
                }),
                ..Notice::default()
            };
            let to = addressed_to_person(&person, receipt.supporter_id);
            Ok(Some((notice, to)))
        }
        Message::ReceiptAddressNeeded { supporter_id, year } => {
            let Some(person) = notices::recipient(pool, *supporter_id).await? else {
                return Ok(None);
            };
            let notice = Notice {
                title: format!("Votre reçu fiscal {year} attend votre adresse"),
                first_name: person.first_name.clone(),
                paragraphs: vec![
                    format!(
                        "Merci pour vos dons de {year}. Pour établir le reçu fiscal qui vous permettra de les déduire de vos impôts, la loi nous demande votre adresse postale, que nous n’avons pas."
                    ),
                    "Indiquez-la dans votre espace donateur : votre reçu vous sera envoyé dès qu’elle y sera.".to_owned(),
                ],
                action: Some(Action {
                    label: "Indiquer mon adresse",
                    url: format!("{base}/mon-espace/profil"),
                }),
                ..Notice::default()
            };
            let to = addressed_to_person(&person, *supporter_id);
            Ok(Some((notice, to)))
        }
        Message::ReceiptCorrected { receipt_id } => {
            let Some((receipt, content, person)) = standing_receipt(ctx, *receipt_id).await? else {
                return Ok(None);
            };
            let replaced = content
                .replaces
                .map(|n| format!("le reçu fiscal n° {n} est annulé"))
                .unwrap_or_else(|| "votre reçu fiscal est corrigé".to_owned());
            let notice = Notice {
                title: format!("Votre reçu fiscal corrigé n° {}", content.number),
                first_name: person.first_name.clone(),
                paragraphs: vec![format!(
                    "À la suite du remboursement d’une partie ou de la totalité de votre don, {replaced}. Voici le reçu qui le remplace, joint à ce message : c’est lui qu’il faut garder pour votre déclaration de revenus."
                )],
                highlight: Some(format!("Montant du reçu : {}", content.amount_figures)),
                action: Some(Action {
                    label: "Voir mes reçus fiscaux",
                    url: format!("{base}/mon-espace/recus"),
                }),
                ..Notice::default()
            };
            let to = addressed_to_person(&person, receipt.supporter_id);
            Ok(Some((notice, to)))
        }
        Message::News {
            post_id,
            supporter_id,
        } => {
            let Some(person) = notices::recipient(pool, *supporter_id).await? else {
                return Ok(None);
            };
            let mut conn = pool.acquire().await?;
            if !supporters::wants(&mut conn, *supporter_id, Topic::News).await? {
                return Ok(None);
            }
            drop(conn);
            let Some(post) = news::find(pool, *post_id).await? else {
                return Ok(None);
            };
            let mut paragraphs: Vec<String> = markdown::plain_paragraphs(&post.body);
            paragraphs.truncate(NEWS_PARAGRAPHS);
            paragraphs.insert(
                0,
                format!(
                    "Des nouvelles de {}, que vous soutenez{} :",
                    post.project_name,
                    post.campaign_title
                        .as_deref()
                        .map(|t| format!(" avec « {t} »"))
                        .unwrap_or_default()
                ),
            );
            let notice = Notice {
                title: post.title.clone(),
                first_name: person.first_name.clone(),
                paragraphs,
                action: Some(Action {
                    label: "Lire sur le site",
                    url: format!("{base}/projets/{}", post.project_slug),
                }),
                unsubscribe: Some(Unsubscribe {
                    what: "les nouvelles des projets que vous soutenez",
                    url: ctx.links.url(
                        base,
                        Purpose::Unsubscribe(Topic::News),
                        *supporter_id,
                        NO_EXPIRY,
                    ),
                }),
                ..Notice::default()
            };
            let to = addressed_to_person(&person, *supporter_id);
            Ok(Some((notice, to)))
        }
        Message::ConfirmEmail {
            supporter_id,
            token,
        } => {
            let Some(person) = notices::recipient(pool, *supporter_id).await? else {
                return Ok(None);
            };
            let kind = LinkKind::NewEmail("");
            let link =
                sign_in_tokens::state(pool, kind, &sign_in::hash(token), dates::now()).await?;
            // Sent to the new address, which the link carries; not at all once it no longer
            // works.
            let LinkState::Valid(owner, Some(new_email)) = link else {
                return Ok(None);
            };
            if owner != *supporter_id {
                return Ok(None);
            }
            let notice = Notice {
                title: "Confirmez votre nouvelle adresse e-mail".to_owned(),
                first_name: person.first_name.clone(),
                paragraphs: vec![
                    format!(
                        "Vous avez demandé que vos emails et reçus fiscaux arrivent désormais à l’adresse {new_email}. \
                         Pour le confirmer, ouvrez ce lien dans les {} heures.",
                        sign_in::NEW_EMAIL_LIFETIME / HOUR
                    ),
                    "Si vous n’avez rien demandé, ignorez cet email : rien ne changera.".to_owned(),
                ],
                action: Some(Action {
                    label: "Confirmer cette adresse",
                    url: format!("{base}/mon-espace/adresse/{token}"),
                }),
                ..Notice::default()
            };
            let to = Composed {
                to_address: new_email,
                to_name: format!("{} {}", person.first_name, person.last_name),
                supporter_id: Some(*supporter_id),
                ..Composed::default()
            };
            Ok(Some((notice, to)))
        }
    }
}

/// What the email about a change to a recurring gift says.
fn gift_changed(gift: &GiftNotice, change: GiftChange) -> Notice {
    let amount = format!(
        "{}{}",
        format_money(gift.amount_cents, gift.currency),
        per(gift)
    );
    let campaign = &gift.campaign_title;
    let (title, paragraphs) = match change {
        GiftChange::Amount {
            before_cents,
            before_frequency,
        } => {
            let before = format!(
                "{} {}",
                format_money(before_cents, gift.currency),
                before_frequency.unwrap_or(gift.frequency).per()
            );
            let when = if before_frequency.is_some_and(|f| f != gift.frequency) {
                "le nouveau montant a été prélevé aujourd’hui, puis à chaque échéance"
            } else {
                "à partir du prochain prélèvement"
            };
            (
                "Votre don régulier a été modifié".to_owned(),
                vec![
                    format!("Votre don pour « {campaign} » passe de {before} à {amount} : {when}."),
                    "Merci de continuer à nous soutenir.".to_owned(),
                ],
            )
        }
        GiftChange::Paused => (
            "Votre don régulier est en pause".to_owned(),
            vec![
                format!(
                    "Votre don de {amount} pour « {campaign} » est suspendu : aucun prélèvement n’aura lieu pendant la pause."
                ),
                "Vous pouvez le reprendre à tout moment depuis votre espace.".to_owned(),
            ],
        ),
        GiftChange::Resumed => (
            "Votre don régulier reprend".to_owned(),
            vec![format!(
                "Votre don de {amount} pour « {campaign} » reprend. Merci de votre fidélité !"
            )],
        ),
        GiftChange::CancelScheduled => (
            "Votre don régulier prendra fin".to_owned(),
            vec![
                format!(
                    "Votre demande est enregistrée : votre don de {amount} pour « {campaign} » s’arrêtera à la fin de la période en cours, sans nouveau prélèvement."
                ),
                "Merci pour tout ce que vous avez rendu possible. Vous pouvez revenir sur votre décision depuis votre espace."
                    .to_owned(),
            ],
        ),
        GiftChange::Cancelled => (
            "Votre don régulier est arrêté".to_owned(),
            vec![
                format!(
                    "Votre don de {amount} pour « {campaign} » est arrêté : aucun nouveau prélèvement n’aura lieu."
                ),
                "Merci pour tout ce que vous avez rendu possible. Vos reçus fiscaux restent disponibles dans votre espace."
                    .to_owned(),
            ],
        ),
        GiftChange::Lapsed => (
            "Votre don régulier a pris fin".to_owned(),
            vec![
                format!(
                    "Après plusieurs essais, le prélèvement de votre don de {amount} pour « {campaign} » n’a pas pu aboutir : le don a donc pris fin."
                ),
                "Si vous souhaitez continuer à nous soutenir, vous pouvez reprendre un don en quelques instants.".to_owned(),
            ],
        ),
    };
    Notice {
        title,
        paragraphs,
        ..greeting(gift)
    }
}

fn greeting(gift: &GiftNotice) -> Notice {
    Notice {
        first_name: gift.first_name.clone(),
        ..Notice::default()
    }
}

fn space_action(base: &str) -> Action {
    Action {
        label: "Ouvrir mon espace",
        url: format!("{base}/mon-espace"),
    }
}

/// " par mois", or nothing for a one-off gift.
fn per(gift: &GiftNotice) -> String {
    match gift.frequency.per() {
        "" => String::new(),
        per => format!(" {per}"),
    }
}

/// " mensuel" / " annuel", or nothing for a one-off gift.
fn frequency_adjective(gift: &GiftNotice) -> &'static str {
    use crate::domain::frequency::Frequency;
    match gift.frequency {
        Frequency::Once => "",
        Frequency::Monthly => " mensuel",
        Frequency::Yearly => " annuel",
    }
}

fn addressed_to(notice: &GiftNotice) -> Composed {
    Composed {
        to_address: notice.email.as_str().to_owned(),
        to_name: format!("{} {}", notice.first_name, notice.last_name),
        supporter_id: Some(notice.supporter_id),
        ..Composed::default()
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
        per: per(notice),
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
