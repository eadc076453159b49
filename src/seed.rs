//! Demonstration content, in French, from the NGO's own programmes: PEPS, ARPEJ and its
//! "Parlement des femmes" in Kara, community and family strengthening.
//!
//! Seeding is idempotent: a project whose slug exists is left as it is. It runs by itself only
//! in demonstration mode (no Stripe key), never into a production ledger.
//!
//! Over 500 lines because half of it is the demo content itself (the `PROJECTS` table of
//! French text); the code that writes it is short.

use sqlx::AnyConnection;

use crate::db::Db;
use crate::domain::campaign::CampaignStatus;
use crate::domain::dates::{self, DAY};
use crate::domain::dedication::DedicationKind;
use crate::domain::donation::PaymentMethod;
use crate::domain::email::Email;
use crate::domain::frequency::Frequency;
use crate::domain::identity::DonorIdentity;
use crate::domain::money::{Currency, Money};
use crate::domain::organisation::Organisation;
use crate::media;
use crate::store::campaigns::{self, NewCampaign, NewSuggestedAmount, TierOf};
use crate::store::donations::{self, NewDonation};
use crate::store::news::{self, NewNewsPost};
use crate::store::projects::{self, NewProject};
use crate::store::settings;
use crate::store::supporters;

struct DemoProject {
    slug: &'static str,
    name: &'static str,
    full_name: &'static str,
    tagline: &'static str,
    description: &'static str,
    location: &'static str,
    cover_image: &'static str,
    /// What one impact unit costs (one of the tiers) and what the home page counts in it.
    impact_unit: (i64, &'static str),
    /// (cents, what it pays for): the one place an impact's figure and words are written;
    /// the campaign page lists them and the donation form labels its amounts with them.
    tiers: &'static [(i64, &'static str)],
    campaign: DemoCampaign,
    news: &'static [(&'static str, &'static str, &'static str, i64)],
}

struct DemoCampaign {
    slug: &'static str,
    title: &'static str,
    summary: &'static str,
    story: &'static str,
    goal_euros: i64,
    started_days_ago: i64,
    ends_in_days: i64,
    /// (frequency, euros); an amount is labelled with the project's tier of that amount, if
    /// any, so the form never gives an impact another figure than the campaign page.
    amounts: &'static [(Frequency, i64)],
    /// How many demo gifts, and their typical sizes in euros.
    gifts: usize,
    gift_sizes: &'static [i64],
}

