//! Tax receipts: numbers taken from the year's counter, receipts and the gifts they cover,
//! the gifts still to receipt, cancellation. Every write runs in the caller's transaction.

use sqlx::{AnyConnection, AnyPool};

use super::search::{self, Prefix};
use crate::domain::donation::{DonationStatus, PaymentMethod};
use crate::domain::receipt::{
    Donor, ReceiptKind, ReceiptNumber, ReceiptStatus, ReceiptedGift, kept_cents,
};

/// The next number of `year`. The counter's row stays locked until the caller's transaction
/// ends, so two issues never get the same number, and a rollback gives the number back.
pub async fn next_number(conn: &mut AnyConnection, year: i32) -> sqlx::Result<ReceiptNumber> {
    sqlx::query(
        "INSERT INTO receipt_counters (year, last_number) VALUES ($1, 0) \
         ON CONFLICT (year) DO NOTHING",
    )
    .bind(i64::from(year))
    .execute(&mut *conn)
    .await?;
    let sequence: i64 = sqlx::query_scalar(
        "UPDATE receipt_counters SET last_number = last_number + 1 WHERE year = $1 \
         RETURNING last_number",
    )
    .bind(i64::from(year))
    .fetch_one(conn)
    .await?;
    Ok(ReceiptNumber { year, sequence })
}

#[derive(sqlx::FromRow)]
struct GiftRow {
    id: i64,
    supporter_id: i64,
    donated_at: i64,
    amount_cents: i64,
    refunded_cents: i64,
    disputed_cents: i64,
    payment_method: String,
}

impl GiftRow {
    fn receipted(self) -> Option<ReceiptedGift> {
        let amount_cents = kept_cents(self.amount_cents, self.refunded_cents, self.disputed_cents);
        (amount_cents > 0).then_some(ReceiptedGift {
            donation_id: self.id,
            donated_at: self.donated_at,
            amount_cents,
            method: self.payment_method.parse().unwrap_or(PaymentMethod::Card),
        })
    }
}

/// Columns of a donation as a receipt counts it; `d` is `donations`.
const GIFT_COLUMNS: &str = "d.id, d.supporter_id, d.donated_at, d.amount_cents, d.refunded_cents, \
     d.disputed_cents, d.payment_method";
/// A donation no issued receipt covers.
///
/// The statements that use it are planned anew at each call (`persistent(false)`): a
/// prepared statement's reusable plan, which PostgreSQL settles on around its sixth run,
/// was chosen while `receipt_gifts` was empty, and read every covered gift once per gift of
/// the supporter from then on (a run slower with each receipt: 13 a second after 5,000,
/// BENCHMARKS.md). Planning with the values costs a few tenths of a millisecond.
const NOT_COVERED: &str = "NOT EXISTS (SELECT 1 FROM receipt_gifts r \
     WHERE r.donation_id = d.id AND r.active = 1)";

/// The supporter's gifts received in `[from, until)` that no receipt covers and that kept
/// some money, in euros (receipts are in euros).
pub async fn gifts_to_receipt(
    conn: &mut AnyConnection,
    supporter_id: i64,
    from: i64,
    until: i64,
) -> sqlx::Result<Vec<ReceiptedGift>> {
    let rows: Vec<GiftRow> = sqlx::query_as(&format!(
        "SELECT {GIFT_COLUMNS} FROM donations d \
         WHERE d.supporter_id = $1 AND d.status = $2 AND d.currency = 'EUR' \
             AND d.donated_at >= $3 AND d.donated_at < $4 AND {NOT_COVERED} \
         ORDER BY d.donated_at, d.id"
    ))
    .persistent(false)
    .bind(supporter_id)
    .bind(DonationStatus::Paid.as_str())
    .bind(from)
    .bind(until)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().filter_map(GiftRow::receipted).collect())
}

