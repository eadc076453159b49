//! The last reconciliation with Stripe, as the dashboard tells staff: when, what it read and
//! what it repaired, or why it failed.

use crate::domain::dates::{french_date, french_datetime};
use crate::store::reconcile_runs::RunRow;

/// Changes listed on the dashboard; the rest are counted.
const CHANGES_SHOWN: usize = 20;

pub struct LastReconciliation {
    /// What happened, in a sentence.
    pub summary: String,
    /// The objects repaired, « id : before → after ».
    pub changes: Vec<String>,
    /// Whether the run failed (shown as a warning).
    pub failed: bool,
}

impl LastReconciliation {
    pub fn of(run: Option<RunRow>) -> LastReconciliation {
        let Some(run) = run else {
            return LastReconciliation {
                summary: "Pas encore de rapprochement : il a lieu chaque nuit, ou avec la \
                          commande « obole reconcile »."
                    .to_owned(),
                changes: Vec::new(),
                failed: false,
            };
        };
        let when = format!(
            "{} ({})",
            french_datetime(run.started_at),
            if run.started_by == "schedule" {
                "tâche de nuit"
            } else {
                "commande « obole reconcile »"
            }
        );
        if let Some(error) = run.error {
            return LastReconciliation {
                summary: format!("Le dernier rapprochement, le {when}, a échoué : {error}."),
                changes: Vec::new(),
                failed: true,
            };
        }
        if run.finished_at.is_none() {
            return LastReconciliation {
                summary: format!("Un rapprochement est en cours depuis le {when}."),
                changes: Vec::new(),
                failed: false,
            };
        }
        let repaired = match run.repaired {
            0 => "rien à réparer".to_owned(),
            1 => "1 réparation".to_owned(),
            n => format!("{n} réparations"),
        };
        let waiting = match run.waiting {
            0 => String::new(),
            n => format!(", {n} en attente de leur paiement"),
        };
        let mut changes: Vec<String> = run.changes.lines().map(str::to_owned).collect();
        if changes.len() > CHANGES_SHOWN {
            let more = changes.len() - CHANGES_SHOWN;
            changes.truncate(CHANGES_SHOWN);
            changes.push(format!("… et {more} autres"));
        }
        LastReconciliation {
            summary: format!(
                "Le {when} : {} objets de Stripe depuis le {} comparés au registre, {repaired}{waiting}.",
                run.checked,
                french_date(run.since),
            ),
            changes,
            failed: false,
        }
    }
}