const PROJECTS: &[DemoProject] = &[
    DemoProject {
        slug: "peps",
        name: "PEPS",
        full_name: "Programme d’Épanouissement Par le Sport",
        tagline: "Le sport pour grandir, prendre confiance et trouver sa place.",
        description: "Le PEPS offre aux enfants et aux jeunes que nous accompagnons une pratique sportive \
régulière, encadrée par des éducateurs formés. Football, natation, athlétisme ou escalade : le sport \
devient un espace où l’on apprend les règles, l’effort, la solidarité et la fierté d’avoir progressé.\n\n\
Chaque enfant bénéficie d’une licence, d’un équipement adapté et d’un suivi individuel, en lien avec \
son éducateur de référence.",
        location: "France",
        cover_image: "/static/img/peps.svg",
        impact_unit: (30_000, "enfants accompagnés pendant un an"),
        tiers: &[
            (1_000, "un mois de transport vers les matchs pour un enfant"),
            (2_500, "un mois de sport encadré pour un enfant"),
            (
                6_000,
                "un équipement sportif complet (chaussures, tenue, sac)",
            ),
            (15_000, "une semaine de stage sportif pendant les vacances"),
            (
                30_000,
                "une année entière de sport pour un enfant, licence comprise",
            ),
        ],
        campaign: DemoCampaign {
            slug: "le-sport-pour-grandir",
            title: "Le sport pour grandir",
            summary: "Offrez à 80 enfants une année de sport encadré : une licence, un équipement et un éducateur à leurs côtés.",
            story: "Pour un enfant séparé de sa famille, le terrain de sport est souvent le premier endroit où il \
se sent à sa place. On y apprend à perdre, à gagner, à compter sur les autres.\n\n\
Avec le PEPS, nos éducateurs accompagnent chaque semaine les enfants de nos villages dans un club de leur \
quartier. Ils y trouvent des amis, des entraîneurs, des repères, et reprennent confiance en eux.\n\n\
Cette année, nous voulons permettre à 80 enfants de pratiquer toute l’année : licences, équipements, \
transports vers les compétitions et stages pendant les vacances. Chaque don compte.",
            goal_euros: 24_000,
            started_days_ago: 40,
            ends_in_days: 45,
            amounts: &[
                (Frequency::Once, 25),
                (Frequency::Once, 60),
                (Frequency::Once, 150),
                (Frequency::Monthly, 10),
                (Frequency::Monthly, 25),
                (Frequency::Yearly, 300),
            ],
            gifts: 64,
            gift_sizes: &[20, 30, 30, 50, 60, 100, 150, 25, 40, 300],
        },
        news: &[
            (
                "tournoi-de-printemps",
                "Premier tournoi pour l’équipe des Villages",
                "Douze enfants ont disputé leur premier tournoi inter-clubs. Au-delà des résultats, \
c’est la fierté d’avoir porté le maillot ensemble qui restera.",
                12,
            ),
            (
                "stage-escalade",
                "Une semaine d’escalade dans les Alpes",
                "Pendant les vacances, huit jeunes ont découvert l’escalade. Tous sont arrivés au sommet \
de la voie qu’ils s’étaient choisie.",
                30,
            ),
        ],
    },
    DemoProject {
        slug: "arpej",
        name: "ARPEJ",
        full_name: "Approche Régionale pour la Protection de l’Enfance et de la Jeunesse",
        tagline: "Au Togo, des femmes élues qui font entendre la voix des enfants.",
        description: "Le programme ARPEJ renforce la protection des enfants et des jeunes au Togo en s’appuyant \
sur celles et ceux qui les connaissent le mieux : les familles, les communautés et leurs représentantes.\n\n\
À Kara, le « Parlement des femmes » réunit des femmes élues par leurs villages. Formées aux droits de \
l’enfant, elles repèrent les situations de danger, accompagnent les familles et portent leurs propositions \
devant les autorités locales.",
        location: "Kara, Togo",
        cover_image: "/static/img/arpej.svg",
        impact_unit: (12_000, "femmes formées aux droits de l’enfant"),
        tiers: &[
            (
                2_000,
                "le transport d’une élue vers une session du Parlement",
            ),
            (5_000, "une journée de formation aux droits de l’enfant"),
            (12_000, "la formation complète d’une parlementaire"),
            (
                40_000,
                "une session plénière du Parlement des femmes de Kara",
            ),
        ],
        campaign: DemoCampaign {
            slug: "parlement-des-femmes-kara",
            title: "Le Parlement des femmes de Kara",
            summary: "Formez 150 femmes élues qui protègent les enfants de leurs villages, dans la région de Kara au Togo.",
            story: "Dans la région de Kara, au nord du Togo, trop d’enfants quittent l’école trop tôt, travaillent \
ou sont mariés avant l’âge. Les femmes des villages le voient, et veulent agir.\n\n\
Le Parlement des femmes leur donne les moyens de le faire : des élues formées aux droits de l’enfant, \
qui se réunissent en session, repèrent les situations de danger et dialoguent avec les chefs \
traditionnels, les écoles et les services sociaux.\n\n\
Votre don finance leur formation, leurs déplacements et les sessions du Parlement, pour que la voix \
des enfants soit entendue là où les décisions se prennent.",
            goal_euros: 18_000,
            started_days_ago: 25,
            ends_in_days: 60,
            amounts: &[
                (Frequency::Once, 20),
                (Frequency::Once, 50),
                (Frequency::Once, 120),
                (Frequency::Monthly, 10),
                (Frequency::Monthly, 20),
                (Frequency::Yearly, 120),
            ],
            gifts: 38,
            gift_sizes: &[20, 20, 50, 50, 120, 35, 80, 200],
        },
        news: &[
            (
                "premiere-session-2026",
                "Première session plénière de l’année à Kara",
                "Quarante-deux parlementaires se sont réunies pendant deux jours. Elles ont adopté un plan \
d’action contre le travail des enfants dans les carrières.",
                8,
            ),
            (
                "retour-a-l-ecole",
                "Vingt-sept enfants de retour à l’école",
                "Grâce au suivi des élues, vingt-sept enfants qui avaient quitté l’école ont repris le chemin \
de la classe à la rentrée.",
                21,
            ),
        ],
    },
    DemoProject {
        slug: "renforcement-des-communautes",
        name: "Renforcement des communautés",
        full_name: "Renforcement des communautés",
        tagline: "Des communautés qui savent repérer, protéger et accompagner.",
        description: "Un enfant est mieux protégé quand toute sa communauté veille sur lui. Nous formons les \
enseignants, les responsables associatifs et les parents relais à repérer les signes de danger et à \
orienter les familles vers l’aide dont elles ont besoin.",
        location: "France et Afrique de l’Ouest",
        cover_image: "/static/img/communautes.svg",
        impact_unit: (8_000, "personnes relais formées"),
        tiers: &[
            (3_000, "le livret de prévention pour dix familles"),
            (8_000, "la formation d’une personne relais"),
            (25_000, "une réunion de quartier animée par nos équipes"),
        ],
        campaign: DemoCampaign {
            slug: "des-communautes-qui-protegent",
            title: "Des communautés qui protègent",
            summary: "Formez 150 personnes relais capables de repérer un enfant en danger et d’accompagner sa famille.",
            story: "Les enseignants, les animateurs, les voisins sont souvent les premiers à voir qu’un enfant ne va \
pas bien. Encore faut-il savoir quoi faire.\n\n\
Nos formations donnent à ces personnes relais les bons réflexes : écouter, signaler, orienter. Elles \
créent autour de chaque enfant un filet de sécurité fait de visages connus.",
            goal_euros: 12_000,
            started_days_ago: 60,
            ends_in_days: 20,
            amounts: &[
                (Frequency::Once, 30),
                (Frequency::Once, 80),
                (Frequency::Once, 250),
                (Frequency::Monthly, 15),
                (Frequency::Monthly, 30),
                (Frequency::Yearly, 150),
            ],
            gifts: 27,
            gift_sizes: &[30, 50, 80, 40, 100, 25],
        },
        news: &[
            (
                "formation-enseignants",
                "Trente enseignants formés au repérage",
                "Une journée pour comprendre, reconnaître et réagir : trente enseignants ont suivi notre \
nouvelle formation.",
                15,
            ),
            (
                "parents-relais",
                "Un réseau de parents relais dans trois quartiers",
                "Des parents bénévoles tiennent désormais une permanence hebdomadaire pour écouter et orienter \
les familles de leur quartier.",
                40,
            ),
        ],
    },
    DemoProject {
        slug: "appui-aux-familles",
        name: "Appui aux familles",
        full_name: "Programmes de renforcement des familles",
        tagline: "Aider les parents à surmonter les difficultés pour que les enfants grandissent en famille.",
        description: "Quand une famille traverse une crise (perte d’emploi, maladie, isolement), les enfants \
sont les premiers exposés. Nos programmes de renforcement des familles accompagnent les parents pendant \
deux ans : soutien éducatif, accès aux droits, aide à l’insertion professionnelle.",
        location: "France, Togo, Bénin",
        cover_image: "/static/img/familles.svg",
        impact_unit: (40_000, "familles accompagnées"),
        tiers: &[
            (3_500, "un mois de fournitures scolaires pour une fratrie"),
            (9_000, "un atelier budget pour dix parents"),
            (40_000, "deux ans d’accompagnement complet pour une famille"),
        ],
        campaign: DemoCampaign {
            slug: "garder-les-familles-unies",
            title: "Garder les familles unies",
            summary: "Accompagnez 75 familles en difficulté pendant deux ans, pour que leurs enfants grandissent auprès d’elles.",
            story: "Aucun enfant ne devrait être séparé de ses parents parce que sa famille traverse une mauvaise \
passe. Avec un accompagnement au bon moment, la plupart des familles s’en sortent.\n\n\
Nos travailleurs sociaux suivent chaque famille pendant deux ans : budget, scolarité, santé, emploi. \
Les parents reprennent pied, les enfants restent à la maison.",
            goal_euros: 30_000,
            started_days_ago: 10,
            ends_in_days: 80,
            amounts: &[
                (Frequency::Once, 35),
                (Frequency::Once, 90),
                (Frequency::Once, 400),
                (Frequency::Monthly, 15),
                (Frequency::Monthly, 35),
                (Frequency::Yearly, 400),
            ],
            gifts: 22,
            gift_sizes: &[35, 90, 50, 100, 400, 60],
        },
        news: &[
            (
                "rentree-des-familles",
                "Une rentrée réussie pour les familles accompagnées",
                "Cartables, inscriptions, rendez-vous avec les enseignants : nos équipes ont préparé la \
rentrée avec quarante familles.",
                5,
            ),
            (
                "atelier-budget",
                "Des ateliers budget qui changent le quotidien",
                "Chaque mois, des parents se retrouvent pour apprendre à construire un budget et faire valoir \
leurs droits.",
                35,
            ),
        ],
    },
];

