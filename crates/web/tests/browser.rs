//! The page in a real browser: headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`), against the real `newsflow-web` with the example articles
//! analyzed by the committed models and stored. The feed lists them, a new article appears in
//! the open feed when `article.processed` is published, the article view highlights Putin's
//! warning with its speaker, Putin's page draws its chart and lists his statements, the stance
//! view shows its matrix, the stories page counts a wire copy in its original's story and links
//! to the story's articles. Every wait is on a condition in the page; screenshots land in
//! `target/screenshots/`.

mod support;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element, key::Key};
use hyper_util::client::legacy::connect::HttpConnector;
use newsflow_analysis::{Analysis, ModelArgs, ModelPaths, NerMode};
use newsflow_article::{Policy, json::parse, validate};
use newsflow_proto::v1::{Analysis as AnalysisMessage, AnalyzedArticle};
use newsflow_test_support::{free_port, http, unique_name, workspace::root};
use support::Web;

const WAIT: Duration = Duration::from_secs(30);
const PUTIN: &str = "PERSON%3Avladimir%20putin";

/// The example articles (`examples/articles` and the shared one) as ingest would accept them,
/// analyzed by the committed models as the pipeline would.
fn analyzed_examples() -> Vec<AnalyzedArticle> {
    let models = ModelArgs::with_paths(NerMode::Accurate, ModelPaths::under(&root()));
    assert!(
        models.base_model.join("model.safetensors").exists(),
        "the base encoder is missing: run scripts/fetch-base-model.sh"
    );
    let topics = ["Western troops", "ceasefire", "security guarantees"].map(String::from);
    let budget = newsflow_analysis::Budget::default();
    let analysis = Analysis::load(&models, &topics, budget).expect("the models load");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples/articles"))
        .expect("examples/articles")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    files.sort();
    files.push(root().join("../shared/examples/western-troops-ukraine.txt"));
    files
        .iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let json = if path.extension().is_some_and(|e| e == "json") {
                serde_json::from_str(&text).expect("an example in JSON")
            } else {
                serde_json::json!({
                    "external_id": path.file_stem().unwrap().to_string_lossy(),
                    "source": "newsflow-examples",
                    "body": text,
                })
            };
            let mut article =
                validate(parse(json).expect("parses"), &Policy::default()).expect("valid");
            article
                .ingested_at
                .get_or_insert_with(|| newsflow_store::time::to_proto(chrono::Utc::now()));
            let mut document = AnalyzedArticle {
                article: Some(article),
                analysis: Some(AnalysisMessage::default()),
                stages: Vec::new(),
            };
            analysis.apply(&mut document).expect("analyzed");
            document
        })
        .collect()
}

/// chromedriver on a free port, and a headless Chromium session through it.
struct Browser {
    client: Client,
    driver: Child,
    profile: PathBuf,
}

