//! The REST API through the real `newsflow-web` binary against the local PostgreSQL and
//! RabbitMQ: every route, filters, paging, bad parameters, limits, API keys, the OpenAPI
//! document against the routes, the live stream, exports, `newsflow export`, and what the
//! page and the API say when the database is empty or down.

mod support;

use std::collections::BTreeSet;

use newsflow_store::Store;
use newsflow_test_support::{
    database::TestDatabase,
    fixtures::{Doc, NATO, PUTIN, at, corpus},
    free_port, run_ok,
    workspace::binary,
};
use serde_json::Value;
use support::Web;

const PESKOV: &str = "PERSON%3Admitry%20peskov";
const PUTIN_PATH: &str = "PERSON%3Avladimir%20putin";

fn ids(page: &Value) -> Vec<String> {
    page["articles"]
        .as_array()
        .expect("articles")
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn corpus_web(name: &str) -> Web {
    let web = Web::start(name, &[]).await;
    web.save(&corpus()).await;
    web
}

/// A report naming Putin and NATO, published `hour` hours after noon of Nov 20, with an
/// embedding along axis `event`.
fn report(id: &str, hour: i64, event: usize) -> newsflow_proto::v1::AnalyzedArticle {
    let mut embedding = vec![0f32; 384];
    embedding[event] = 1.0;
    let published = at(2024, 11, 20, 12) + chrono::Duration::hours(hour);
    let mut doc = Doc::new(id, "wire", Some(published))
        .entity(
            "e1",
            newsflow_proto::v1::EntityType::Person,
            "Vladimir Putin",
            2,
        )
        .entity("e2", newsflow_proto::v1::EntityType::Org, "NATO", 1)
        .embedding(embedding);
    doc.article_mut().title = format!("Report {id}");
    doc.build()
}

#[tokio::test(flavor = "multi_thread")]
async fn stories_are_listed_with_their_articles() {
    let web = Web::start("stories", &[]).await;
    web.save(&[
        report("s1", 0, 0),
        report("s2", 5, 0),
        report("other", 10, 1),
    ])
    .await;
    let page = web.json("/api/v1/stories").await;
    let stories = page["stories"].as_array().expect("stories");
    assert_eq!(stories.len(), 2, "{page}");
    assert_eq!(stories[0]["title"], "Report other", "latest first: {page}");
    let summit = &stories[1];
    assert_eq!(summit["article_count"], 2);
    assert_eq!(summit["copy_count"], 0);
    assert_eq!(summit["first_at"], "2024-11-20T12:00:00Z");
    let names: Vec<&str> = summit["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["NATO", "Vladimir Putin"], "equal weights: by key");
    let id = summit["id"].as_u64().unwrap();

    let detail = web.json(&format!("/api/v1/stories/{id}")).await;
    assert_eq!(detail["story"]["id"], id);
    assert_eq!(ids(&detail["articles"]), ["s2", "s1"]);
    let members = web.json(&format!("/api/v1/articles?story={id}")).await;
    assert_eq!(ids(&members), ["s2", "s1"]);
    assert_eq!(members["articles"][0]["story"], id);
    let by_entity = web
        .json(&format!("/api/v1/stories?entity={PUTIN_PATH}&limit=1"))
        .await;
    assert_eq!(by_entity["stories"].as_array().unwrap().len(), 1);
    assert!(by_entity["next_cursor"].is_string(), "{by_entity}");

    assert_eq!(web.get("/api/v1/stories/999999").await.status, 404);
    for bad in [
        "/api/v1/stories/abc",
        "/api/v1/articles?story=-1",
        "/api/v1/stories?cursor=zz",
    ] {
        assert_eq!(web.get(bad).await.status, 400, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn articles_filter_page_and_resolve_their_analysis() {
    let web = corpus_web("articles").await;
    let all = web.json("/api/v1/articles").await;
    assert_eq!(ids(&all), ["a3", "a2", "a1", "a4"]);
    assert!(all["next_cursor"].is_null());
    let first = &all["articles"][2];
    assert_eq!(first["source"], "reuters");
    assert_eq!(first["time"], "2024-11-20T10:00:00Z");
    assert_eq!(first["stance_count"], 3);
    assert!(first["excerpt"].as_str().unwrap().starts_with("Body of a1"));

    for (query, expected) in [
        ("source=reuters", &["a3", "a1"][..]),
        ("entity=ORG%3Anato", &["a2"]),
        ("type=org", &["a2"]),
        ("place=690791", &["a1", "a4"]),
        ("place=2988507", &[]),
        ("holder=PERSON%3Admitry%20peskov", &["a1"]),
        (
            "target=PERSON%3Avladimir%20putin&polarity=against",
            &["a3", "a2"],
        ),
        ("polarity=for", &["a1"]),
        ("target=Western%20troops", &["a1"]),
        (
            "holder=ORG%3Anato&target=PERSON%3Avladimir%20putin",
            &["a2"],
        ),
        ("q=putin%20-a2%20-a3", &["a1", "a4"]),
        ("from=2024-11-20&to=2024-11-21", &["a2", "a1"]),
        ("from=2024-11-21T00:00:00Z", &["a3"]),
    ] {
        let page = web.json(&format!("/api/v1/articles?{query}")).await;
        assert_eq!(ids(&page), expected, "{query}");
    }

    // Pages of one, by cursor, neither skip nor repeat.
    let mut seen = Vec::new();
    let mut path = "/api/v1/articles?limit=1".to_owned();
    loop {
        let page = web.json(&path).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/articles?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["a3", "a2", "a1", "a4"]);

    let a1 = web.json("/api/v1/articles/a1").await;
    assert_eq!(a1["body"], "Body of a1. Vladimir Putin and others.");
    assert_eq!(a1["revision"], 1);
    let statement = &a1["statements"][0];
    assert_eq!(statement["speaker"]["key"], "PERSON:dmitry peskov");
    assert_eq!(statement["speaker"]["name"], "Dmitry Peskov");
    assert_eq!(
        statement["content_span"],
        serde_json::json!({"start": 11, "end": 30})
    );
    assert_eq!(statement["kind"], "direct");
    let stances = a1["stances"].as_array().unwrap();
    assert_eq!(stances[0]["holder"]["name"], "Dmitry Peskov");
    assert_eq!(stances[0]["target"]["entity"]["key"], PUTIN);
    assert_eq!(stances[0]["polarity"], "positive");
    assert!(stances[1]["holder"].is_null(), "the text's own stance");
    assert_eq!(stances[0]["method"], "holder_model");
    assert_eq!(stances[1]["method"], "portrayal");
    assert!(a1["affiliations"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(stances[2]["target"]["topic"], "Western troops");
    // Evidence is the body's code points [0, 40), cut at its end.
    assert_eq!(
        stances[0]["evidence"],
        "Body of a1. Vladimir Putin and others."
    );
    assert_eq!(a1["entities"][0]["type"], "person");
    assert_eq!(a1["entities"][0]["mentions"].as_array().unwrap().len(), 2);
    assert!(
        a1["entities"][0].get("geo").is_none(),
        "a person has no place"
    );
    let ukraine = &a1["entities"][2]["geo"];
    assert_eq!(ukraine["status"], "resolved");
    assert_eq!(ukraine["geonames_id"], 690791);
    assert_eq!(
        (ukraine["latitude"].as_f64(), ukraine["longitude"].as_f64()),
        (Some(49.0), Some(32.0))
    );
    assert_eq!(ukraine["country_code"], "UA");

    let missing = web.get("/api/v1/articles/nope").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn entities_timelines_statements_and_stance_edges() {
    let web = corpus_web("entities").await;
    let found = web.json("/api/v1/entities?q=putin").await;
    assert_eq!(found["entities"][0]["key"], PUTIN);
    assert_eq!(found["entities"][0]["article_count"], 3);
    let fuzzy = web
        .json("/api/v1/entities?q=vladimir%20putn&fuzzy=true")
        .await;
    assert_eq!(fuzzy["entities"][0]["key"], PUTIN);
    let orgs = web.json("/api/v1/entities?q=n&type=org&limit=1").await;
    assert_eq!(orgs["entities"].as_array().unwrap().len(), 1);
    assert_eq!(orgs["entities"][0]["key"], NATO);

    let putin = web.json(&format!("/api/v1/entities/{PUTIN_PATH}")).await;
    assert_eq!(putin["name"], "Vladimir Putin");
    assert_eq!(putin["type"], "person");
    assert_eq!(
        (putin["articles"].as_u64(), putin["mentions"].as_u64()),
        (Some(3), Some(4))
    );
    assert_eq!(
        web.get("/api/v1/entities/PERSON%3Anobody").await.status,
        404
    );

    let timeline = web
        .json(&format!("/api/v1/entities/{PUTIN_PATH}/timeline"))
        .await;
    let days: Vec<&str> = timeline["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2024-11-20", "2024-11-21"]);
    assert_eq!(timeline["days"][0]["negative"], 2);
    let later = web
        .json(&format!(
            "/api/v1/entities/{PUTIN_PATH}/timeline?from=2024-11-21"
        ))
        .await;
    assert_eq!(later["days"].as_array().unwrap().len(), 1);

    let by_peskov = web
        .json(&format!("/api/v1/statements?speaker={PESKOV}"))
        .await;
    assert_eq!(
        by_peskov["statements"][0]["speaker"]["name"],
        "Dmitry Peskov"
    );
    assert_eq!(by_peskov["statements"][0]["article"]["id"], "a1");
    let about = web
        .json(&format!("/api/v1/statements?about={PUTIN_PATH}&limit=1"))
        .await;
    assert_eq!(about["statements"][0]["article"]["id"], "a3");
    assert_eq!(about["statements"][0]["stance"]["polarity"], "negative");
    let cursor = about["next_cursor"].as_str().expect("a second page");
    let next = web
        .json(&format!(
            "/api/v1/statements?about={PUTIN_PATH}&limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(next["statements"][0]["article"]["id"], "a1");
    assert!(next["next_cursor"].is_null());

    let edges = web.json("/api/v1/stances").await;
    assert_eq!(edges["edges"].as_array().unwrap().len(), 4);
    assert_eq!(edges["truncated"], false);
    let first = &edges["edges"][0];
    assert_eq!(first["holder"]["key"], NATO);
    assert_eq!(first["target"]["kind"], "entity");
    assert_eq!(first["target"]["name"], "Vladimir Putin");
    assert_eq!(
        (first["negative"].as_u64(), first["total"].as_u64()),
        (Some(1), Some(1))
    );
    let cut = web.json("/api/v1/stances?limit=2").await;
    assert_eq!(cut["edges"].as_array().unwrap().len(), 2);
    assert_eq!(cut["truncated"], true);
    let topic = web.json("/api/v1/stances?target=Western%20troops").await;
    assert_eq!(topic["edges"][0]["target"]["kind"], "topic");
    let period = web.json("/api/v1/stances?from=2024-11-21").await;
    assert_eq!(period["edges"][0]["holder"]["name"], "Volodymyr Zelensky");
    let against_nato = web
        .json("/api/v1/stances?entity=ORG%3Anato&polarity=against")
        .await;
    assert_eq!(against_nato["edges"].as_array().unwrap().len(), 1);
    // The corpus holds no near-copies: counting them changes nothing.
    assert_eq!(
        web.json("/api/v1/stances?copies=true").await,
        web.json("/api/v1/stances").await
    );
    assert_eq!(
        web.json("/api/v1/entities/PERSON%3Avladimir%20putin/timeline?copies=true")
            .await,
        web.json("/api/v1/entities/PERSON%3Avladimir%20putin/timeline")
            .await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_parameters_are_400s_that_name_the_parameter() {
    let web = corpus_web("bad").await;
    for (path, parameter) in [
        ("/api/v1/articles?from=yesterday", "from"),
        ("/api/v1/articles?from=2024-11-21&to=2024-11-20", "to"),
        ("/api/v1/articles?limit=0", "limit"),
        ("/api/v1/articles?limit=501", "limit"),
        ("/api/v1/articles?limit=ten", "limit"),
        ("/api/v1/articles?polarity=angry", "polarity"),
        ("/api/v1/articles?type=alien", "type"),
        ("/api/v1/articles?place=paris", "place"),
        ("/api/v1/articles?place=-1", "place"),
        ("/api/v1/articles?q=%20%20", "q"),
        ("/api/v1/articles?source=a%00b", "source"),
        ("/api/v1/articles?cursor=zz", "cursor"),
        ("/api/v1/articles?cursor=00ff", "cursor"),
        ("/api/v1/articles?frm=2024-11-20", "frm"),
        ("/api/v1/articles?from=2024-11-20&from=2024-11-21", "from"),
        ("/api/v1/entities", "q"),
        ("/api/v1/entities?q=putin&fuzzy=maybe", "fuzzy"),
        ("/api/v1/entities?q=putin&limit=101", "limit"),
        (
            "/api/v1/entities/PERSON%3Avladimir%20putin/timeline?to=soon",
            "to",
        ),
        ("/api/v1/statements?limit=501", "limit"),
        ("/api/v1/statements?cursor=01000000000000000061", "cursor"),
        ("/api/v1/stances?limit=1001", "limit"),
        ("/api/v1/stances?polarity=x", "polarity"),
        ("/api/v1/stances?copies=some", "copies"),
        (
            "/api/v1/entities/PERSON%3Avladimir%20putin/timeline?copies=2",
            "copies",
        ),
        ("/api/v1/export?rows=cats", "rows"),
        ("/api/v1/export?format=xml", "format"),
        ("/api/v1/export?from=nope", "from"),
    ] {
        let response = web.get(path).await;
        assert_eq!(response.status, 400, "{path}: {}", response.text());
        let error = &response.json()["error"];
        assert_eq!(error["code"], "INVALID_ARGUMENT", "{path}");
        assert_eq!(error["parameter"], parameter, "{path}: {error}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    // The limits themselves are accepted.
    for path in [
        "/api/v1/articles?limit=500",
        "/api/v1/entities?q=putin&limit=100",
        "/api/v1/stances?limit=1000",
        "/api/v1/statements?limit=500",
    ] {
        assert_eq!(web.get(path).await.status, 200, "{path}");
    }
    assert_eq!(web.get("/api/v1/nothing").await.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_guard_everything_but_health_login_and_static_files() {
    let web = Web::start("keys", &[("NEWSFLOW_API_KEYS", "k1, k2")]).await;
    web.save(&corpus()).await;
    let refused = web.get("/api/v1/articles").await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    assert_eq!(refused.json()["error"]["code"], "UNAUTHENTICATED");
    let wrong = web
        .get_with("/api/v1/articles", &[("authorization", "Bearer k3")])
        .await;
    assert_eq!(wrong.status, 401);
    let right = web
        .get_with("/api/v1/articles", &[("authorization", "Bearer k2")])
        .await;
    assert_eq!(right.status, 200);
    assert_eq!(ids(&right.json()).len(), 4);
    assert_eq!(web.get("/openapi.json").await.status, 401);
    for open in ["/healthz", "/login", "/static/app.css"] {
        assert_eq!(web.get(open).await.status, 200, "{open}");
    }
    // The page sends a browser to the login form, which keeps the key in a cookie.
    let page = web.get("/entities/x?y=1").await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.header("location"),
        Some("/login?next=%2Fentities%2Fx%3Fy%3D1")
    );
    let url = format!("{}/login", web.url);
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let bad = newsflow_test_support::http::post(&url, &form, "key=k9&next=%2F").await;
    assert_eq!(bad.status, 401);
    assert!(bad.text().contains("not one of this service"));
    let good = newsflow_test_support::http::post(&url, &form, "key=k1&next=%2Fstances").await;
    assert_eq!(good.status, 303);
    assert_eq!(good.header("location"), Some("/stances"));
    let cookie = good.header("set-cookie").expect("a cookie").to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let pair = cookie.split(';').next().unwrap();
    let with_cookie = web.get_with("/", &[("cookie", pair)]).await;
    assert_eq!(with_cookie.status, 200);
    assert!(with_cookie.text().contains("Title of a3"));
    // An open redirect is not: only paths of this site.
    let away =
        newsflow_test_support::http::post(&url, &form, "key=k1&next=%2F%2Fevil.example").await;
    assert_eq!(away.header("location"), Some("/"));
}

/// The OpenAPI document parses as OpenAPI 3.1, every reference resolves, and every operation
/// it lists is served with one of its documented statuses; `utoipa_axum` registers the routes
/// from the same list, so no route is served undocumented.
#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_validates_and_matches_the_routes() {
    let web = corpus_web("openapi").await;
    let response = web.get("/openapi.json").await;
    assert_eq!(response.status, 200);
    let text = response.text();
    let spec = oas3::from_json(&text).expect("an OpenAPI 3.1 document");
    assert!(spec.openapi.starts_with("3.1"), "{}", spec.openapi);
    let document: Value = serde_json::from_str(&text).unwrap();

    // Every $ref points at a component that exists.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(!found.is_empty());
    for reference in found {
        let pointer = reference.strip_prefix('#').expect("a local reference");
        assert!(
            document.pointer(pointer).is_some(),
            "{reference} does not resolve"
        );
    }

    let mut operations = BTreeSet::new();
    let mut operation_ids = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert_eq!(method, "get", "{path}: only GET routes");
            let id = operation["operationId"].as_str().expect("an operationId");
            assert!(
                operation_ids.insert(id.to_owned()),
                "operationId {id} twice"
            );
            operations.insert(path.clone());
            let documented: BTreeSet<u16> = operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(|status| status.parse().unwrap())
                .collect();
            // Path parameters filled in, required ones given.
            let mut url = path.replace("{id}", "a1").replace("{key}", PUTIN_PATH);
            let required: Vec<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query" && p["required"] == true)
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            for (i, name) in required.iter().enumerate() {
                url.push(if i == 0 { '?' } else { '&' });
                url.push_str(&format!("{name}=putin"));
            }
            let status = if path.ends_with("/stream") {
                // Streams do not end: their headers are the answer.
                newsflow_test_support::http::open(&format!("{}{url}", web.url), &[])
                    .await
                    .status
            } else {
                web.get(&url).await.status
            };
            assert!(
                documented.contains(&status),
                "GET {url} answered {status}, documented {documented:?}"
            );
        }
    }
    assert_eq!(
        operations,
        [
            "/api/v1/articles",
            "/api/v1/articles/{id}",
            "/api/v1/entities",
            "/api/v1/entities/{key}",
            "/api/v1/entities/{key}/timeline",
            "/api/v1/export",
            "/api/v1/stances",
            "/api/v1/statements",
            "/api/v1/stories",
            "/api/v1/stories/{id}",
            "/api/v1/stream",
        ]
        .map(String::from)
        .into_iter()
        .collect()
    );
    // Limits are stated in the document.
    let limit = document["paths"]["/api/v1/articles"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(limit["schema"]["maximum"], 500);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_sends_each_processed_article() {
    let web = Web::start("stream", &[]).await;
    let mut stream = web.stream().await;
    let article = Doc::new("live1", "wire", Some(at(2025, 9, 4, 10)))
        .entity(
            "e1",
            newsflow_proto::v1::EntityType::Person,
            "Vladimir Putin",
            2,
        )
        .build();
    web.store_and_announce(&article).await;
    let (event, data) = stream.next_event().await;
    assert_eq!(event, "article");
    let live: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(live["id"], "live1");
    assert_eq!(live["title"], "Title of live1");
    assert_eq!(live["reason"], "live");
    assert_eq!(live["entity_count"], 1);
    assert_eq!(live["top_entities"][0]["key"], PUTIN);
    assert_eq!(live["time"], "2025-09-04T10:00:00Z");
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_stream_every_kind_of_row_and_the_command_writes_them() {
    let web = corpus_web("export").await;
    let csv = web.get("/api/v1/export?rows=stances&source=reuters").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .contains("newsflow-stances.csv")
    );
    let mut reader = csv::Reader::from_reader(csv.body.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        newsflow_store::StanceRecord::FIELDS
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // a3 (one stance), then a1 (three).
    assert_eq!(records.len(), 4);
    assert_eq!(&records[0][0], "a3");
    assert_eq!(&records[0][2], "Volodymyr Zelensky");
    assert_eq!(&records[0][6], "negative");
    // What decided it: a named holder's stance, read by the holder-stance model.
    assert_eq!(&records[0][9], "holder_model");

    let ndjson = web
        .get("/api/v1/export?rows=mentions&format=ndjson&entity=GPE%3Aukraine")
        .await;
    assert_eq!(ndjson.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<Value> = ndjson
        .text()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    // a1 (Ukraine once, Putin twice, Peskov once) and a4 (Ukraine three times).
    assert_eq!(lines.len(), 7);
    assert_eq!(lines[0]["article_id"], "a1");
    assert_eq!(lines[6]["entity_type"], "gpe");

    let statements = web
        .get("/api/v1/export?rows=statements&q=nothingmatches")
        .await;
    assert_eq!(statements.status, 200);
    assert_eq!(
        statements.text().trim_end(),
        newsflow_store::StatementRecord::FIELDS.join(",")
    );

    // The command writes what the API answers.
    let out = std::env::temp_dir().join(format!("newsflow-export-{}.csv", std::process::id()));
    run_ok(
        std::process::Command::new(binary("newsflow"))
            .args(["export", "--rows", "stances", "--source", "reuters", "-o"])
            .arg(&out)
            .args(["--web", &web.url]),
    );
    assert_eq!(std::fs::read(&out).unwrap(), csv.body);
    let refused = std::process::Command::new(binary("newsflow"))
        .args(["export", "--polarity", "angry", "--web", &web.url])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a polarity"));
    let _ = std::fs::remove_file(out);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_database_and_a_database_that_is_down_are_said_plainly() {
    let empty = Web::start("empty", &[]).await;
    let page = empty.json("/api/v1/articles").await;
    assert!(ids(&page).is_empty() && page["next_cursor"].is_null());
    let feed = empty.get("/").await;
    assert_eq!(feed.status, 200);
    assert!(feed.text().contains("No articles stored yet"));
    let stances = empty.get("/stances").await;
    assert!(stances.text().contains("No stances between named entities"));
    assert_eq!(empty.get("/entities/PERSON%3Anobody").await.status, 404);

    // Nothing listens on this port: the database is down.
    let down = format!("postgres://postgres@127.0.0.1:{}/newsflow", free_port());
    let database = TestDatabase::new("web_down").await;
    let store = Store::new(database.pool(1).await);
    let web = Web::start_on("down", &down, &[], store, database).await;
    let api = web.get("/api/v1/articles").await;
    assert_eq!(api.status, 503);
    assert_eq!(api.header("retry-after"), Some("5"));
    assert_eq!(api.json()["error"]["code"], "UNAVAILABLE");
    let page = web.get("/").await;
    assert_eq!(page.status, 503);
    assert!(page.text().contains("The database cannot be reached"));
    // The service itself stays up.
    assert_eq!(web.get("/healthz").await.status, 200);
}
