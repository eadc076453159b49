//! Tax receipts (reçus fiscaux) issued, cancelled and reissued, and their PDFs made once and
//! kept under `DATA_DIR/receipts/` with their checksum.
//!
//! - A one-off gift (online, or entered by the team) gets its receipt when it is confirmed
//!   (the thank-you email carries it).
//! - Every other gift of a year (recurring gifts, one-off gifts that waited) gets an annual
//!   receipt, in a run for the year (`obole receipts --year 2026`).
//! - A refund cancels the receipt covering the gift and issues a corrected one.
//!
//! A receipt is issued in one transaction: its number is taken from the year's counter, its
//! content fixed, the gifts it covers marked; a gift is covered by one issued receipt at most
//! (a unique index says so), so nothing is ever receipted twice. Receipts wait when the
//! organisation's settings are incomplete, or when the donor gave no postal address.

pub mod pdf;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::db::Db;
use crate::domain::dates;
use crate::domain::organisation::Organisation;
use crate::domain::receipt::{
    Issue, ReceiptContent, ReceiptKind, ReceiptNumber, ReceiptStatus, ReceiptedGift,
};
use crate::jobs::email::Message;
use crate::jobs::{self, Job};
use crate::media;
use crate::store::{receipts, settings, supporters};

/// What an attempt to issue came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Issued {
        id: i64,
        number: ReceiptNumber,
    },
    /// No gift to receipt: covered already, refunded, not paid, or a supporter erased.
    Nothing,
    /// The settings miss what a receipt must state (named).
    SettingsIncomplete(Vec<&'static str>),
    /// The donor gave no postal address: the receipt waits for it.
    AddressMissing {
        supporter_id: i64,
    },
}

/// Who issues: the worker or the command line (`None`), or a staff member.
pub type IssuedBy = Option<i64>;

/// The title the law gives the document.
pub const TITLE: &str = "Reçu au titre des dons à certains organismes d’intérêt général";

