//! The views, each one or a few of the API's queries rendered as HTML.

use std::collections::{BTreeMap, HashMap};

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use chrono::{Duration, NaiveDate};
use newsflow_proto::v1::{GetStoryRequest, Story};
use serde::Deserialize;

use super::{
    failure,
    html::{self, article_href, entity_href, entity_link, escape, polarity_badge, query, time},
    marks::marked_body,
};
use crate::{
    AppState,
    api::{
        ApiError, articles,
        entities::{self, EntitySearch, Period},
        model::{ArticleBrief, ArticleDetail, Edge, EdgeList, GeoJson, StatementHit, Timeline},
        params::Params,
        stances::{self, EdgeQuery},
        statements::{self, StatementQuery},
        stories::{self as story_api, StoryQuery},
    },
};

/// Articles on one page of the feed.
const FEED_PAGE: &str = "30";
/// Rows in each table of the entity page.
const ENTITY_ROWS: &str = "50";
/// Holders and targets the stance matrix shows (the busiest); the table below has them all.
const MATRIX_SIDE: usize = 12;
/// A timeline spanning at most this many days is drawn day by day, empty days included.
const DENSE_DAYS: i64 = 400;

/// A view's query parameters, or the page saying which one is wrong.
type Query<T> = Result<Params<T>, ApiError>;