impl Browser {
    async fn start() -> Self {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver does not start ({e}): install Debian's chromium and \
                     chromium-driver (`apt-get install chromium chromium-driver`)"
                )
            });
        let driver_url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        while !http::answers(&format!("{driver_url}/status")).await {
            assert!(Instant::now() < deadline, "chromedriver did not answer");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(unique_name("newsflow-chromium", '-'));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,1400",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver_url)
            .await
            .expect("a Chromium session");
        Self {
            client,
            driver,
            profile,
        }
    }

    async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    async fn all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("a query")
    }

    /// Waits until at least `count` elements match `css`.
    async fn at_least(&self, css: &str, count: usize) -> Vec<Element> {
        let deadline = Instant::now() + WAIT;
        loop {
            let found = self.all(css).await;
            if found.len() >= count {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} {css} appeared",
                found.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let folder = root().join("target/screenshots");
        std::fs::create_dir_all(&folder).expect("the screenshot folder");
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(folder.join(format!("{name}.png")), png).expect("the screenshot saved");
    }

    async fn stop(self) {
        let Self {
            client,
            mut driver,
            profile,
        } = self;
        let _ = client.close().await;
        let _ = driver.kill();
        let _ = driver.wait();
        let _ = std::fs::remove_dir_all(Path::new(&profile));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_shows_the_examples_live_marked_charted_and_as_a_matrix() {
    let examples = tokio::task::spawn_blocking(analyzed_examples)
        .await
        .expect("the analysis runs");
    let web = Web::start("browser", &[]).await;
    web.save(&examples).await;
    let browser = Browser::start().await;
    let client = &browser.client;

    // The feed lists every example, and shows a new one as soon as it is stored.
    client.goto(&web.url).await.expect("the feed opens");
    let cards = browser.at_least("#feed li.card", examples.len()).await;
    assert_eq!(cards.len(), examples.len());
    let feed_text = browser.find("#feed").await.text().await.unwrap();
    assert!(
        feed_text.contains("Carmaker pauses battery plant"),
        "{feed_text}"
    );
    browser
        .find(r#"#live-status[data-state="connected"]"#)
        .await;
    browser.screenshot("feed").await;
    let mut fresh = newsflow_test_support::fixtures::Doc::new(
        "live-in-browser",
        "wire",
        Some(newsflow_test_support::fixtures::at(2026, 11, 30, 9)),
    );
    fresh.article_mut().title = "Breaking: a new article while the page is open".into();
    web.store_and_announce(&fresh.build()).await;
    let first = browser
        .find("#feed li.card:first-child[data-id=\"live-in-browser\"]")
        .await;
    assert!(
        first
            .text()
            .await
            .unwrap()
            .contains("Breaking: a new article")
    );
    browser.screenshot("feed-live").await;

    // The article view highlights Putin's warning, with Putin as its speaker.
    let shared = examples
        .iter()
        .map(|d| d.article.as_ref().unwrap())
        .find(|a| {
            a.body
                .starts_with("Russian President Vladimir Putin has warned")
        })
        .expect("the shared example");
    client
        .goto(&format!("{}/articles/{}", web.url, shared.id))
        .await
        .unwrap();
    let quotes = browser
        .at_least(r#"mark.quote[data-speaker="Vladimir Putin"]"#, 1)
        .await;
    let mut warning = None;
    for quote in quotes {
        let text = quote.text().await.unwrap();
        if text
            .contains("Western troops deployed to Ukraine would be considered legitimate targets")
        {
            warning = Some(quote);
            break;
        }
    }
    let warning = warning.expect("Putin's warning is marked as his statement");
    let statement = warning.attr("data-statement").await.unwrap().unwrap();
    let speaker = browser
        .find(&format!(r#".speaker[data-statement="{statement}"]"#))
        .await;
    assert!(speaker.text().await.unwrap().contains("Putin"));
    let row = browser.find(&format!("#statement-{statement}")).await;
    let row = row.text().await.unwrap();
    assert!(
        row.contains("Vladimir Putin") && row.contains("warned"),
        "{row}"
    );
    browser.screenshot("article").await;

    // The places carry their GeoNames place: Paris, France, links to the articles naming it.
    let paris = browser.find(r#"a[href="/?place=2988507"]"#).await;
    assert_eq!(paris.text().await.unwrap(), "Paris");
    client
        .execute(
            "document.getElementById('entities-heading').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    browser.screenshot("article-places").await;

    // Keyboard: the first Tab reaches the skip link.
    browser
        .find("body")
        .await
        .send_keys(&char::from(Key::Tab).to_string())
        .await
        .unwrap();
    let focused = client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("class").await.unwrap().as_deref(),
        Some("skip")
    );

    // Putin's page draws the timeline chart and lists what he said.
    client
        .goto(&format!("{}/entities/{PUTIN}", web.url))
        .await
        .unwrap();
    browser
        .find(r#"canvas#timeline-chart[data-rendered="true"]"#)
        .await;
    let said = browser
        .at_least(r#"section[aria-labelledby="by-heading"] tr.statement"#, 1)
        .await;
    assert!(said[0].text().await.unwrap().contains("Vladimir Putin"));
    browser.screenshot("entity").await;

    // The stance view shows who stands where as a matrix.
    client.goto(&format!("{}/stances", web.url)).await.unwrap();
    let matrix = browser.find("#stance-matrix").await;
    assert!(matrix.text().await.unwrap().contains("Vladimir Putin"));
    browser.screenshot("stances").await;

    // The stories page: the shared example run again by another outlet is one story of one
    // article and one copy, labelled with its people; its link lists both articles.
    let mut copy = examples
        .iter()
        .find(|d| d.article.as_ref().unwrap().id == shared.id)
        .unwrap()
        .clone();
    let article = copy.article.as_mut().unwrap();
    article.id = "copy-of-the-shared-example".into();
    article.source = "another outlet".into();
    web.save(&[copy]).await;
    client.goto(&format!("{}/stories", web.url)).await.unwrap();
    let rows = browser.at_least("tr.story", 2).await;
    assert!(
        rows.len() <= examples.len(),
        "at most one story per example"
    );
    let mut wire = None;
    for row in rows {
        if row.text().await.unwrap().contains("+ 1 copy") {
            wire = Some(row);
        }
    }
    let wire = wire.expect("the shared example's story counts its copy");
    let text = wire.text().await.unwrap();
    assert!(text.contains("Putin"), "{text}");
    browser.screenshot("stories").await;
    wire.find(Locator::Css("a[href^=\"/?story=\"]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let members = browser.at_least("#feed li.card", 2).await;
    let mut ids = Vec::new();
    for card in &members {
        ids.push(card.attr("data-id").await.unwrap().unwrap_or_default());
    }
    for id in [shared.id.as_str(), "copy-of-the-shared-example"] {
        assert!(ids.iter().any(|i| i == id), "{id} in the story: {ids:?}");
    }
    browser.screenshot("story-articles").await;

    // The article page names its story.
    client
        .goto(&format!("{}/articles/{}", web.url, shared.id))
        .await
        .unwrap();
    let line = browser.find(r#"p.story a[href^="/?story="]"#).await;
    let said = browser.find("p.story").await.text().await.unwrap();
    assert!(said.contains("and 1 near-copy"), "{said}");
    assert!(!line.text().await.unwrap().is_empty());

    browser.stop().await;
}