/// One donation, if no receipt covers it and it kept some money: (its supporter, the gift).
pub async fn gift_to_receipt(
    conn: &mut AnyConnection,
    donation_id: i64,
) -> sqlx::Result<Option<(i64, ReceiptedGift)>> {
    let row: Option<GiftRow> = sqlx::query_as(&format!(
        "SELECT {GIFT_COLUMNS} FROM donations d \
         WHERE d.id = $1 AND d.status = $2 AND d.currency = 'EUR' AND {NOT_COVERED}"
    ))
    .persistent(false)
    .bind(donation_id)
    .bind(DonationStatus::Paid.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|row| {
        let supporter_id = row.supporter_id;
        row.receipted().map(|gift| (supporter_id, gift))
    }))
}

/// The donor as they gave the latest of `gifts`: the identity on its pledge, or the
/// supporter's own (a gift entered by the team, or an address given since). `None` for an
/// erased supporter.
pub async fn donor(
    conn: &mut AnyConnection,
    supporter_id: i64,
    gifts: &[ReceiptedGift],
) -> sqlx::Result<Option<Donor>> {
    let latest = gifts.iter().max_by_key(|g| (g.donated_at, g.donation_id));
    if let Some(gift) = latest {
        let from_pledge: Option<(String, String, String, String, String, String, String)> =
            sqlx::query_as(
                "SELECT p.first_name, p.last_name, p.address_line1, p.address_line2, \
                     p.postal_code, p.city, p.country \
                 FROM donations d JOIN pledges p ON p.id = d.pledge_id \
                 JOIN supporters s ON s.id = d.supporter_id \
                 WHERE d.id = $1 AND s.erased_at IS NULL",
            )
            .bind(gift.donation_id)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(identity) = from_pledge.map(donor_of)
            && identity.has_address()
        {
            return Ok(Some(identity));
        }
    }
    let own: Option<(String, String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT first_name, last_name, address_line1, address_line2, postal_code, city, country \
         FROM supporters WHERE id = $1 AND erased_at IS NULL",
    )
    .bind(supporter_id)
    .fetch_optional(conn)
    .await?;
    Ok(own.map(donor_of))
}

fn donor_of(
    (first_name, last_name, address_line1, address_line2, postal_code, city, country): (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    ),
) -> Donor {
    Donor {
        first_name,
        last_name,
        address_line1,
        address_line2,
        postal_code,
        city,
        country,
    }
}

/// A receipt to record.
pub struct NewReceipt<'a> {
    pub number: ReceiptNumber,
    pub kind: ReceiptKind,
    pub gift_year: i32,
    pub supporter_id: i64,
    pub amount_cents: i64,
    /// `ReceiptContent` as JSON.
    pub content: &'a str,
    pub replaces_id: Option<i64>,
    pub issued_by: Option<i64>,
}

/// Gifts written by one statement: 2 parameters each, far below either backend's limit.
const GIFTS_PER_INSERT: usize = 100;

