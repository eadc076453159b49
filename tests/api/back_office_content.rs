//! The back-office's content: projects written, previewed, published and closed; texts in
//! Markdown shown without their HTML; covers uploaded, checked by content and served. Real
//! HTTP with a cookie jar, on both backends.

use obole::domain::staff::Role;

use crate::back_office::{signed_in_staff, words};
use crate::helpers::{Backend, Content, TestApp, fixtures, spawn_app};

dual_backend_tests!(
    editors_write_preview_publish_and_close_a_project,
    team_texts_are_markdown_without_their_html,
    covers_are_uploaded_checked_by_their_content_and_served,
);

/// A real 960 × 540 PNG.
const COVER: &[u8] = include_bytes!("../fixtures/cover.png");

/// The id at the end of a redirect to `/admin/{kind}/{id}?…`.
fn id_in(response: &reqwest::Response) -> i64 {
    response.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .and_then(|last| last.split('?').next())
        .and_then(|id| id.parse().ok())
        .expect("a redirect to the new page")
}

fn project_fields<'a>(name: &'a str, description: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("full_name", "Programme d’Épanouissement Par le Sport"),
        ("slug", ""),
        ("tagline", "Le sport pour grandir."),
        ("location", "France"),
        ("description", description),
        ("impact_unit", "300"),
        ("impact_unit_label", "enfants accompagnés pendant un an"),
        ("tiers", "25 = un mois de sport pour un enfant"),
    ]
}

async fn status_of(app: &TestApp, table: &str, id: i64) -> String {
    sqlx::query_scalar(&format!("SELECT status FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn editors_write_preview_publish_and_close_a_project(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let viewer = signed_in_staff(&app, "lecture@example.org", Role::Viewer).await;
    let editor = signed_in_staff(&app, "edition@example.org", Role::Editor).await;
    assert_eq!(viewer.get("/admin/projets").await.0, 200);
    assert_eq!(viewer.get("/admin/projets/nouveau").await.0, 403);

    // Wrong fields are named; nothing is created.
    let mut wrong = project_fields(" ", "Texte");
    wrong[6] = ("impact_unit", "trois cents");
    let refused = editor
        .submit("/admin/projets/nouveau", "/admin/projets/nouveau", &wrong)
        .await;
    assert_eq!(refused.status(), 422);
    let page = words(&refused.text().await.unwrap());
    assert!(page.contains("Un nom court de 1 à 60 caractères"), "{page}");
    assert!(page.contains("Le coût d’une personne aidée"), "{page}");
    assert_eq!(app.count("SELECT COUNT(*) FROM projects").await, 0);

    let fields = project_fields("Sport Ados", "Un **programme** pour les ados.");
    let created = editor
        .submit("/admin/projets/nouveau", "/admin/projets/nouveau", &fields)
        .await;
    assert_eq!(created.status(), 303);
    let project = id_in(&created);
    assert_eq!(status_of(&app, "projects", project).await, "draft");
    // A draft: not public, not on the home page; the team previews it.
    assert_eq!(app.get("/projets/sport-ados").await.status(), 404);
    assert!(!app.page("/").await.contains("Sport Ados"));
    let (status, preview) = viewer
        .get(&format!("/admin/projets/{project}/apercu"))
        .await;
    assert_eq!(status, 200);
    let preview = words(&preview);
    assert!(preview.contains("Aperçu pour l’équipe"), "{preview}");
    assert!(preview.contains("Sport Ados"), "{preview}");

    // A campaign cannot go public under a draft project.
    let campaign =
        fixtures::insert_campaign(&app.db, project, "ados-2027", "draft", 50_000, 30).await;
    let (status, preview) = viewer
        .get(&format!("/admin/campagnes/{campaign}/apercu"))
        .await;
    assert_eq!(status, 200, "a draft campaign previewed");
    assert!(words(&preview).contains("Campagne ados-2027"));
    let early = editor
        .submit(
            &format!("/admin/campagnes/{campaign}"),
            &format!("/admin/campagnes/{campaign}/statut"),
            &[("status", "published")],
        )
        .await;
    assert_eq!(early.status(), 409);
    assert!(words(&early.text().await.unwrap()).contains("mettez d’abord le projet en ligne"));
    assert_eq!(status_of(&app, "campaigns", campaign).await, "draft");

    // Published: its page, its place on the home page, its tiers on its campaigns.
    let publish = |status: &'static str| {
        let editor = &editor;
        async move {
            editor
                .submit(
                    &format!("/admin/projets/{project}"),
                    &format!("/admin/projets/{project}/statut"),
                    &[("status", status)],
                )
                .await
        }
    };
    assert_eq!(publish("published").await.status(), 303);
    let public = app.page("/projets/sport-ados").await;
    assert!(public.contains("<strong>programme</strong>"), "{public}");
    assert!(app.page("/").await.contains("/projets/sport-ados"));
    let on_campaign = editor
        .submit(
            &format!("/admin/campagnes/{campaign}"),
            &format!("/admin/campagnes/{campaign}/statut"),
            &[("status", "published")],
        )
        .await;
    assert_eq!(on_campaign.status(), 303);
    assert!(
        words(&app.page("/campagnes/ados-2027").await).contains("un mois de sport pour un enfant"),
        "the project's tiers on its campaign"
    );

    // Not back to draft while a campaign of it is public.
    let back = publish("draft").await;
    assert_eq!(back.status(), 409);
    assert_eq!(status_of(&app, "projects", project).await, "published");

    // Edited: the edit form shows what is stored; another project's address is refused.
    fixtures::insert_project(&app.db, "peps", "PEPS").await;
    let mut edited = project_fields("Sport Ados", "Une *nouvelle* présentation.");
    edited[2] = ("slug", "peps");
    let taken = editor
        .submit(
            &format!("/admin/projets/{project}"),
            &format!("/admin/projets/{project}"),
            &edited,
        )
        .await;
    assert_eq!(taken.status(), 422);
    assert!(words(&taken.text().await.unwrap()).contains("Un autre projet a déjà cette adresse"));
    edited[2] = ("slug", "sport-ados");
    let saved = editor
        .submit(
            &format!("/admin/projets/{project}"),
            &format!("/admin/projets/{project}"),
            &edited,
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert!(
        app.page("/projets/sport-ados")
            .await
            .contains("Une <em>nouvelle</em> présentation.")
    );
    let (_, form) = editor.get(&format!("/admin/projets/{project}")).await;
    assert!(form.contains("value=\"300\""), "{form}");

    // Closed: its page stays and says so; it leaves the home page's projects.
    assert_eq!(publish("closed").await.status(), 303);
    assert!(words(&app.page("/projets/sport-ados").await).contains("Ce projet est terminé"));
    let bad = publish("supprime").await;
    assert_eq!(bad.status(), 400);

    for action in ["project.create", "project.update", "project.status"] {
        let journaled = app
            .count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
            ))
            .await;
        assert!(journaled >= 1, "{action}");
    }
    let refused = viewer
        .submit(
            "/admin/projets",
            &format!("/admin/projets/{project}/statut"),
            &[("status", "published")],
        )
        .await;
    assert_eq!(refused.status(), 403);
}

