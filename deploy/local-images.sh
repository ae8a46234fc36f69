#!/usr/bin/env bash
# Stand-in base images for a machine that cannot pull from any image registry.
#
# On a normal machine Docker pulls the official images that deploy/Dockerfile and
# deploy/docker-compose.yml name (rust:1.95-bookworm, debian:bookworm-slim, rabbitmq:3.13-management,
# postgres:16) and this script is NOT needed. Some build machines reach the package registries
# (Debian, crates.io, PyPI, npm) but no image registry; there this script builds thin stand-ins
# from Debian's packages and tags them with exactly those names, so the compose file and the
# Dockerfile run unchanged:
#
#   debian:bookworm-slim       a `debootstrap --variant=minbase bookworm` root, imported
#   rust:1.95-bookworm         that, plus gcc and this machine's Rust toolchain (rustc --print sysroot)
#   rabbitmq:3.13-management   that, plus Debian's rabbitmq-server (3.10) with the management
#                              plugin; honours RABBITMQ_DEFAULT_USER/PASS and conf.d
#   postgres:16                that, plus Debian's postgresql (15); honours POSTGRES_USER,
#                              POSTGRES_PASSWORD, POSTGRES_DB and answers pg_isready
#
# The versions inside are Debian bookworm's, not the tags': stand-ins for a smoke run, not for
# production. Images that fetch packages (the Rust one) get this machine's CA bundle, for
# networks that inspect TLS. Usage (root, a running dockerd): deploy/local-images.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/.."