fn encode(content: &ReceiptContent) -> sqlx::Result<String> {
    serde_json::to_string(content).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// Whose receipt, of which kind, replacing which (id and number), issued by whom.
struct Request {
    supporter_id: i64,
    kind: ReceiptKind,
    replaces: Option<(i64, ReceiptNumber)>,
    by: IssuedBy,
}

/// Issues a receipt for `gifts` of the supporter (none covered yet: read in `tx`).
async fn issue_in(
    tx: &mut sqlx::AnyConnection,
    organisation: &Organisation,
    request: Request,
    gifts: &[ReceiptedGift],
    now: i64,
) -> sqlx::Result<Outcome> {
    let Request {
        supporter_id,
        kind,
        replaces,
        by,
    } = request;
    let Some(first) = gifts.first() else {
        return Ok(Outcome::Nothing);
    };
    let Some(donor) = receipts::donor(tx, supporter_id, gifts).await? else {
        return Ok(Outcome::Nothing);
    };
    if !donor.has_address() {
        return Ok(Outcome::AddressMissing { supporter_id });
    }
    let number = receipts::next_number(tx, dates::paris_year(now)).await?;
    let gift_year = dates::paris_year(first.donated_at);
    let issue = Issue {
        number,
        kind,
        gift_year,
        replaces: replaces.map(|(_, number)| number),
        organisation,
        donor: &donor,
        issued_at: now,
    };
    let Some(content) = ReceiptContent::new(&issue, gifts) else {
        return Ok(Outcome::Nothing);
    };
    let new = receipts::NewReceipt {
        number,
        kind,
        gift_year,
        supporter_id,
        amount_cents: content.amount_cents,
        content: &encode(&content)?,
        replaces_id: replaces.map(|(id, _)| id),
        issued_by: by,
    };
    match receipts::insert(tx, &new, gifts, now).await {
        Ok(id) => Ok(Outcome::Issued { id, number }),
        // Another issue covered one of these gifts meanwhile (two workers, two instances):
        // this one rolls back, its number with it.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(Outcome::Nothing),
        Err(e) => Err(e),
    }
}

/// The organisation's settings, or what they miss.
async fn complete_settings(db: &Db) -> sqlx::Result<Result<Organisation, Outcome>> {
    let organisation = settings::organisation(db.pool()).await?;
    let missing = organisation.missing_for_receipts();
    if missing.is_empty() {
        Ok(Ok(organisation))
    } else {
        Ok(Err(Outcome::SettingsIncomplete(missing)))
    }
}

/// The receipt of one gift (a one-off gift just confirmed, or one entered by the team).
pub async fn issue_single(db: &Db, donation_id: i64, now: i64) -> sqlx::Result<Outcome> {
    let organisation = match complete_settings(db).await? {
        Ok(organisation) => organisation,
        Err(waiting) => return Ok(waiting),
    };
    let mut tx = db.begin_write().await?;
    let Some((supporter_id, gift)) = receipts::gift_to_receipt(&mut tx, donation_id).await? else {
        return Ok(Outcome::Nothing);
    };
    let request = Request {
        supporter_id,
        kind: ReceiptKind::Single,
        replaces: None,
        by: None,
    };
    let outcome = issue_in(&mut tx, &organisation, request, &[gift], now).await?;
    if matches!(outcome, Outcome::Issued { .. }) {
        tx.commit_unseen().await?;
    }
    Ok(outcome)
}

/// The annual receipt of a supporter's gifts of `year` that no receipt covers yet.
pub async fn issue_annual(
    db: &Db,
    organisation: &Organisation,
    supporter_id: i64,
    year: i32,
    by: IssuedBy,
    now: i64,
) -> sqlx::Result<Outcome> {
    let mut tx = db.begin_write().await?;
    let gifts = receipts::gifts_to_receipt(
        &mut tx,
        supporter_id,
        dates::paris_year_start(year),
        dates::paris_year_start(year + 1),
    )
    .await?;
    let request = Request {
        supporter_id,
        kind: ReceiptKind::Annual,
        replaces: None,
        by,
    };
    let outcome = issue_in(&mut tx, organisation, request, &gifts, now).await?;
    if let Outcome::Issued { id, .. } = outcome {
        // Sent to the donor: written with the receipt, so neither goes without the other.
        let message = Message::AnnualReceipt { receipt_id: id };
        jobs::enqueue(&mut tx, &Job::Email(message), now).await?;
        tx.commit_unseen().await?;
    }
    Ok(outcome)
}

/// What a year's run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub issued: i64,
    pub amount_cents: i64,
    /// Supporters whose receipt waits for their postal address.
    pub waiting_for_address: Vec<i64>,
}

/// Supporters read at a time: the run's memory does not grow with their number.
const RUN_PAGE: i64 = 500;

/// Issues the annual receipts of `year` to every supporter with gifts not receipted yet.
/// Running it again issues nothing new. `Err` names what the settings miss.
pub async fn run_year(
    db: &Db,
    year: i32,
    by: IssuedBy,
    now: i64,
) -> sqlx::Result<Result<RunSummary, Vec<&'static str>>> {
    let organisation = match complete_settings(db).await? {
        Ok(organisation) => organisation,
        Err(Outcome::SettingsIncomplete(missing)) => return Ok(Err(missing)),
        Err(_) => return Ok(Err(Vec::new())),
    };
    let mut summary = RunSummary::default();
    let mut after = Some(0);
    while let Some(last) = after {
        after = run_page(db, &organisation, year, last, by, now, &mut summary).await?;
    }
    Ok(Ok(summary))
}

/// The settings a run issues with, or what they miss.
pub async fn settings_for_run(db: &Db) -> sqlx::Result<Result<Organisation, Vec<&'static str>>> {
    Ok(match complete_settings(db).await? {
        Ok(organisation) => Ok(organisation),
        Err(Outcome::SettingsIncomplete(missing)) => Err(missing),
        Err(_) => Err(Vec::new()),
    })
}

