#!/usr/bin/env bash
# The README's deployment, run for real: from a clean state, build and start the compose stack,
# push articles through it and check that each is processed and stored exactly once, also with
# workers scaled out and with the broker restarted mid-batch; then take it all down.
#
#   deploy/smoke.sh            (from anywhere; needs docker and docker-compose v1 or compose v2)
#
# A shell script, not Rust: it drives docker and compose as a user would, from the outside;
# python3 only reads JSON answers, headless Chromium (when installed) looks at the page.
#
# Steps: down -v; the README's first command, detached (`--profile examples up -d --build`);
# wait until every service is healthy and the `examples` one-shot has submitted the example
# articles; check they are stored; follow article.processed (`newsflow tail` inside the
# compose network) and submit the seed article (../shared/examples/western-troops-ukraine.txt
# when present, else examples/articles/troops-warning.txt) over HTTP; read it back from storage
# (`newsflow get`); scale extractor and stance to 2 and submit 20 more; submit 20 more and
# restart the rabbitmq container after the first 10; check after each batch that every article
# is stored once; down -v. Prints the times to the first stored and the first processed
# article and the image size, and exits non-zero at the first failure. Between the seed
# article and the scaling it checks the analyst's page (the README's URL) in headless
# Chromium when one is installed: the feed lists the examples, Putin's page draws its chart
# and lists statements, the stance view has its matrix; screenshots go to
# target/screenshots/compose-*.png. Then it follows a feed served from this host (`newsflow
# feeds add` in the feeds container) and checks its article is stored once with its main text.
#
# Too slow for CI on two cores (a cold image build compiles the workspace in release mode), so
# .ci/run does not run it; deploy/README.md records its last run. Machines that cannot pull
# images run deploy/local-images.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

# BuildKit for the Dockerfile's cache mounts, also under compose v1.
export DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
dc() { "${compose[@]}" -f deploy/docker-compose.yml "$@"; }
# Host ports of its own, so that a broker, database or newsflow already running on this host
# (the development set-up) does not block the stack's; override any of them as in compose.
export NEWSFLOW_HTTP_PORT=${NEWSFLOW_HTTP_PORT:-18080} NEWSFLOW_GRPC_PORT=${NEWSFLOW_GRPC_PORT:-15051} \
  NEWSFLOW_AMQP_PORT=${NEWSFLOW_AMQP_PORT:-15673} NEWSFLOW_RABBITMQ_UI_PORT=${NEWSFLOW_RABBITMQ_UI_PORT:-15674} \
  NEWSFLOW_WEB_PORT=${NEWSFLOW_WEB_PORT:-18090} NEWSFLOW_FEEDS_GRPC_PORT=${NEWSFLOW_FEEDS_GRPC_PORT:-15055} \
  NEWSFLOW_FEEDS_HTTP_PORT=${NEWSFLOW_FEEDS_HTTP_PORT:-18085}
# The feed this run follows is served from this host, on a private address.
export NEWSFLOW_FEEDS_ALLOW_PRIVATE_ADDRESSES=true
http=http://127.0.0.1:$NEWSFLOW_HTTP_PORT
timeout=${NEWSFLOW_SMOKE_TIMEOUT:-600}
work=$(mktemp -d)
started=$(date +%s)

say() { printf '\n== [%4ss] %s\n' "$(($(date +%s) - started))" "$*"; }
fail() { printf '\nSMOKE FAILED: %s\n' "$*" >&2; dc ps >&2 || true; dc logs --tail 40 >&2 || true; exit 1; }
cleanup() {
  local rc=$?
  [ -n "${tail_pid:-}" ] && kill "$tail_pid" 2>/dev/null || true
  [ -n "${site_pid:-}" ] && kill "$site_pid" 2>/dev/null || true
  if [ -z "${NEWSFLOW_SMOKE_KEEP:-}" ]; then dc --profile examples down -v --remove-orphans >/dev/null 2>&1 || true; fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
sql() { dc exec -T postgres psql -U newsflow -d newsflow -tAq -v ON_ERROR_STOP=1 -c "$1"; }

# Waits until every running container of the stack reports healthy.
wait_healthy() {
  local deadline=$(($(date +%s) + timeout)) ids states
  while :; do
    ids=$(dc ps -q)
    [ -n "$ids" ] || fail "no containers"
    # shellcheck disable=SC2086
    # The examples one-shot is done when it exited 0; anything else must run and be healthy.
    states=$(docker inspect -f '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' $ids \
      | grep -v -E '_examples_[0-9]+ exited 0 |-examples-[0-9]+ exited 0 ')
    if ! grep -v -E ' running 0 healthy$' <<<"$states" | grep -q .; then return 0; fi
    if grep -q -E ' (exited|dead) ' <<<"$states"; then fail "a container stopped: $(grep -E ' (exited|dead) ' <<<"$states")"; fi
    [ "$(date +%s)" -lt "$deadline" ] || fail "not healthy after ${timeout}s: $(grep -v ' healthy$' <<<"$states" | tr '\n' ';')"
    sleep 3
  done
}

# Posts one JSON article, retrying while ingest answers 503 (broker down) or is unreachable;
# prints the article id.
submit() {
  local body=$1 deadline=$(($(date +%s) + timeout)) code
  while :; do
    code=$(curl -s -o "$work/answer" -w '%{http_code}' -H 'content-type: application/json' \
      --data-binary "$body" "$http/v1/articles" || true)
    case "$code" in
      200|202) python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/answer"; return 0 ;;
      503|000|502) [ "$(date +%s)" -lt "$deadline" ] || fail "ingest still answers $code"; sleep 2 ;;
      *) fail "ingest answered $code: $(cat "$work/answer")" ;;
    esac
  done
}