async fn team_texts_are_markdown_without_their_html(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let editor = signed_in_staff(&app, "edition@example.org", Role::Editor).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    let campaign =
        fixtures::insert_campaign(&app.db, project, "ete", "published", 100_000, 10).await;
    let story = "## Notre été\n\nUn **été** de sport : [le programme](https://exemple.fr/peps).\n\n\
                 <script>alert('story')</script>\n\n\
                 [cliquez](javascript:alert(1)) <img src=x onerror=alert(2)>\n\n- foot\n- judo";
    let project_field = project.to_string();
    let saved = editor
        .submit(
            &format!("/admin/campagnes/{campaign}"),
            &format!("/admin/campagnes/{campaign}"),
            &[
                ("project", project_field.as_str()),
                ("title", "Été"),
                ("slug", "ete"),
                ("summary", "Un été de sport."),
                ("story", story),
                ("goal", "1 000"),
                ("starts_on", "2026-01-01"),
                ("ends_on", ""),
                ("amounts_once", "30"),
                ("amounts_monthly", ""),
                ("amounts_yearly", ""),
                ("tiers", ""),
                ("position", "0"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let page = app.page("/campagnes/ete").await;
    for rendered in [
        "<h3>Notre été</h3>",
        "<strong>été</strong>",
        "<a href=\"https://exemple.fr/peps\">le programme</a>",
        "<li>foot</li>",
        "&lt;script&gt;alert('story')&lt;/script&gt;",
    ] {
        assert!(page.contains(rendered), "{rendered} in {page}");
    }
    for never in [
        "<script>alert",
        "javascript:",
        "<img src=x",
        "onerror=alert(2)>",
    ] {
        assert!(!page.contains(never), "{never} in {page}");
    }
    assert!(words(&page).contains("cliquez"), "the link's words stay");

    // News: the same rules on the project page.
    let posted = editor
        .submit(
            "/admin/nouvelles",
            "/admin/nouvelles",
            &[
                ("project", project_field.as_str()),
                ("campaign", ""),
                ("title", "Des nouvelles"),
                (
                    "body",
                    "Le *tournoi* a eu lieu.\n\n<iframe src=\"https://ailleurs.example\"></iframe>",
                ),
            ],
        )
        .await;
    assert_eq!(posted.status(), 303, "{}", posted.text().await.unwrap());
    let page = app.page("/projets/peps").await;
    assert!(page.contains("Le <em>tournoi</em> a eu lieu."), "{page}");
    assert!(!page.contains("<iframe"), "{page}");
}

async fn covers_are_uploaded_checked_by_their_content_and_served(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let viewer = signed_in_staff(&app, "lecture@example.org", Role::Viewer).await;
    let editor = signed_in_staff(&app, "edition@example.org", Role::Editor).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    let campaign =
        fixtures::insert_campaign(&app.db, project, "ete", "published", 100_000, 10).await;
    let cover = || async {
        sqlx::query_scalar::<_, String>("SELECT cover_image FROM projects WHERE id = $1")
            .bind(project)
            .fetch_one(app.db.pool())
            .await
            .unwrap()
    };
    let before = cover().await;
    let edit = format!("/admin/projets/{project}");
    let action = format!("/admin/projets/{project}/image");

    // Refused, and nothing kept: not a picture (whatever its name and declared type), too
    // small a picture, too heavy a file, a file past the request's limit.
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    let mut heavy = COVER.to_vec();
    heavy.resize(2 * 1024 * 1024 + 1, 0);
    let mut huge = COVER.to_vec();
    huge.resize(3 * 1024 * 1024, 0);
    for (file, status, message) in [
        (
            svg,
            422,
            "Choisissez une image JPEG, PNG ou WebP de 2 Mo au plus.",
        ),
        (
            b"GIF89a\x01\x00\x01\x00".to_vec(),
            422,
            "Choisissez une image JPEG",
        ),
        (heavy, 422, "de 2 Mo au plus"),
    ] {
        let refused = editor.upload(&edit, &action, file, true).await;
        assert_eq!(refused.status(), status, "{message}");
        let page = words(&refused.text().await.unwrap());
        assert!(page.contains(message), "{message} in {page}");
        assert_eq!(cover().await, before);
    }
    // Past the request's limit: refused (the server may also close the connection before
    // the file is all sent, as it does not read it).
    match editor.try_upload(&edit, &action, huge, true).await {
        Ok(refused) => {
            assert_eq!(refused.status(), 400);
            let page = words(&refused.text().await.unwrap());
            assert!(page.contains("dépasse la taille permise"), "{page}");
        }
        Err(error) => assert!(error.is_request(), "{error}"),
    }
    assert_eq!(cover().await, before);
    let medias = app.data_dir().join("medias");
    let kept = || std::fs::read_dir(&medias).map_or(0, |d| d.count());
    assert_eq!(kept(), 0, "nothing written");

    // No token, or a viewer: refused.
    assert_eq!(
        editor
            .upload(&edit, &action, COVER.to_vec(), false)
            .await
            .status(),
        403
    );
    assert_eq!(
        viewer
            .upload("/admin/projets", &action, COVER.to_vec(), true)
            .await
            .status(),
        403
    );
    assert_eq!(cover().await, before);

    // A real picture: kept once, under its content's hash, shown and served for a year.
    let sent = editor.upload(&edit, &action, COVER.to_vec(), true).await;
    assert_eq!(sent.status(), 303);
    let address = cover().await;
    assert!(
        address.starts_with("/medias/") && address.ends_with(".png"),
        "{address}"
    );
    assert!(app.page("/projets/peps").await.contains(&address));
    let served = app.get(&address).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert!(
        served.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(served.bytes().await.unwrap().as_ref(), COVER);
    assert_eq!(kept(), 1);

    // The same picture for a campaign: the same file.
    let sent = editor
        .upload(
            &format!("/admin/campagnes/{campaign}"),
            &format!("/admin/campagnes/{campaign}/image"),
            COVER.to_vec(),
            true,
        )
        .await;
    assert_eq!(sent.status(), 303);
    assert!(app.page("/campagnes/ete").await.contains(&address));
    assert_eq!(kept(), 1, "stored once");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('project.cover', 'campaign.cover')"
        )
        .await,
        2
    );

    // Only stored pictures are served.
    for path in [
        "/medias/..%2Fobole.db",
        "/medias/obole.db",
        &format!("/medias/{}.png", "0".repeat(64)),
        &address.replace(".png", ".svg"),
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
}
