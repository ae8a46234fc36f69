#!/usr/bin/env bash
# Validates the Kubernetes manifests beside this script; exits non-zero when any is invalid.
# What is and is not checked: README.md, "Validation". Run from anywhere:
#   deploy/kubernetes/validate.sh
# The first run installs its tools under target/kubernetes-validate/ (or $NEWSFLOW_K8S_TOOLS):
# the PyPI package kubernetes-validate (the Kubernetes API schemas) with pip, and the npm package
# @kubernetes-models/keda (KEDA's schemas) with npm. Needs python3 with pip, node and npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

KUBERNETES_VALIDATE_VERSION=1.37.0
KEDA_MODELS_VERSION=2.0.0
tools="${NEWSFLOW_K8S_TOOLS:-$repo/target/kubernetes-validate}"

python_tools="$tools/pypi-kubernetes-validate-$KUBERNETES_VALIDATE_VERSION"
if [ ! -f "$python_tools/.installed" ]; then
  rm -rf "$python_tools"
  # --target: a folder of its own, no virtual environment needed and none of the system's
  # packages touched.
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
    --target "$python_tools" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  touch "$python_tools/.installed"
fi

node_tools="$tools/npm-keda-$KEDA_MODELS_VERSION"
if [ ! -f "$node_tools/.installed" ]; then
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "validate.sh: node and npm are needed for KEDA's schemas (apt-get install npm)" >&2
    exit 2
  fi
  rm -rf "$node_tools"
  mkdir -p "$node_tools"
  # The package and the three it depends on, pinned; it asks for node 22 but runs on 20.
  npm install --prefix "$node_tools" --no-audit --no-fund --loglevel=error \
    "@kubernetes-models/keda@$KEDA_MODELS_VERSION" @kubernetes-models/base@6.0.1 \
    @kubernetes-models/apimachinery@3.0.2 @kubernetes-models/validate@5.0.2 >/dev/null
  touch "$node_tools/.installed"
fi

PYTHONPATH="$python_tools" KEDA_MODELS="$node_tools/node_modules" \
  python3 "$here/validate.py"