impl DemoProject {
    /// The words of the tier costing exactly `cents`, if there is one.
    fn impact_of(&self, cents: i64) -> Option<&'static str> {
        self.tiers
            .iter()
            .find(|(amount, _)| *amount == cents)
            .map(|(_, label)| *label)
    }
}

const FIRST_NAMES: &[&str] = &[
    "Marie", "Thomas", "Camille", "Lucas", "Léa", "Hugo", "Chloé", "Nathan", "Manon", "Louis",
    "Inès", "Jules", "Sarah", "Gabriel", "Emma", "Arthur", "Zoé", "Adam", "Jeanne", "Paul",
    "Aïcha", "Koffi", "Ama", "Yao",
];
const LAST_NAMES: &[&str] = &[
    "Martin", "Bernard", "Dubois", "Durand", "Lefebvre", "Moreau", "Laurent", "Simon", "Michel",
    "Garcia", "Roux", "Fontaine", "Mensah", "Agbeko", "Kpodar", "Fournier",
];
const CITIES: &[(&str, &str)] = &[
    ("75011", "Paris"),
    ("69003", "Lyon"),
    ("13006", "Marseille"),
    ("31000", "Toulouse"),
    ("44000", "Nantes"),
    ("67000", "Strasbourg"),
    ("33000", "Bordeaux"),
    ("59000", "Lille"),
];