force=${1:-}
rootfs=${NEWSFLOW_ROOTFS:-/var/tmp/newsflow-rootfs/bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ca_bundle=/etc/ssl/certs/ca-certificates.crt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have() { [ -z "$force" ] && docker image inspect "$1" >/dev/null 2>&1; }
say() { printf '== %s\n' "$*"; }

# --- debian:bookworm-slim --------------------------------------------------------------------
if have debian:bookworm-slim; then
  say "debian:bookworm-slim present"
else
  if [ ! -x "$rootfs/usr/bin/apt-get" ]; then
    say "debootstrap bookworm into $rootfs"
    mkdir -p "$(dirname "$rootfs")"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
  fi
  say "importing debian:bookworm-slim"
  # Like the official image: no apt caches kept, apt lists fetched at build time.
  tar -C "$rootfs" --exclude=./var/cache/apt/archives/*.deb --exclude=./var/lib/apt/lists/* -c . \
    | docker import -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' - debian:bookworm-slim
fi

# --- rust:1.95-bookworm ----------------------------------------------------------------------
if have rust:1.95-bookworm; then
  say "rust:1.95-bookworm present"
else
  sysroot=$(rustc --print sysroot)
  version=$(rustc --version)
  case "$version" in rustc\ 1.9[5-9]*|rustc\ 1.[1-9][0-9][0-9]*) ;; *)
    echo "this machine's $version is older than the 1.95 the image name promises" >&2; exit 1 ;;
  esac
  say "rust:1.95-bookworm from $version ($sysroot)"
  mkdir -p "$work/rust/toolchain"
  # The compiler, cargo and the standard library; the documentation stays behind.
  cp -a "$sysroot/bin" "$sysroot/lib" "$work/rust/toolchain/"
  [ -d "$sysroot/libexec" ] && cp -a "$sysroot/libexec" "$work/rust/toolchain/"
  cp "$ca_bundle" "$work/rust/ca-certificates.crt"
  cat > "$work/rust/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev pkg-config ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
COPY toolchain /usr/local/rust
COPY ca-certificates.crt /usr/local/share/newsflow-build-ca.crt
# As the official image: cargo's home under /usr/local/cargo (deploy/Dockerfile mounts its
# registry as a cache there).
ENV CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/rust/bin:$PATH \
    SSL_CERT_FILE=/usr/local/share/newsflow-build-ca.crt \
    CARGO_HTTP_CAINFO=/usr/local/share/newsflow-build-ca.crt \
    PIP_CERT=/usr/local/share/newsflow-build-ca.crt \
    REQUESTS_CA_BUNDLE=/usr/local/share/newsflow-build-ca.crt \
    NODE_EXTRA_CA_CERTS=/usr/local/share/newsflow-build-ca.crt \
    npm_config_cafile=/usr/local/share/newsflow-build-ca.crt
RUN mkdir -p /usr/local/cargo/bin && cargo --version && rustc --version
DOCKERFILE
  docker build -q -t rust:1.95-bookworm "$work/rust"
fi

# --- rabbitmq:3.13-management ----------------------------------------------------------------
if have rabbitmq:3.13-management; then
  say "rabbitmq:3.13-management present"
else
  say "rabbitmq:3.13-management (Debian's rabbitmq-server)"
  mkdir -p "$work/rabbitmq"
  cat > "$work/rabbitmq/entrypoint.sh" <<'ENTRYPOINT'
#!/bin/bash
# The official image's contract that compose relies on: RABBITMQ_DEFAULT_USER/PASS become the
# default user, files in /etc/rabbitmq/conf.d are read, data stays in /var/lib/rabbitmq.
set -euo pipefail
mkdir -p /etc/rabbitmq/conf.d
{
  echo "loopback_users = none"
  echo "listeners.tcp.default = 5672"
  echo "management.tcp.port = 15672"
  [ -n "${RABBITMQ_DEFAULT_USER:-}" ] && echo "default_user = $RABBITMQ_DEFAULT_USER"
  [ -n "${RABBITMQ_DEFAULT_PASS:-}" ] && echo "default_pass = $RABBITMQ_DEFAULT_PASS"
} > /etc/rabbitmq/conf.d/10-defaults.conf
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
# The CLI tools (health check) and the server share the rabbitmq user's cookie.
if [ -f /var/lib/rabbitmq/.erlang.cookie ]; then
  cp /var/lib/rabbitmq/.erlang.cookie /root/.erlang.cookie && chmod 400 /root/.erlang.cookie
fi
exec runuser -u rabbitmq -- "$@"
ENTRYPOINT
  cat > "$work/rabbitmq/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends rabbitmq-server \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /etc/rabbitmq/conf.d \
 && printf '[rabbitmq_management].\n' > /etc/rabbitmq/enabled_plugins
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# Logs to the console, as the official image does.
ENV RABBITMQ_CONFIG_FILES=/etc/rabbitmq/conf.d RABBITMQ_LOGS=- HOME=/var/lib/rabbitmq
EXPOSE 5672 15672
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["rabbitmq-server"]
DOCKERFILE
  chmod +x "$work/rabbitmq/entrypoint.sh"
  docker build -q -t rabbitmq:3.13-management "$work/rabbitmq"
fi

# --- postgres:16 -----------------------------------------------------------------------------
if have postgres:16; then
  say "postgres:16 present"
else
  say "postgres:16 (Debian's postgresql)"
  mkdir -p "$work/postgres"
  cat > "$work/postgres/entrypoint.sh" <<'ENTRYPOINT'
#!/bin/bash
# The official image's contract that compose relies on: POSTGRES_USER, POSTGRES_PASSWORD and
# POSTGRES_DB on first start, data in /var/lib/postgresql/data, password logins from the
# network, pg_isready.
set -euo pipefail
data=/var/lib/postgresql/data
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
mkdir -p "$data" /run/postgresql
chown -R postgres:postgres "$data" /run/postgresql
chmod 700 "$data"
if [ ! -s "$data/PG_VERSION" ]; then
  [ -n "${POSTGRES_PASSWORD:-}" ] || { echo "POSTGRES_PASSWORD is not set" >&2; exit 1; }
  pwfile=$(mktemp) && printf '%s' "$POSTGRES_PASSWORD" > "$pwfile" && chown postgres "$pwfile"
  runuser -u postgres -- "$bin/initdb" -D "$data" -U "$user" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$data/pg_hba.conf"
  echo "listen_addresses = '*'" >> "$data/postgresql.auto.conf"
  if [ "$db" != postgres ]; then
    # A socket-only server for the set-up, stopped before the real one starts.
    runuser -u postgres -- "$bin/pg_ctl" -D "$data" -o "-c listen_addresses=''" -w start
    runuser -u postgres -- "$bin/psql" -h /run/postgresql -U "$user" -d postgres -v ON_ERROR_STOP=1 \
      -c "create database \"$db\" owner \"$user\""
    runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m fast -w stop
  fi
fi
exec runuser -u postgres -- "$bin/postgres" -D "$data"
ENTRYPOINT
  cat > "$work/postgres/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)/pg_isready" /usr/local/bin/pg_isready
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV LANG=C.UTF-8 PGHOST=/run/postgresql
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
DOCKERFILE
  chmod +x "$work/postgres/entrypoint.sh"
  docker build -q -t postgres:16 "$work/postgres"
fi

docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' \
  | grep -E '^(debian:bookworm-slim|rust:1.95-bookworm|rabbitmq:3.13-management|postgres:16) '