/// Records the receipt and the gifts it covers; its id. Fails on a unique violation when
/// another receipt covers one of the gifts already (the caller's transaction then rolls back,
/// number included).
pub async fn insert(
    conn: &mut AnyConnection,
    new: &NewReceipt<'_>,
    gifts: &[ReceiptedGift],
    now: i64,
) -> sqlx::Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tax_receipts (number, year, sequence, kind, gift_year, supporter_id, \
             amount_cents, content, replaces_id, issued_at, issued_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10) RETURNING id",
    )
    .bind(new.number.to_string())
    .bind(i64::from(new.number.year))
    .bind(new.number.sequence)
    .bind(new.kind.as_str())
    .bind(i64::from(new.gift_year))
    .bind(new.supporter_id)
    .bind(new.amount_cents)
    .bind(new.content)
    .bind(new.replaces_id)
    .bind(now)
    .bind(new.issued_by)
    .fetch_one(&mut *conn)
    .await?;
    // A statement per batch of gifts, not per gift: a year of monthly gifts is one round trip.
    for batch in gifts.chunks(GIFTS_PER_INSERT) {
        let rows: Vec<String> = (0..batch.len())
            .map(|i| format!("($1, ${}, ${}, 1)", 2 * i + 2, 2 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO receipt_gifts (receipt_id, donation_id, amount_cents, active) VALUES {}",
            rows.join(", ")
        );
        let mut insert = sqlx::query(&sql).bind(id);
        for gift in batch {
            insert = insert.bind(gift.donation_id).bind(gift.amount_cents);
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(id)
}

/// A stored receipt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Receipt {
    pub id: i64,
    pub number: String,
    #[sqlx(try_from = "String")]
    pub kind: ReceiptKind,
    pub gift_year: i64,
    pub supporter_id: i64,
    pub amount_cents: i64,
    #[sqlx(try_from = "String")]
    pub status: ReceiptStatus,
    pub content: String,
    pub replaces_id: Option<i64>,
    pub pdf_sha256: Option<String>,
    pub issued_at: i64,
    pub cancelled_at: Option<i64>,
    pub cancel_reason: Option<String>,
}

const RECEIPT_COLUMNS: &str = "id, number, kind, gift_year, supporter_id, amount_cents, status, \
     content, replaces_id, pdf_sha256, issued_at, cancelled_at, cancel_reason";

pub async fn find(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<Receipt>> {
    sqlx::query_as(&format!(
        "SELECT {RECEIPT_COLUMNS} FROM tax_receipts WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The supporter's receipts, newest first (cancelled ones too: they were sent).
pub async fn of_supporter(pool: &AnyPool, supporter_id: i64) -> sqlx::Result<Vec<Receipt>> {
    sqlx::query_as(&format!(
        "SELECT {RECEIPT_COLUMNS} FROM tax_receipts WHERE supporter_id = $1 \
         ORDER BY issued_at DESC, id DESC"
    ))
    .bind(supporter_id)
    .fetch_all(pool)
    .await
}

/// The issued receipt covering a donation, if any.
pub async fn covering(conn: &mut AnyConnection, donation_id: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT receipt_id FROM receipt_gifts WHERE donation_id = $1 AND active = 1")
        .bind(donation_id)
        .fetch_optional(conn)
        .await
}

/// The issued receipt covering a donation, and what it counted of it.
pub async fn covering_amount(
    conn: &mut AnyConnection,
    donation_id: i64,
) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as(
        "SELECT receipt_id, amount_cents FROM receipt_gifts WHERE donation_id = $1 AND active = 1",
    )
    .bind(donation_id)
    .fetch_optional(conn)
    .await
}

/// What a donation counts for now on a receipt (0 when nothing is kept).
pub async fn kept_now(conn: &mut AnyConnection, donation_id: i64) -> sqlx::Result<i64> {
    let row: Option<(i64, i64, i64, String)> = sqlx::query_as(
        "SELECT amount_cents, refunded_cents, disputed_cents, status FROM donations WHERE id = $1",
    )
    .bind(donation_id)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some((amount, refunded, disputed, status)) if status == DonationStatus::Paid.as_str() => {
            kept_cents(amount, refunded, disputed)
        }
        _ => 0,
    })
}

/// The donations a receipt covered (cancelled or not).
pub async fn covered(conn: &mut AnyConnection, receipt_id: i64) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT donation_id FROM receipt_gifts WHERE receipt_id = $1 ORDER BY donation_id",
    )
    .bind(receipt_id)
    .fetch_all(conn)
    .await
}

/// Cancels an issued receipt (kept, marked); its gifts are free to be receipted again.
/// `false` when it was not issued (cancelled already).
pub async fn cancel(
    conn: &mut AnyConnection,
    id: i64,
    by: Option<i64>,
    reason: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE tax_receipts SET status = $1, cancelled_at = $2, cancelled_by = $3, \
             cancel_reason = $4 WHERE id = $5 AND status = $6",
    )
    .bind(ReceiptStatus::Cancelled.as_str())
    .bind(now)
    .bind(by)
    .bind(reason)
    .bind(id)
    .bind(ReceiptStatus::Issued.as_str())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE receipt_gifts SET active = NULL WHERE receipt_id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(true)
}

