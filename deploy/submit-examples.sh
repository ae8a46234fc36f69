#!/usr/bin/env bash
# Submits example articles to ingest's HTTP API (POST /v1/articles), one request per file, with
# nothing but bash and coreutils (the runtime image has no curl). Until `newsflow submit` lands
# this is what the compose file's `examples` service runs.
#
# Usage: newsflow-submit-examples [INGEST_URL] [DIR]
#   INGEST_URL  http://HOST:PORT of ingest's HTTP side (default $NEWSFLOW_INGEST_URL or
#               http://ingest:8080); plain HTTP only.
#   DIR         folder of articles (default /opt/newsflow/examples):
#               *.json is sent as it is (one article, an array, or an object per line with
#               extension .ndjson); *.txt is the article body, its file name the external id.
# Environment: NEWSFLOW_API_KEY (sent as a bearer token), NEWSFLOW_SOURCE (source of .txt
# articles, default "examples").
# Exit status: 0 when every file was accepted (202, or 200 for a duplicate), else 1.
set -uo pipefail

url=${1:-${NEWSFLOW_INGEST_URL:-http://ingest:8080}}
dir=${2:-/opt/newsflow/examples}
source_name=${NEWSFLOW_SOURCE:-examples}
attempts=5

hostport=${url#http://}
hostport=${hostport%%/*}
if [[ $url != http://* || -z $hostport ]]; then
  echo "submit-examples: $url is not an http://HOST:PORT URL" >&2
  exit 2
fi
host=${hostport%:*}
port=${hostport##*:}
[[ $hostport == *:* ]] || port=80

# JSON string literal of $1: escapes \ and ", newlines, tabs and carriage returns, and drops the
# other control characters (which no article text needs).
json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  s=${s//[$'\x01'-$'\x1f']/}
  printf '"%s"' "$s"
}

# POST $2 (the body) with content type $1; prints the status code, then the response body.
post() {
  local type=$1 body=$2 length status line
  length=$(printf '%s' "$body" | LC_ALL=C wc -c)
  exec 3<>"/dev/tcp/$host/$port" || return 1
  {
    printf 'POST /v1/articles HTTP/1.1\r\n'
    printf 'Host: %s\r\n' "$hostport"
    printf 'Content-Type: %s\r\n' "$type"
    printf 'Content-Length: %d\r\n' "$length"
    [[ -n ${NEWSFLOW_API_KEY:-} ]] && printf 'Authorization: Bearer %s\r\n' "$NEWSFLOW_API_KEY"
    printf 'Connection: close\r\n\r\n'
    printf '%s' "$body"
  } >&3
  if ! IFS= read -r -t 60 status <&3; then
    exec 3<&-
    return 1
  fi
  status=${status#HTTP/* }
  echo "${status%% *}"
  # Headers up to the blank line, then the body (the server closes: Connection: close).
  while IFS= read -r -t 10 line <&3 && [[ ${line%$'\r'} != "" ]]; do :; done
  timeout 10 cat <&3
  echo
  exec 3<&-
}

shopt -s nullglob
files=("$dir"/*.json "$dir"/*.ndjson "$dir"/*.txt)
if ((${#files[@]} == 0)); then
  echo "submit-examples: no *.json, *.ndjson or *.txt files in $dir" >&2
  exit 1
fi

failed=0
for file in "${files[@]}"; do
  name=${file##*/}
  case $name in
    *.ndjson) type=application/x-ndjson body=$(<"$file") ;;
    *.json) type=application/json body=$(<"$file") ;;
    *.txt)
      type=application/json
      body="{\"external_id\":$(json_string "${name%.txt}"),\"source\":$(json_string "$source_name"),\"body\":$(json_string "$(<"$file")")}"
      ;;
  esac
  for attempt in $(seq "$attempts"); do
    answer=$(post "$type" "$body") || answer="000 no connection to $hostport"
    code=${answer%%[$'\n' ]*}
    reply=$(printf '%s' "${answer#"$code"}" | tr -d '\n')
    reply=${reply# }
    case $code in
      200 | 202)
        echo "$name: $code $reply"
        continue 2
        ;;
      000 | 429 | 502 | 503 | 504)
        echo "$name: $code $reply (attempt $attempt of $attempts)" >&2
        sleep $((attempt * 2))
        ;;
      *)
        echo "$name: refused: $code $reply" >&2
        break
        ;;
    esac
  done
  failed=1
done
exit "$failed"