/// `/`: the newest articles, and new ones as they are stored.
pub async fn feed(State(state): State<AppState>, query: Query<articles::ArticleQuery>) -> Response {
    let mut query = match query {
        Ok(Params(query)) => query,
        Err(error) => return failure(error),
    };
    query.limit.get_or_insert_with(|| FEED_PAGE.to_owned());
    let page = match articles::page(&state, &query).await {
        Ok(page) => page,
        Err(error) => return failure(error),
    };
    let first_page = query.cursor.is_none();
    let filtered = query
        .filter()
        .map(|f| f != Default::default())
        .unwrap_or(false);
    let cards: String = page.articles.iter().map(card).collect();
    let empty = if page.articles.is_empty() && first_page && !filtered {
        r#"<section id="feed-empty" class="empty">
<h2>No articles stored yet</h2>
<p>Articles appear here as soon as the pipeline has analyzed and stored them. Submit some:
<code>newsflow submit examples/articles</code>, or with Docker
<code>docker compose -f deploy/docker-compose.yml --profile examples up examples</code>.</p>
</section>"#
    } else if page.articles.is_empty() {
        r#"<p id="feed-empty" class="empty">No article matches.</p>"#
    } else {
        ""
    };
    let stream = if first_page && !filtered {
        r#" data-stream="/api/v1/stream""#
    } else {
        ""
    };
    let status = if stream.is_empty() {
        String::new()
    } else {
        r#"<p id="live-status" class="live-status" role="status" aria-live="polite" data-state="connecting">Live updates: connecting…</p>"#.to_owned()
    };
    let older = page
        .next_cursor
        .map(|cursor| {
            format!(
                r#"<nav class="pager" aria-label="More articles"><a href="/{}">Older articles</a></nav>"#,
                escape(&query_of_feed(&query, &cursor))
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"<h1>Live feed</h1>
<p class="lead">The articles newsflow has analyzed, newest first: who is mentioned, who said what, who stands where.</p>
{status}
{empty}
<ol id="feed" class="feed" aria-label="Articles, newest first"{stream}>
{cards}</ol>
{older}"#
    );
    html::layout("Live feed", "/", &body).into_response()
}

/// The feed's query string for the page after `cursor`, keeping its filters.
fn query_of_feed(q: &articles::ArticleQuery, cursor: &str) -> String {
    query(&[
        ("from", q.from.as_deref()),
        ("to", q.to.as_deref()),
        ("source", q.source.as_deref()),
        ("entity", q.entity.as_deref()),
        ("type", q.entity_type.as_deref()),
        ("place", q.place.as_deref()),
        ("holder", q.holder.as_deref()),
        ("target", q.target.as_deref()),
        ("polarity", q.polarity.as_deref()),
        ("q", q.q.as_deref()),
        ("story", q.story.as_deref()),
        ("cursor", Some(cursor)),
    ])
}

/// `/stories`: articles grouped by event, latest first; each links to the feed of its articles.
pub async fn stories(State(state): State<AppState>, asked: Query<StoryQuery>) -> Response {
    let asked = match asked {
        Ok(Params(asked)) => asked,
        Err(error) => return failure(error),
    };
    let page = match story_api::page(&state, &asked).await {
        Ok(page) => page,
        Err(error) => return failure(error),
    };
    let rows: String = page
        .stories
        .iter()
        .map(|story| {
            let entities: Vec<String> = story
                .entities
                .iter()
                .map(|e| entity_link(&e.key, &e.name))
                .collect();
            let copies = match story.copy_count {
                0 => String::new(),
                1 => " + 1 copy".to_owned(),
                n => format!(" + {n} copies"),
            };
            format!(
                r#"<tr class="story" data-id="{id}"><td><a href="/?story={id}">{title}</a></td><td>{entities}</td><td>{articles}{copies}</td><td>{first}</td><td>{last}</td></tr>"#,
                id = story.id,
                title = escape(&shown_title(&story.title, "(no title)")),
                entities = entities.join(", "),
                articles = story.article_count,
                first = time(story.first_at.as_deref()),
                last = time(story.last_at.as_deref()),
            )
        })
        .collect();
    let older = page
        .next_cursor
        .map(|cursor| {
            format!(
                r#"<nav class="pager" aria-label="More stories"><a href="/stories{}">Older stories</a></nav>"#,
                escape(&query(&[
                    ("entity", asked.entity.as_deref()),
                    ("from", asked.from.as_deref()),
                    ("to", asked.to.as_deref()),
                    ("cursor", Some(&cursor)),
                ]))
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"<h1>Stories</h1>
<p class="lead">Articles about one event, grouped as they are stored: close in what their title and opening say, naming the same people or organisations, within three days. Near-copies (a wire story run by other outlets) join their original's story as copies.</p>
{table}
{older}"#,
        table = table(
            "Stories, latest first",
            &["Story", "Who", "Articles", "First", "Latest"],
            &rows,
            "No stories yet: articles are grouped as they are stored."
        ),
    );
    html::layout("Stories", "/stories", &body).into_response()
}

/// An article's title, or for one without, the start of its body.
fn shown_title(title: &str, body: &str) -> String {
    if title.trim().is_empty() {
        crate::api::model::excerpt(body.trim(), 80)
    } else {
        title.to_owned()
    }
}

/// One article in a list (the script builds the same for live ones).
fn card(article: &ArticleBrief) -> String {
    let title = shown_title(&article.title, &article.excerpt);
    let title = title.as_str();
    format!(
        r#"<li class="card" data-id="{id}">
<h2><a href="{href}">{title}</a></h2>
<p class="meta">{time} · {source} · {entities} entities · {statements} statements · {stances} stances</p>
<p class="excerpt">{excerpt}</p>
</li>
"#,
        id = escape(&article.id),
        href = escape(&article_href(&article.id)),
        title = escape(title),
        time = time(article.time.as_deref()),
        source = escape(&article.source),
        entities = article.entity_count,
        statements = article.statement_count,
        stances = article.stance_count,
        excerpt = escape(&article.excerpt),
    )
}

/// `/articles/{id}`: the text with its analysis marked, and the analysis in tables.
pub async fn article(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let article = match articles::article(&state, &id).await {
        Ok(article) => article,
        Err(error) => return failure(error),
    };
    let story = match article.story {
        Some(id) => match state.store.story(&GetStoryRequest { id }).await {
            Ok(story) => story,
            Err(error) => return failure(error.into()),
        },
        None => None,
    };
    render_article(&article, story.as_ref()).into_response()
}

/// The line naming the article's story, when the story holds other articles too.
fn story_line(story: Option<&Story>) -> String {
    let Some(story) = story else {
        return String::new();
    };
    let others = (story.article_count + story.copy_count).saturating_sub(1);
    if others == 0 {
        return String::new();
    }
    let copies = match story.copy_count {
        0 => String::new(),
        1 => " and 1 near-copy".to_owned(),
        n => format!(" and {n} near-copies"),
    };
    format!(
        r#"<p class="note story">Part of a story of {articles} article{s}{copies}: <a href="/?story={id}">{title}</a>.</p>"#,
        articles = story.article_count,
        s = if story.article_count == 1 { "" } else { "s" },
        id = story.id,
        title = escape(&story.title),
    )
}

fn render_article(article: &ArticleDetail, story: Option<&Story>) -> axum::response::Html<String> {
    let title = shown_title(&article.title, &article.body);
    let title = title.as_str();
    let original = if article.url.is_empty() {
        String::new()
    } else {
        format!(
            r#" · <a href="{}" rel="noopener noreferrer">original</a>"#,
            escape(&article.url)
        )
    };
    let name = |entity: Option<&crate::api::model::EntityRef>, fallback: &str| match entity {
        Some(e) => entity_link(&e.key, &e.name),
        None => escape(fallback),
    };
    let statements: String = article
        .statements
        .iter()
        .enumerate()
        .map(|(index, s)| {
            format!(
                r##"<tr id="statement-{id}"><td><a href="#quote-{id}">{number}</a></td><td>{speaker}</td><td>{cue}</td><td>{content}</td><td>{kind}</td></tr>"##,
                id = escape(&s.id),
                number = index + 1,
                speaker = name(s.speaker.as_ref(), &s.speaker_text),
                cue = escape(&s.cue),
                content = escape(&s.content),
                kind = escape(&s.kind.replace('_', " ")),
            )
        })
        .collect();
    let stances: String = article
        .stances
        .iter()
        .map(|s| {
            let target = match (&s.target.entity, &s.target.topic) {
                (Some(e), _) => entity_link(&e.key, &e.name),
                (None, Some(topic)) => format!("{} <small>(topic)</small>", escape(topic)),
                _ => String::new(),
            };
            format!(
                "<tr><td>{holder}</td><td>{badge}</td><td>{target}</td><td>{evidence}</td></tr>",
                holder = name(s.holder.as_ref(), "(the text)"),
                badge = polarity_badge(&s.polarity, Some(s.score)),
                evidence = escape(&s.evidence),
            )
        })
        .collect();
    let entities: String = article
        .entities
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>",
                entity_link(&e.key, &e.name),
                escape(&e.entity_type),
                e.mentions.len(),
                e.salience,
                place_cell(e.geo.as_ref()),
            )
        })
        .collect();
    let body = format!(
        r#"<article class="article" data-id="{id}">
<h1>{title}</h1>
<p class="meta">{time} · {source}{original} · {language} · stored {stored}{revision}</p>
{copy}
{story}
<section aria-labelledby="text-heading">
<h2 id="text-heading">Text</h2>
<p class="legend">Marked: <mark class="quote">what was said</mark> (numbered, see the table), <span class="speaker">who said it</span>, <span class="cue">the cue</span>, <a class="mention t-person" href="{self_href}">entities</a> (links to their pages), and the targets of stances: <span class="stance pos">for</span>, <span class="stance neg">against</span>. Hover or focus a mark for details.</p>
<div class="body">{marked}</div>
</section>
<section aria-labelledby="statements-heading">
<h2 id="statements-heading">Who said what ({statement_count})</h2>
{statements_table}
</section>
<section aria-labelledby="stances-heading">
<h2 id="stances-heading">Stances ({stance_count})</h2>
<p class="note">A named holder's stance is what that entity stands for or against; "the text" is how the article itself portrays the target.</p>
{stances_table}
</section>
<section aria-labelledby="entities-heading">
<h2 id="entities-heading">Entities ({entity_count})</h2>
{entities_table}
</section>
</article>"#,
        id = escape(&article.id),
        title = escape(title),
        time = time(article.time.as_deref()),
        source = escape(&article.source),
        language = escape(&article.language),
        stored = time(Some(&article.stored_at)),
        revision = if article.revision > 1 {
            format!(" (revision {})", article.revision)
        } else {
            String::new()
        },
        self_href = escape(&article_href(&article.id)),
        copy = match &article.duplicate_of {
            Some(original) => format!(
                r#"<p class="note copy">A near-copy of <a href="{}">an article stored earlier</a>: timelines and stance counts leave it out.</p>"#,
                escape(&article_href(original))
            ),
            None => String::new(),
        },
        story = story_line(story),
        marked = marked_body(article),
        statement_count = article.statements.len(),
        stance_count = article.stances.len(),
        entity_count = article.entities.len(),
        statements_table = table(
            "Statements in this article",
            &["#", "Speaker", "Cue", "What was said", "Kind"],
            &statements,
            "No statements found in this article."
        ),
        stances_table = table(
            "Stances in this article",
            &["Holder", "Stance", "Target", "Evidence"],
            &stances,
            "No stances found in this article."
        ),
        entities_table = table(
            "Entities in this article",
            &["Entity", "Type", "Mentions", "Salience", "Place"],
            &entities,
            "No entities found in this article."
        ),
    );
    html::layout(title, "", &body)
}

/// Where a place entity is: its GeoNames name, country and coordinates, linked to the other
/// articles that name the same place; "not found" when unresolved, empty for other entities.
fn place_cell(geo: Option<&GeoJson>) -> String {
    let Some(geo) = geo else {
        return String::new();
    };
    match (geo.geonames_id, geo.latitude, geo.longitude) {
        (Some(id), Some(lat), Some(lon)) => format!(
            r#"<a href="/?place={id}" title="articles naming this place">{name}</a>{country} <span class="coords">{lat:.2}, {lon:.2}</span>"#,
            name = escape(geo.name.as_deref().unwrap_or("")),
            country = match geo.country_code.as_deref() {
                Some(cc) if !cc.is_empty() => format!(" ({})", escape(cc)),
                _ => String::new(),
            },
        ),
        _ => r#"<span class="empty">not found</span>"#.to_owned(),
    }
}

/// A table with a caption, column headers and `rows` (`<tr>`s), or `empty` when none.
fn table(caption: &str, columns: &[&str], rows: &str, empty: &str) -> String {
    if rows.is_empty() {
        return format!(r#"<p class="empty">{}</p>"#, escape(empty));
    }
    let head: String = columns
        .iter()
        .map(|c| format!(r#"<th scope="col">{}</th>"#, escape(c)))
        .collect();
    format!(
        r#"<div class="table-wrap"><table><caption class="visually-hidden">{}</caption><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"#,
        escape(caption)
    )
}

/// `/entities/{key}`: the timeline chart, who said what about it, what it said, who stands
/// where toward it, its articles.
pub async fn entity(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let facts = match entities::entity(&state, &key).await {
        Ok(facts) => facts,
        Err(error) => return failure(error),
    };
    let rows = || Some(ENTITY_ROWS.to_owned());
    let period = Period::default();
    let about = StatementQuery {
        about: Some(key.clone()),
        limit: rows(),
        ..StatementQuery::default()
    };
    let by = StatementQuery {
        speaker: Some(key.clone()),
        limit: rows(),
        ..StatementQuery::default()
    };
    let edges = EdgeQuery {
        entity: Some(key.clone()),
        limit: rows(),
        ..EdgeQuery::default()
    };
    let recent = articles::ArticleQuery {
        entity: Some(key.clone()),
        limit: Some("20".into()),
        ..articles::ArticleQuery::default()
    };
    let timeline = entities::days(&state, &key, &period);
    let about = statements::page(&state, &about);
    let by = statements::page(&state, &by);
    let edges = stances::graph(&state, &edges);
    let recent = articles::page(&state, &recent);
    let (timeline, about, by, edges, recent) =
        match tokio::try_join!(timeline, about, by, edges, recent) {
            Ok(all) => all,
            Err(error) => return failure(error),
        };
    let name = escape(&facts.name);
    let about_rows: String = about
        .statements
        .iter()
        .map(|s| statement_row(s, true))
        .collect();
    let by_rows: String = by
        .statements
        .iter()
        .map(|s| statement_row(s, false))
        .collect();
    let cards: String = recent.articles.iter().map(card).collect();
    let body = format!(
        r#"<h1>{name}</h1>
<p class="meta">{ty} · in {articles} articles · {mentions} mentions · speaker of {statements} statements · from {first} to {last} · key <code>{key}</code></p>
<p class="meta" id="aliases">Also called: {aliases}</p>{ambiguity}
<section aria-labelledby="timeline-heading">
<h2 id="timeline-heading">Over time</h2>
{chart}
</section>
<section aria-labelledby="about-heading">
<h2 id="about-heading">Who said what about {name}</h2>
<p class="note">Statements whose words mention {name} or take a stance toward {name}, newest first.</p>
{about_table}
</section>
<section aria-labelledby="by-heading">
<h2 id="by-heading">What {name} said</h2>
{by_table}
</section>
<section aria-labelledby="edges-heading">
<h2 id="edges-heading">Who stands where</h2>
<p class="note">Stances {name} holds and stances held toward {name}, in all stored articles. <a href="/stances{stance_query}">In the stance view</a>.</p>
{edges_table}
</section>
<section aria-labelledby="articles-heading">
<h2 id="articles-heading">Latest articles mentioning {name}</h2>
<ol class="feed">{cards}</ol>
<p><a href="/{more}">All articles mentioning {name}</a></p>
</section>"#,
        ty = escape(&facts.entity_type),
        articles = facts.articles,
        mentions = facts.mentions,
        statements = facts.statements,
        first = time(Some(&facts.first)),
        last = time(Some(&facts.last)),
        key = escape(&facts.key),
        aliases = escape(&facts.aliases.join(", ")),
        ambiguity = facts
            .ambiguity
            .as_ref()
            .map_or(String::new(), |why| format!(
                "\n<p class=\"note\">Kept apart from identities it might be: {}</p>",
                escape(why)
            )),
        chart = timeline_chart(&timeline),
        about_table = table(
            "Statements about this entity",
            &[
                "Date",
                "Speaker",
                "Cue",
                "What was said",
                "Stance toward it",
                "Article"
            ],
            &about_rows,
            "No statement about this entity yet."
        ),
        by_table = table(
            "Statements by this entity",
            &["Date", "Speaker", "Cue", "What was said", "Article"],
            &by_rows,
            "This entity is not the speaker of any stored statement."
        ),
        edges_table = edge_table(&edges),
        stance_query = escape(&query(&[("entity", Some(&facts.key))])),
        more = escape(&query(&[("entity", Some(&facts.key))])),
    );
    html::page(&facts.name, "", &body, &["/static/chart.umd.min.js"]).into_response()
}

fn statement_row(s: &StatementHit, with_stance: bool) -> String {
    let speaker = match &s.speaker {
        Some(speaker) => entity_link(&speaker.key, &speaker.name),
        None => escape(&s.speaker_text),
    };
    let stance = if with_stance {
        let badge = s
            .stance
            .as_ref()
            .map(|t| polarity_badge(&t.polarity, Some(t.score)))
            .unwrap_or_else(|| "<span class=\"muted\">none</span>".into());
        format!("<td>{badge}</td>")
    } else {
        String::new()
    };
    format!(
        r#"<tr class="statement"><td>{date}</td><td>{speaker}</td><td>{cue}</td><td>{content}</td>{stance}<td><a href="{href}">{title}</a></td></tr>"#,
        date = time(Some(&s.article.time)),
        cue = escape(&s.cue),
        content = escape(&s.content),
        href = escape(&format!(
            "{}#statement-{}",
            article_href(&s.article.id),
            s.statement_id
        )),
        title = escape(&if s.article.title.is_empty() {
            format!("article {}", s.article.id.get(..8).unwrap_or(&s.article.id))
        } else {
            s.article.title.clone()
        }),
    )
}

fn edge_row(e: &Edge) -> String {
    let target = if e.target.kind == "entity" {
        entity_link(&e.target.key, &e.target.name)
    } else {
        format!("{} <small>(topic)</small>", escape(&e.target.name))
    };
    format!(
        "<tr><td>{holder}</td><td>{target}</td><td>{pos}</td><td>{neu}</td><td>{neg}</td><td>{mean:+.2}</td><td>{articles}</td></tr>",
        holder = entity_link(&e.holder.key, &e.holder.name),
        pos = e.positive,
        neu = e.neutral,
        neg = e.negative,
        mean = e.mean_score,
        articles = e.articles,
    )
}

fn edge_table(edges: &EdgeList) -> String {
    let rows: String = edges.edges.iter().map(edge_row).collect();
    let cut = if edges.truncated {
        format!(
            r#"<p class="note">The {} edges with the most stances; narrow the period to see others.</p>"#,
            edges.limit
        )
    } else {
        String::new()
    };
    table(
        "Stance edges: holder, target, stances by class",
        &[
            "Holder",
            "Target",
            "For",
            "Neutral",
            "Against",
            "Mean score",
            "Articles",
        ],
        &rows,
        "No stances between named entities here.",
    ) + &cut
}

/// The chart of a timeline (drawn by the script from the JSON beside it) and its numbers as
/// a table, for readers without the chart.
fn timeline_chart(timeline: &Timeline) -> String {
    #[derive(serde::Serialize, Default)]
    struct Series {
        labels: Vec<String>,
        mentions: Vec<u32>,
        positive: Vec<u32>,
        neutral: Vec<u32>,
        negative: Vec<u32>,
    }
    let by_day: BTreeMap<&str, _> = timeline.days.iter().map(|d| (d.date.as_str(), d)).collect();
    let dates = dense_dates(
        &timeline
            .days
            .iter()
            .map(|d| d.date.clone())
            .collect::<Vec<_>>(),
    );
    let mut series = Series::default();
    for date in dates {
        let day = by_day.get(date.as_str());
        series.mentions.push(day.map_or(0, |d| d.mentions));
        series.positive.push(day.map_or(0, |d| d.positive));
        series.neutral.push(day.map_or(0, |d| d.neutral));
        series.negative.push(day.map_or(0, |d| d.negative));
        series.labels.push(date);
    }
    // `</` cannot end the script element early once escaped.
    let json = serde_json::to_string(&series)
        .unwrap_or_else(|_| "{}".into())
        .replace("</", "<\\/");
    let rows: String = timeline
        .days
        .iter()
        .map(|d| {
            let speakers: Vec<String> = d
                .speakers
                .iter()
                .take(3)
                .map(|s| format!("{} ({})", entity_link(&s.key, &s.name), s.stances))
                .collect();
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&d.date),
                d.articles,
                d.mentions,
                d.positive,
                d.neutral,
                d.negative,
                speakers.join(", ")
            )
        })
        .collect();
    let name = escape(&timeline.name);
    format!(
        r#"<figure class="chart">
<div class="chart-box"><canvas id="timeline-chart" role="img" aria-label="Mentions of {name} per day as bars, and stances toward {name} per day (for, neutral, against) as lines. The same numbers are in the table below.">Mentions and stances per day; the numbers are in the table below.</canvas></div>
<figcaption>Mentions of {name} per day (bars) and stances toward {name} per day: for, neutral, against (lines). Days in UTC.</figcaption>
</figure>
<script type="application/json" id="timeline-data">{json}</script>
<details class="numbers"><summary>The numbers, day by day</summary>
{table}
</details>"#,
        table = table(
            "Mentions and stances per day",
            &[
                "Day",
                "Articles",
                "Mentions",
                "For",
                "Neutral",
                "Against",
                "Who took stances"
            ],
            &rows,
            "No mentions in this period."
        ),
    )
}

/// Every day from the first to the last of `dates` (YYYY-MM-DD, sorted), when that is at most
/// [`DENSE_DAYS`]; else `dates` as they are.
fn dense_dates(dates: &[String]) -> Vec<String> {
    let parse = |d: &String| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
    let (Some(first), Some(last)) = (dates.first().and_then(parse), dates.last().and_then(parse))
    else {
        return dates.to_vec();
    };
    let span = (last - first).num_days();
    if !(0..=DENSE_DAYS).contains(&span) {
        return dates.to_vec();
    }
    (0..=span)
        .map(|i| (first + Duration::days(i)).format("%Y-%m-%d").to_string())
        .collect()
}

/// `/stances`: who stands for or against whom in a period, as a matrix and a table.
pub async fn stances(State(state): State<AppState>, query: Query<EdgeQuery>) -> Response {
    let mut query = match query {
        Ok(Params(query)) => query,
        Err(error) => return failure(error),
    };
    query.limit.get_or_insert_with(|| "500".to_owned());
    let edges = match stances::graph(&state, &query).await {
        Ok(edges) => edges,
        Err(error) => return failure(error),
    };
    let field = |id: &str, label: &str, kind: &str, value: Option<&str>, hint: &str| {
        format!(
            r#"<div class="field"><label for="{id}">{label}</label><input id="{id}" name="{id}" type="{kind}" value="{value}" aria-describedby="{id}-hint"><small id="{id}-hint">{hint}</small></div>"#,
            value = escape(value.unwrap_or("")),
        )
    };
    let day = |value: Option<&str>| value.map(|v| v.get(..10).unwrap_or(v).to_owned());
    let polarity = query.polarity.as_deref().unwrap_or("");
    let option = |value: &str, label: &str| {
        let selected = if polarity == value { " selected" } else { "" };
        format!(r#"<option value="{value}"{selected}>{label}</option>"#)
    };
    let form = format!(
        r#"<form class="filters" method="get" action="/stances">
{from}{to}{entity}
<div class="field"><label for="polarity">Polarity</label><select id="polarity" name="polarity">{any}{pos}{neg}{neu}</select></div>
<button type="submit">Show</button>
</form>"#,
        from = field(
            "from",
            "From",
            "date",
            day(query.from.as_deref()).as_deref(),
            "first day, inclusive"
        ),
        to = field(
            "to",
            "To",
            "date",
            day(query.to.as_deref()).as_deref(),
            "day after the last"
        ),
        entity = field(
            "entity",
            "Entity key",
            "text",
            query.entity.as_deref(),
            "e.g. PERSON:vladimir putin"
        ),
        any = option("", "any"),
        pos = option("positive", "for"),
        neg = option("negative", "against"),
        neu = option("neutral", "neutral"),
    );
    let body = format!(
        r#"<h1>Who stands where</h1>
<p class="lead">Stances that named entities hold toward other entities and topics, counted over the period: rows hold, columns receive.</p>
{form}
<section aria-labelledby="matrix-heading">
<h2 id="matrix-heading">Matrix</h2>
{matrix}
</section>
<section aria-labelledby="all-heading">
<h2 id="all-heading">All edges</h2>
{table}
</section>"#,
        matrix = matrix(&edges),
        table = edge_table(&edges),
    );
    html::layout("Stances", "/stances", &body).into_response()
}

/// The busiest holders (rows) by the busiest targets (columns); each cell the stances for and
/// against, coloured by the mean score, with the words for screen readers.
fn matrix(edges: &EdgeList) -> String {
    if edges.edges.is_empty() {
        return r#"<p class="empty" id="matrix-empty">No stances between named entities in this period. Widen the period, or wait for articles with statements to be stored.</p>"#.to_owned();
    }
    let busiest = |key: fn(&Edge) -> (String, String)| {
        let mut totals: HashMap<(String, String), u32> = HashMap::new();
        for edge in &edges.edges {
            *totals.entry(key(edge)).or_default() += edge.total;
        }
        let mut sorted: Vec<((String, String), u32)> = totals.into_iter().collect();
        sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        sorted.truncate(MATRIX_SIDE);
        sorted.into_iter().map(|(k, _)| k).collect::<Vec<_>>()
    };
    let holders = busiest(|e| (e.holder.key.clone(), e.holder.name.clone()));
    let targets = busiest(|e| {
        (
            format!("{}:{}", e.target.kind, e.target.key),
            e.target.name.clone(),
        )
    });
    let cells: HashMap<(String, String), &Edge> = edges
        .edges
        .iter()
        .map(|e| {
            (
                (
                    e.holder.key.clone(),
                    format!("{}:{}", e.target.kind, e.target.key),
                ),
                e,
            )
        })
        .collect();
    let head: String = targets
        .iter()
        .map(|(id, name)| {
            let label = match id.strip_prefix("entity:") {
                Some(key) => entity_link(key, name),
                None => format!("{} <small>(topic)</small>", escape(name)),
            };
            format!(r#"<th scope="col">{label}</th>"#)
        })
        .collect();
    let rows: String = holders
        .iter()
        .map(|(holder, holder_name)| {
            let cells: String = targets
                .iter()
                .map(|(target, target_name)| match cells.get(&(holder.clone(), target.clone())) {
                    Some(e) => {
                        let class = match e.mean_score {
                            s if s <= -0.5 => "s-neg2",
                            s if s <= -0.15 => "s-neg1",
                            s if s < 0.15 => "s-neu",
                            s if s < 0.5 => "s-pos1",
                            _ => "s-pos2",
                        };
                        format!(
                            r#"<td class="cell {class}"><span aria-hidden="true">▲{pos} ▼{neg} ○{neu}</span><span class="visually-hidden">{holder_name} toward {target_name}: {pos} for, {neg} against, {neu} neutral, mean {mean:+.2}</span></td>"#,
                            holder_name = escape(holder_name),
                            target_name = escape(target_name),
                            pos = e.positive,
                            neg = e.negative,
                            neu = e.neutral,
                            mean = e.mean_score,
                        )
                    }
                    None => r#"<td class="cell none"><span class="visually-hidden">none</span></td>"#.to_owned(),
                })
                .collect();
            format!(
                r#"<tr><th scope="row">{}</th>{cells}</tr>"#,
                entity_link(holder, holder_name)
            )
        })
        .collect();
    format!(
        r#"<div class="table-wrap"><table class="matrix" id="stance-matrix">
<caption>Rows hold stances toward columns. Each cell: ▲ stances for, ▼ against, ○ neutral; the colour is the mean score, from red (against) through grey to green (for).</caption>
<thead><tr><th scope="col">Holder \ target</th>{head}</tr></thead>
<tbody>{rows}</tbody></table></div>"#
    )
}

/// The search page's parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words: entity names and full text.
    pub q: Option<String>,
}

/// `/search`: entities by name (fuzzy) and articles by full text.
pub async fn search(State(state): State<AppState>, asked: Query<SearchQuery>) -> Response {
    let q = match asked {
        Ok(Params(asked)) => asked.q.unwrap_or_default().trim().to_owned(),
        Err(error) => return failure(error),
    };
    let form = format!(
        r#"<form class="filters" role="search" method="get" action="/search">
<div class="field"><label for="q">Name or words</label><input id="q" name="q" type="search" value="{}" required></div>
<button type="submit">Search</button>
</form>"#,
        escape(&q)
    );
    if q.is_empty() {
        let body = format!(
            r#"<h1>Search</h1>
<p class="lead">Find an entity by its name (or part of it; close misspellings too), or articles by the words in them (<code>"a phrase"</code>, <code>-without</code>, <code>or</code>).</p>
{form}"#
        );
        return html::layout("Search", "/search", &body).into_response();
    }
    let by_name = EntitySearch {
        q: Some(q.clone()),
        fuzzy: Some("true".into()),
        ..EntitySearch::default()
    };
    let by_words = articles::ArticleQuery {
        q: Some(q.clone()),
        limit: Some("20".into()),
        ..articles::ArticleQuery::default()
    };
    let found_entities = entities::find(&state, &by_name);
    let found_articles = articles::page(&state, &by_words);
    let (found_entities, found_articles) = match tokio::try_join!(found_entities, found_articles) {
        Ok(found) => found,
        Err(error) => return failure(error),
    };
    let entity_items: String = found_entities
        .entities
        .iter()
        .map(|e| {
            format!(
                r#"<li><a href="{href}">{name}</a> <small>{ty} · {n} articles</small></li>"#,
                href = escape(&entity_href(&e.key)),
                name = escape(&e.name),
                ty = escape(&e.entity_type),
                n = e.article_count,
            )
        })
        .collect();
    let entity_list = if entity_items.is_empty() {
        r#"<p class="empty">No entity by that name.</p>"#.to_owned()
    } else {
        format!(r#"<ul class="entities">{entity_items}</ul>"#)
    };
    let cards: String = found_articles.articles.iter().map(card).collect();
    let article_list = if cards.is_empty() {
        r#"<p class="empty">No article with those words.</p>"#.to_owned()
    } else {
        let more = found_articles
            .next_cursor
            .map(|_| {
                format!(
                    r#"<p><a href="/{}">More articles with these words</a></p>"#,
                    escape(&query(&[("q", Some(&q))]))
                )
            })
            .unwrap_or_default();
        format!(r#"<ol class="feed">{cards}</ol>{more}"#)
    };
    let body = format!(
        r#"<h1>Search: {shown}</h1>
{form}
<section aria-labelledby="entities-heading"><h2 id="entities-heading">Entities</h2>{entity_list}</section>
<section aria-labelledby="articles-heading"><h2 id="articles-heading">Articles</h2>{article_list}</section>"#,
        shown = escape(&q),
    );
    html::layout("Search", "/search", &body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timelines_are_drawn_day_by_day() {
        let dates = ["2025-09-03", "2025-09-06"].map(String::from);
        assert_eq!(
            dense_dates(&dates),
            ["2025-09-03", "2025-09-04", "2025-09-05", "2025-09-06"]
        );
        let far = ["2020-01-01", "2025-01-01"].map(String::from);
        assert_eq!(dense_dates(&far), far);
    }
}