/// Records the checksum of the receipt's PDF, made once.
pub async fn set_pdf(conn: &mut AnyConnection, id: i64, sha256: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE tax_receipts SET pdf_sha256 = $1 WHERE id = $2 AND pdf_sha256 IS NULL")
        .bind(sha256)
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Supporters after `after`, by id, who may have gifts to receipt (not erased): a page of
/// the annual run.
pub async fn supporters_after(pool: &AnyPool, after: i64, limit: i64) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM supporters WHERE id > $1 AND erased_at IS NULL ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// What the organisation declares each year (CGI art. 222 bis): per tax year, the receipts
/// standing and the amount they certify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct YearTotal {
    pub gift_year: i64,
    pub receipts: i64,
    pub amount_cents: i64,
}

pub async fn yearly_totals(pool: &AnyPool) -> sqlx::Result<Vec<YearTotal>> {
    sqlx::query_as(
        "SELECT gift_year, COUNT(*) AS receipts, \
             CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) AS amount_cents \
         FROM tax_receipts WHERE status = $1 GROUP BY gift_year ORDER BY gift_year DESC",
    )
    .bind(ReceiptStatus::Issued.as_str())
    .fetch_all(pool)
    .await
}

/// A line of the back-office's list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub id: i64,
    pub number: String,
    #[sqlx(try_from = "String")]
    pub kind: ReceiptKind,
    pub gift_year: i64,
    pub amount_cents: i64,
    #[sqlx(try_from = "String")]
    pub status: ReceiptStatus,
    pub issued_at: i64,
    pub supporter_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// Receipts newest first: all, or those whose number is `text`, or whose donor's email or
/// last name starts with it; of one tax year, or of any (`None`).
///
/// A search first asks which supporters it names: when they are few, their receipts are read
/// through `tax_receipts_supporter` (and the number through its unique index), rather than
/// walking every receipt newest first to keep theirs, a walk as long as the receipts are
/// many for a donor with none.
pub async fn search(
    pool: &AnyPool,
    text: &str,
    gift_year: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<Listed>> {
    let text = text.trim();
    let year = gift_year.unwrap_or(0);
    const SELECT: &str = "SELECT r.id, r.number, r.kind, r.gift_year, r.amount_cents, r.status, \
             r.issued_at, r.supporter_id, s.email, s.first_name, s.last_name \
         FROM tax_receipts r JOIN supporters s ON s.id = r.supporter_id";
    if text.is_empty() {
        return sqlx::query_as(&format!(
            "{SELECT} WHERE ($1 = 0 OR r.gift_year = $1) ORDER BY r.id DESC LIMIT $2"
        ))
        .bind(year)
        .bind(limit)
        .fetch_all(pool)
        .await;
    }
    // Nothing starts with an impossible prefix: the empty range.
    let prefix = Prefix::of(text).unwrap_or(Prefix {
        from: String::new(),
        until: String::new(),
    });
    let donors: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT id FROM supporters s WHERE {} LIMIT $3",
        search::matches(1)
    ))
    .bind(&prefix.from)
    .bind(&prefix.until)
    .bind(FEW_DONORS + 1)
    .fetch_all(pool)
    .await?;
    if donors.len() as i64 > FEW_DONORS {
        // A common name: its receipts are among the newest.
        return sqlx::query_as(&format!(
            "{SELECT} WHERE (r.number = $1 OR {}) AND ($4 = 0 OR r.gift_year = $4) \
             ORDER BY r.id DESC LIMIT $5",
            search::matches_unindexed(2)
        ))
        .bind(text)
        .bind(&prefix.from)
        .bind(&prefix.until)
        .bind(year)
        .bind(limit)
        .fetch_all(pool)
        .await;
    }
    let ids: Vec<String> = (0..donors.len()).map(|n| format!("${}", n + 4)).collect();
    let named = if ids.is_empty() {
        String::new()
    } else {
        format!(" OR r.supporter_id IN ({})", ids.join(", "))
    };
    let sql = format!(
        "{SELECT} WHERE (r.number = $1{named}) AND ($2 = 0 OR r.gift_year = $2) \
         ORDER BY r.id DESC LIMIT $3"
    );
    let mut query = sqlx::query_as(&sql).bind(text).bind(year).bind(limit);
    for id in donors {
        query = query.bind(id);
    }
    query.fetch_all(pool).await
}

/// Supporters a receipts search names, at most, for their receipts to be read through them.
const FEW_DONORS: i64 = 100;