/// One page of a year's run: the supporters after `after` (by id), each in their own
/// transaction. The last one read when there may be more, `None` at the end.
pub async fn run_page(
    db: &Db,
    organisation: &Organisation,
    year: i32,
    after: i64,
    by: IssuedBy,
    now: i64,
    summary: &mut RunSummary,
) -> sqlx::Result<Option<i64>> {
    let page = receipts::supporters_after(db.pool(), after, RUN_PAGE).await?;
    let issued_before = summary.issued;
    for &supporter_id in &page {
        match issue_annual(db, organisation, supporter_id, year, by, now).await? {
            Outcome::Issued { id, .. } => {
                summary.issued += 1;
                let mut conn = db.pool().acquire().await?;
                if let Some(receipt) = receipts::find(&mut conn, id).await? {
                    summary.amount_cents += receipt.amount_cents;
                }
            }
            Outcome::AddressMissing { supporter_id } => {
                summary.waiting_for_address.push(supporter_id);
                ask_for_address(db, supporter_id, year, now).await?;
            }
            Outcome::Nothing | Outcome::SettingsIncomplete(_) => {}
        }
    }
    if after == 0 && summary.issued > issued_before {
        // The receipts' tables were perhaps empty when PostgreSQL last looked at them: what
        // it planned then for the foreign keys' checks reads them whole, a run slower with
        // each receipt. Once a page is issued, it sees them as they are (BENCHMARKS.md).
        db.refresh_statistics(&["tax_receipts", "receipt_gifts", "jobs"])
            .await?;
    }
    Ok(match page.last() {
        Some(&last) if page.len() as i64 == RUN_PAGE => Some(last),
        _ => None,
    })
}

/// Asks the supporter, once per year of gifts, for the postal address their receipt waits for.
async fn ask_for_address(db: &Db, supporter_id: i64, year: i32, now: i64) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    let message = Message::ReceiptAddressNeeded { supporter_id, year };
    jobs::enqueue(&mut tx, &Job::Email(message), now).await?;
    supporters::note_receipt_address_asked(&mut tx, supporter_id, now).await?;
    tx.commit_unseen().await
}

/// Cancels the receipt (kept, marked with `reason`) and issues a corrected one for what its
/// gifts still count (nothing when all was refunded). `Ok(None)` when it was not standing.
pub async fn reissue(
    db: &Db,
    receipt_id: i64,
    by: IssuedBy,
    reason: &str,
    now: i64,
) -> sqlx::Result<Option<Outcome>> {
    let organisation = settings::organisation(db.pool()).await?;
    let mut tx = db.begin_write().await?;
    let Some(old) = receipts::find(&mut tx, receipt_id).await? else {
        return Ok(None);
    };
    if old.status != ReceiptStatus::Issued {
        return Ok(None);
    }
    let donations = receipts::covered(&mut tx, receipt_id).await?;
    receipts::cancel(&mut tx, receipt_id, by, reason, now).await?;
    let mut gifts = Vec::new();
    for donation_id in donations {
        if let Some((_, gift)) = receipts::gift_to_receipt(&mut tx, donation_id).await? {
            gifts.push(gift);
        }
    }
    let old_number = ReceiptNumber::parse(&old.number);
    let outcome = match (gifts.is_empty(), old_number) {
        (false, Some(number)) if organisation.missing_for_receipts().is_empty() => {
            let request = Request {
                supporter_id: old.supporter_id,
                kind: old.kind,
                replaces: Some((old.id, number)),
                by,
            };
            issue_in(&mut tx, &organisation, request, &gifts, now).await?
        }
        (false, _) => Outcome::SettingsIncomplete(organisation.missing_for_receipts()),
        (true, _) => Outcome::Nothing,
    };
    // The cancellation stands even when the correction must wait: the old amount is wrong.
    // No public page shows receipts: the page cache stays.
    tx.commit_unseen().await?;
    Ok(Some(outcome))
}

/// After money was given back: when a receipt counts more of the gift than is kept now, it is
/// cancelled and a corrected one issued. `None` when no receipt needed it (none covers the
/// gift, or it counts it right already: a correction made once is not made again).
pub async fn correct_after_refund(
    db: &Db,
    donation_id: i64,
    now: i64,
) -> sqlx::Result<Option<Outcome>> {
    let mut conn = db.pool().acquire().await?;
    let Some((receipt_id, counted)) = receipts::covering_amount(&mut conn, donation_id).await?
    else {
        return Ok(None);
    };
    if receipts::kept_now(&mut conn, donation_id).await? == counted {
        return Ok(None);
    }
    drop(conn);
    reissue(db, receipt_id, None, "Don remboursé", now).await
}