/// What a seeding run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub projects_created: Vec<&'static str>,
    pub donations_created: usize,
}

/// Adds the demo projects that are missing, each in its own transaction.
/// The demonstration's organisation, as an admin would describe it in the back-office (with
/// a signature), so that its gifts get their tax receipts; only while nothing is set.
pub async fn seed_demo_organisation(db: &Db, data_dir: &std::path::Path) -> anyhow::Result<()> {
    if !settings::organisation(db.pool()).await?.name.is_empty() {
        return Ok(());
    }
    let signature = media::check(DEMO_SIGNATURE.to_vec(), media::SIGNATURE)
        .map_err(|reason| anyhow::anyhow!("demo signature: {reason}"))?;
    let address = media::store(data_dir, &signature)?;
    let organisation = Organisation {
        name: "Villages d’Enfants".into(),
        address_line1: "12 rue de l’Espérance".into(),
        postal_code: "75011".into(),
        city: "Paris".into(),
        object: "Accueillir, protéger et accompagner les enfants et les jeunes privés de soutien \
                 familial, et aider les familles à rester unies (organisation de démonstration)."
            .into(),
        category: "rup".into(),
        siren: "123456789".into(),
        cgi_articles: "200,238 bis".into(),
        signatory_name: "Claire Martin".into(),
        signatory_role: "présidente".into(),
        publication_director: "Claire Martin".into(),
        contact_email: "contact@villages-enfants.example".into(),
        host: "Hébergeur de démonstration, 1 rue du Serveur, 75000 Paris".into(),
        public_utility: 1,
        ..Organisation::default()
    };
    let now = dates::now();
    let mut tx = db.begin_write().await?;
    // Set only if still empty: two instances seeding at once write it once.
    let empty: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM organisation_settings WHERE singleton = 1 AND name = ''",
    )
    .fetch_one(&mut *tx)
    .await?;
    if empty == 1 {
        settings::save(&mut tx, &organisation, now).await?;
        settings::set_picture(&mut tx, settings::Picture::Signature, &address, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A scribble that stands for the demonstration's signatory's signature.
const DEMO_SIGNATURE: &[u8] = include_bytes!("receipts/demo-signature.png");

pub async fn seed_demo(db: &Db) -> sqlx::Result<SeedReport> {
    let mut report = SeedReport::default();
    let now = dates::now();
    for (index, project) in PROJECTS.iter().enumerate() {
        let mut tx = db.begin_write().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM projects WHERE slug = $1")
            .bind(project.slug)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            continue;
        }
        report.donations_created += seed_project(&mut tx, db, project, index, now).await?;
        tx.commit().await?;
        report.projects_created.push(project.slug);
    }
    Ok(report)
}

async fn seed_project(
    conn: &mut AnyConnection,
    db: &Db,
    project: &DemoProject,
    project_index: usize,
    now: i64,
) -> sqlx::Result<usize> {
    let new_project = NewProject {
        slug: project.slug,
        name: project.name,
        full_name: project.full_name,
        tagline: project.tagline,
        description: project.description,
        location: project.location,
        cover_image: project.cover_image,
        impact_unit: Some(project.impact_unit),
    };
    let project_id = projects::insert(conn, &new_project, now).await?;
    for (position, (amount_cents, label)) in project.tiers.iter().enumerate() {
        let of = TierOf::Project(project_id);
        campaigns::insert_impact_tier(conn, of, *amount_cents, label, position as i64, now).await?;
    }

    let c = &project.campaign;
    let new_campaign = NewCampaign {
        project_id,
        slug: c.slug,
        title: c.title,
        summary: c.summary,
        story: c.story,
        cover_image: project.cover_image,
        goal_cents: c.goal_euros * 100,
        currency: Currency::EUR,
        starts_at: now - c.started_days_ago * DAY,
        ends_at: Some(now + c.ends_in_days * DAY),
        status: CampaignStatus::Published,
    };
    let campaign_id = campaigns::insert(conn, &new_campaign, now).await?;
    for (position, (frequency, euros)) in c.amounts.iter().enumerate() {
        let amount = NewSuggestedAmount {
            frequency: *frequency,
            amount_cents: euros * 100,
            label: project.impact_of(euros * 100),
            position: position as i64,
        };
        campaigns::insert_suggested_amount(conn, campaign_id, &amount, now).await?;
    }

    for (slug, title, body, days_ago) in project.news {
        let published_at = now - days_ago * DAY;
        let post = NewNewsPost {
            project_id,
            campaign_id: Some(campaign_id),
            slug,
            title,
            body,
            published_at,
        };
        // Written when published, as far as the demo tells.
        news::insert(conn, &post, published_at).await?;
    }

    for n in 0..c.gifts {
        // Deterministic variety: the same seed gives the same demo everywhere.
        let k = n * 7 + project_index * 13;
        let first = FIRST_NAMES[k % FIRST_NAMES.len()];
        let last = LAST_NAMES[(k / 3 + n) % LAST_NAMES.len()];
        let (postal_code, city) = CITIES[k % CITIES.len()];
        let donor = DonorIdentity {
            email: demo_email(first, last, k % 40),
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            address_line1: format!("{} rue de la République", 1 + k % 120),
            address_line2: String::new(),
            postal_code: postal_code.to_owned(),
            city: city.to_owned(),
            country: "FR".to_owned(),
        };
        let supporter_id = supporters::upsert(conn, &donor, None, now, now).await?;
        let show_publicly = n % 3 != 2;
        let dedication = (n % 11 == 4).then_some((DedicationKind::Memory, "Mamie Suzanne"));
        let euros = c.gift_sizes[k % c.gift_sizes.len()];
        let donated_at =
            now - c.started_days_ago * DAY + (n as i64 * c.started_days_ago * DAY) / c.gifts as i64;
        let donation = NewDonation {
            campaign_id,
            supporter_id,
            pledge_id: None,
            recurring_gift_id: None,
            amount: Money::new(euros * 100, Currency::EUR),
            frequency: Frequency::Once,
            payment_method: if n % 5 == 0 {
                PaymentMethod::SepaDebit
            } else {
                PaymentMethod::Card
            },
            show_publicly,
            public_name: show_publicly.then(|| supporters::public_name(first, last)),
            dedication_kind: dedication.map(|d| d.0),
            dedication_name: dedication.map(|d| d.1.to_owned()),
            stripe_checkout_session_id: None,
            stripe_payment_intent_id: None,
            stripe_invoice_id: None,
            donated_at,
        };
        donations::insert_paid(conn, db.backend(), &donation, now).await?;
    }
    Ok(c.gifts)
}

/// `aicha.mensah.7@example.org`: ASCII letters and digits only, so always an address.
fn demo_email(first: &str, last: &str, n: usize) -> Email {
    let email = format!(
        "{}.{}.{n}@example.org",
        ascii_lower(first),
        ascii_lower(last)
    );
    Email::parse(&email).expect("demo names make valid addresses (see the test)")
}

/// `Aïcha` → `aicha`, for demo email addresses.
fn ascii_lower(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'é' | 'è' | 'É' => 'e',
            'ï' | 'î' => 'i',
            other => other.to_ascii_lowercase(),
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn each_impact_has_one_figure() {
        for project in PROJECTS {
            let amounts: BTreeSet<i64> = project.tiers.iter().map(|t| t.0).collect();
            let labels: BTreeSet<&str> = project.tiers.iter().map(|t| t.1).collect();
            assert_eq!(
                amounts.len(),
                project.tiers.len(),
                "{}: an amount twice",
                project.slug
            );
            assert_eq!(
                labels.len(),
                project.tiers.len(),
                "{}: an impact twice",
                project.slug
            );
            assert!(
                project.impact_of(project.impact_unit.0).is_some(),
                "{}: the home page’s unit is one of the tiers",
                project.slug
            );
        }
    }

    #[test]
    fn every_demo_name_makes_an_email_address() {
        for first in FIRST_NAMES {
            for last in LAST_NAMES {
                demo_email(first, last, 0);
            }
        }
    }

    #[test]
    fn every_one_off_suggestion_says_what_it_pays_for() {
        for project in PROJECTS {
            for (frequency, euros) in project.campaign.amounts {
                assert!(
                    *frequency != Frequency::Once || project.impact_of(euros * 100).is_some(),
                    "{}: {euros} € once has no tier",
                    project.slug
                );
            }
        }
    }
}