# A JSON article from a title and a text file (or text), with a distinct external id.
article_json() {
  python3 - "$@" <<'PY'
import json, sys, os
title, text, external = sys.argv[1], sys.argv[2], sys.argv[3]
body = open(text).read() if os.path.isfile(text) else text
print(json.dumps({"source": "smoke", "external_id": external, "title": title, "body": body}))
PY
}

# Waits until every id in the file is stored, then checks each is stored once with its
# analysis rows unduplicated.
check_stored() {
  local ids_file=$1 n list deadline=$(($(date +%s) + timeout)) stored
  n=$(wc -l <"$ids_file")
  list=$(sed "s/.*/'&'/" "$ids_file" | paste -sd, -)
  while :; do
    stored=$(sql "select count(*) from articles where id in ($list)")
    [ "$stored" -eq "$n" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || fail "$stored of $n articles stored after ${timeout}s"
    sleep 2
  done
  local dupes
  dupes=$(sql "select (select count(*) from (select article_id, statement_id from statements where article_id in ($list) group by 1, 2 having count(*) > 1) s)
             + (select count(*) from (select article_id, entity_id from article_entities where article_id in ($list) group by 1, 2 having count(*) > 1) e)")
  [ "$dupes" -eq 0 ] || fail "$dupes duplicated analysis rows"
  echo "$n of $n stored once"
}

say "clean state"
dc --profile examples down -v --remove-orphans >/dev/null 2>&1 || true
# With the vfs storage driver a removal can outlast `down`: wait until the project is gone.
deadline=$(($(date +%s) + 300))
while [ -n "$(dc --profile examples ps -a -q 2>/dev/null)" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "the previous stack's containers are still there"
  sleep 2
  dc --profile examples down -v --remove-orphans >/dev/null 2>&1 || true
done

say "the README's first command, detached: --profile examples up -d --build"
up_started=$(date +%s.%N)
dc --profile examples up -d --build || fail "up --build failed"
build_seconds=$(python3 -c "import sys,time; print(round(time.time() - float(sys.argv[1])))" "$up_started")
image_size=$(docker image inspect -f '{{.Size}}' "newsflow:${NEWSFLOW_TAG:-latest}")
first_stored=""
deadline=$(($(date +%s) + timeout))
until [ "$(sql "select count(*) from articles" 2>/dev/null || echo 0)" -gt 0 ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "no article stored ${timeout}s after up"
  sleep 1
done
first_stored=$(python3 -c "import sys,time; print(round(time.time() - float(sys.argv[1])))" "$up_started")
wait_healthy
dc ps

say "the examples profile: every example article stored"
examples=$(find examples/articles -type f | wc -l)
deadline=$(($(date +%s) + timeout))
until [ "$(sql "select count(*) from articles")" -ge "$examples" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "$(sql "select count(*) from articles") of $examples examples stored"
  sleep 2
done
sql "select id from articles" >"$work/examples"
check_stored "$work/examples"

say "follow article.processed (newsflow tail --durable smoke) and submit the seed article"
# Declared before the seed is submitted, so its event cannot be missed.
dc exec -T ingest newsflow tail --durable smoke --brief --count 1 >"$work/events" 2>"$work/tail.err" &
tail_pid=$!
deadline=$(($(date +%s) + 60))
until dc exec -T rabbitmq rabbitmqctl -q list_queues name 2>/dev/null | grep -q 'tail.smoke'; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "newsflow tail declared no queue: $(cat "$work/tail.err")"
  sleep 1
done
seed=../shared/examples/western-troops-ukraine.txt
[ -f "$seed" ] || seed=examples/articles/troops-warning.txt
submitted_at=$(date +%s.%N)
seed_id=$(submit "$(article_json "Putin warns Western troops in Ukraine would be targets" "$seed" smoke-seed)")
echo "seed article $seed_id"
wait "$tail_pid" || fail "tail failed: $(cat "$work/tail.err")"
tail_pid=""
seed_seconds=$(python3 -c "import sys,time; print(round(time.time() - float(sys.argv[1]), 1))" "$submitted_at")
cat "$work/events"
grep -q "\"$seed_id\"" "$work/events" || fail "the article.processed event is not the seed article's"

say "read the seed article back from storage (newsflow get)"
dc exec -T ingest newsflow get "$seed_id" --json >"$work/seed.json"
python3 - "$work/seed.json" <<'PY' || fail "the stored seed article lacks its analysis"
import json, sys
doc = json.load(open(sys.argv[1]))  # an AnalyzedArticle: article, analysis, stages
analysis = doc.get("analysis", {})
entities = analysis.get("entities", [])
statements = analysis.get("statements", [])
stances = analysis.get("stances", [])
stages = [s.get("stage") for s in doc.get("stages", [])]
print(f"stored: {len(entities)} entities, {len(statements)} statements, {len(stances)} stances; stages {stages}")
assert any("Putin" in json.dumps(e) for e in entities), "no Putin among the entities"
assert statements and stances
PY

say "the analyst's page (headless Chromium): the feed, Putin's entity page, the stance view"
web=http://127.0.0.1:$NEWSFLOW_WEB_PORT
curl -sf "$web/healthz" >/dev/null || fail "the web service does not answer on $web"
chromium_bin=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
shots=target/screenshots
mkdir -p "$shots"
# The DOM after the page's scripts ran (the chart draws itself, the feed fills from the API).
page_dom() {
  if [ -n "$chromium_bin" ]; then
    # --timeout, not a virtual-time budget: the feed's live stream never finishes loading,
    # and virtual time waits for it.
    timeout 120 "$chromium_bin" --headless --no-sandbox --disable-gpu --timeout=10000 \
      --window-size=1280,1600 --screenshot="$shots/compose-$2.png" "$web$1" >/dev/null 2>&1 || true
    timeout 120 "$chromium_bin" --headless --no-sandbox --disable-gpu --timeout=10000 \
      --dump-dom "$web$1" 2>/dev/null || true
  else
    curl -sf "$web$1"
  fi
}
page_dom / feed >"$work/feed.html"
cards=$(grep -o '<li class="card' "$work/feed.html" | wc -l)
[ "$cards" -ge "$examples" ] || fail "the feed shows $cards articles, not the $examples examples"
page_dom "/entities/PERSON%3Avladimir%20putin" entity >"$work/entity.html"
grep -q 'class="statement' "$work/entity.html" || fail "Putin's page lists no statement"
if [ -n "$chromium_bin" ]; then
  grep -q 'id="timeline-chart"[^>]*data-rendered="true"\|data-rendered="true"[^>]*id="timeline-chart"' "$work/entity.html" \
    || fail "Putin's timeline chart was not drawn"
fi
page_dom /stances stances >"$work/stances.html"
grep -q 'id="stance-matrix"' "$work/stances.html" && grep -q 'Vladimir Putin' "$work/stances.html" \
  || fail "the stance view has no matrix with Putin in it"
echo "feed: $cards articles; Putin's page: chart and statements; stance view: matrix${chromium_bin:+ (screenshots in $shots/compose-*.png)}"

say "follow a feed: newsflow feeds add on the running stack, its article through the pipeline"
# A feed and its page, served from this host on the compose network's gateway: a private
# address, which the feeds service refuses unless told (the smoke run exports
# NEWSFLOW_FEEDS_ALLOW_PRIVATE_ADDRESSES=true); nothing outside this machine is reached.
network=$(docker inspect -f '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}}{{end}}' "$(dc ps -q feeds)")
gateway=$(docker network inspect -f '{{(index .IPAM.Config 0).Gateway}}' "$network")
site_port=${NEWSFLOW_SMOKE_SITE_PORT:-18181}
mkdir -p "$work/site/news"
python3 - "$work/site" "http://$gateway:$site_port" <<'PY' || fail "cannot write the feed's site"
import csv, html, os, sys
site, base = sys.argv[1], sys.argv[2]
bbc = "../shared/data/bbc/val.csv"
if os.path.isfile(bbc):
    rows = list(csv.reader(open(bbc)))
    text = rows[6][0]  # an article the rest of this run does not submit
else:
    text = ("Council leader Mary Jones said on Tuesday that the new bridge would open in May. "
            "Opposition members said the cost had doubled and called for an inquiry.") * 3
paragraphs = "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n") if p.strip())
open(f"{site}/news/story.html", "w").write(
    "<!DOCTYPE html><html lang='en'><head><title>Story | Smoke Times</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/all'>All sections index</a></nav>"
    "<div class='cookie-banner'>We use cookies. <a href='/ok'>Accept all cookies</a></div>"
    f"<article><h1>Story</h1>{paragraphs}</article>"
    "<footer>Copyright Smoke Times. All rights reserved.</footer></body></html>")
open(f"{site}/rss.xml", "w").write(
    "<?xml version='1.0'?><rss version='2.0'><channel><title>Smoke Times</title>"
    f"<item><title>A story from the feed</title><link>{base}/news/story.html</link></item>"
    "</channel></rss>")
PY
(cd "$work/site" && exec python3 -m http.server --bind "$gateway" "$site_port") >"$work/site.log" 2>&1 &
site_pid=$!
sleep 1
dc exec -T feeds newsflow feeds add "http://$gateway:$site_port/rss.xml" --source "Smoke Times" \
  || fail "newsflow feeds add failed"
deadline=$(($(date +%s) + 120))
until [ "$(sql "select count(*) from articles where source = 'Smoke Times'")" -eq 1 ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "the feed's article was not stored: $(dc exec -T feeds newsflow feeds status)"
  sleep 2
done
dc exec -T feeds newsflow feeds status
[ "$(sql "select count(*) from articles where source = 'Smoke Times' and (body like '%cookies%' or body like '%All rights reserved%')")" -eq 0 ] \
  || fail "the feed's article kept the page around it"
sql "select id from articles where source = 'Smoke Times'" >"$work/feed-article"
check_stored "$work/feed-article"
grep -q 'GET /news/story.html' "$work/site.log" || fail "the page was not fetched from the site"
kill "$site_pid" 2>/dev/null || true
site_pid=""

say "scale extractor and stance to 2; submit 20"
dc up -d --no-recreate --scale extractor=2 --scale stance=2
wait_healthy
: >"$work/batch1"
for i in $(seq 1 20); do
  submit "$(article_json "Smoke batch one, article $i" "Talks in round $i. Prime Minister Jane Doe said on Monday that the plan for district $i would go ahead, while opposition leader John Roe said it would fail." "smoke-1-$i")" >>"$work/batch1"
done
check_stored "$work/batch1"

say "submit 20 more, restarting rabbitmq after the first 10"
: >"$work/batch2"
for i in $(seq 1 20); do
  if [ "$i" -eq 11 ]; then dc restart rabbitmq; fi
  submit "$(article_json "Smoke batch two, article $i" "Vote number $i. Mayor Ann Smith said the harbour plan for ward $i was the best deal on offer, and councillor Tom Brown said he opposed it." "smoke-2-$i")" >>"$work/batch2"
done
check_stored "$work/batch2"
wait_healthy

say "summary"
printf 'image newsflow:%s  %s MB\n' "${NEWSFLOW_TAG:-latest}" "$((image_size / 1000000))"
printf 'up --build %ss; first article stored %ss after up began; seed article processed %ss after it was submitted\n' \
  "$build_seconds" "$first_stored" "$seed_seconds"
dc ps
# Memory per container now and at its peak (cgroup v2's memory.peak, v1's max_usage_in_bytes).
echo "container: memory now / peak"
for id in $(dc ps -q); do
  [ "$(docker inspect -f '{{.State.Running}}' "$id")" = true ] || continue
  name=$(docker inspect -f '{{.Name}}' "$id")
  now=$(docker stats --no-stream --format '{{.MemUsage}}' "$id" | cut -d/ -f1)
  peak=$(docker exec "$id" cat /sys/fs/cgroup/memory.peak 2>/dev/null \
    || docker exec "$id" cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes 2>/dev/null || echo 0)
  printf '%s: %s/ %s MiB\n' "${name#/}" "$now" "$((peak / 1048576))"
done
say "SMOKE PASSED"