/// Where a receipt's PDF is kept.
pub fn pdf_path(data_dir: &Path, number: &str) -> PathBuf {
    let year = number.split('-').next().unwrap_or("0000");
    data_dir
        .join("receipts")
        .join(year)
        .join(format!("{number}.pdf"))
}

fn document(content: &ReceiptContent, data_dir: &Path, issued_at: i64) -> pdf::ReceiptDocument {
    let signature =
        media::read(data_dir, &content.signature_image).and_then(|(kind, bytes)| match kind {
            media::ImageKind::Png => Some((bytes, pdf::ImageFormat::Png)),
            media::ImageKind::Jpeg => Some((bytes, pdf::ImageFormat::Jpeg)),
            media::ImageKind::Webp => None,
        });
    let day = time::OffsetDateTime::from_unix_timestamp(issued_at + dates::paris_offset(issued_at))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    pdf::ReceiptDocument {
        number: content.number.clone(),
        title: TITLE.to_owned(),
        replaces: content.replaces.clone(),
        organisation_name: content.organisation_name.clone(),
        organisation_address: content.organisation_address.clone(),
        organisation_object: content.organisation_object.clone(),
        organisation_category: content.organisation_category.clone(),
        organisation_identifier: content.organisation_identifier.clone(),
        donor_name: content.donor_name.clone(),
        donor_address: content.donor_address.clone(),
        amount_figures: content.amount_figures.clone(),
        amount_words: content.amount_words.clone(),
        gift_dates: content.gift_dates.clone(),
        form: content.form.clone(),
        nature: content.nature.clone(),
        payment_methods: content.payment_methods.clone(),
        cgi_articles: content.cgi_articles.clone(),
        issued_on: content.issued_on.clone(),
        issued_date: (
            u16::try_from(day.year()).unwrap_or(1970),
            u8::from(day.month()),
            day.day(),
        ),
        signatory: content.signatory.clone(),
        signature,
        gifts: content.gifts.clone(),
    }
}

/// The receipt's PDF: the kept file, else made from its content (the same bytes each time),
/// checked against the checksum recorded when it was first made, then kept.
pub async fn pdf_of(db: &Db, data_dir: &Path, receipt_id: i64) -> anyhow::Result<Option<Vec<u8>>> {
    let mut conn = db.pool().acquire().await?;
    let Some(receipt) = receipts::find(&mut conn, receipt_id).await? else {
        return Ok(None);
    };
    drop(conn);
    let path = pdf_path(data_dir, &receipt.number);
    let data_dir = data_dir.to_owned();
    let content: ReceiptContent = serde_json::from_str(&receipt.content)?;
    let issued_at = receipt.issued_at;
    let (bytes, sha256) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<(Vec<u8>, String)> {
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(_) => {
                    let bytes = pdf::render(&document(&content, &data_dir, issued_at))?;
                    write_once(&path, &bytes)?;
                    bytes
                }
            };
            let sha256 = hex::encode(Sha256::digest(&bytes));
            Ok((bytes, sha256))
        })
        .await??;
    match &receipt.pdf_sha256 {
        Some(recorded) if *recorded != sha256 => {
            anyhow::bail!(
                "le PDF du reçu {} ne correspond plus à son empreinte",
                receipt.number
            )
        }
        Some(_) => {}
        None => {
            let mut tx = db.begin_write().await?;
            receipts::set_pdf(&mut tx, receipt_id, &sha256).await?;
            tx.commit_unseen().await?;
        }
    }
    Ok(Some(bytes))
}

/// Writes the file whole (a temporary file renamed), never over one already there.
fn write_once(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".{}", uuid::Uuid::new_v4()));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    if path.exists() {
        return std::fs::remove_file(&temporary);
    }
    std::fs::rename(&temporary, path)
}
