#!/usr/bin/env python3
"""Checks the manifests in deploy/kubernetes/.

Python, not Rust: the validator (kubernetes-validate) and the Kubernetes API schemas it bundles
are a PyPI package, used here as a library; no Rust crate ships those schemas.
 Run through validate.sh, which installs what this
imports (kubernetes-validate and its PyYAML and jsonschema; @kubernetes-models/keda for node).

What is checked, per resource (README.md, "Validation"):
- every file: parses as YAML; is listed in kustomization.yaml, and everything listed there exists;
- every resource: apiVersion, kind, metadata.name present; metadata.namespace is `newsflow`;
- built-in kinds (Deployment, Service, ConfigMap, NetworkPolicy, Namespace, ...): the
  Kubernetes API schemas shipped in kubernetes-validate, strict mode (unknown fields are
  errors), for each version in KUBERNETES_VERSIONS;
- KEDA's ScaledObject and TriggerAuthentication: the validators of the npm package
  @kubernetes-models/keda (generated from KEDA's Go API types): types, enums and required
  fields, but unknown fields pass;
- RabbitmqCluster and CloudNativePG's Cluster: no schema (none is published on PyPI or npm);
  only the fields this project relies on (replicas/instances, image, initdb database and owner);
- any other kind: an error, so nothing passes unchecked;
- between resources: Services select a Deployment and target its named ports, probes use
  declared ports, ScaledObjects name a Deployment, a TriggerAuthentication and the stage's
  queue, every NEWSFLOW_* variable is one the services read (crates/*/src), Secrets and
  ConfigMaps referenced are the documented ones, and every resource request has a
  `# measured:` comment.
Exits 1 when anything fails.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError, validate

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
# 1.27: the oldest release with gRPC probes on by default and GA; the newest kubernetes-validate
# knows. Both in strict mode.
KUBERNETES_VERSIONS = ["1.27", "1.37"]
NAMESPACE = "newsflow"
IMAGE = "newsflow"
SERVICES = {
    "newsflow-ingest": "ingest",
    "newsflow-extractor": "extractor",
    "newsflow-stance": "stance",
    "newsflow-storage": "storage",
    "newsflow-web": "web",
    "newsflow-feeds": "feeds",
}
KEDA_KINDS = {("keda.sh/v1alpha1", "ScaledObject"), ("keda.sh/v1alpha1", "TriggerAuthentication")}
STRUCTURE_ONLY_KINDS = {("rabbitmq.com/v1beta1", "RabbitmqCluster"), ("postgresql.cnpg.io/v1", "Cluster")}
# The Secrets the manifests may reference: created by hand (README.md, "Secrets") or by
# CloudNativePG for the Cluster in postgres.yaml.
SECRETS = {
    ("newsflow-amqp", "url"),
    ("newsflow-api-keys", "keys"),
    ("newsflow-api-keys", "feeds"),
    ("newsflow-postgres-app", "uri"),
}
BUILTIN_GROUP = re.compile(r"^(v1|(apps|batch|policy|autoscaling|[a-z.]*\.k8s\.io)/[a-z0-9]+)$")

errors: list[str] = []
counts = {"kubernetes": 0, "keda": 0, "structure": 0}


def error(where: str, message: str) -> None:
    errors.append(f"{where}: {message}")
    print(f"ERROR {where}: {message}")


def dig(data, *path):
    for key in path:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return None
    return data


def known_variables() -> set[str]:
    """The NEWSFLOW_* variables the services read: clap's `env = "..."` in crates/*/src."""
    names = set()
    for source in (REPO / "crates").glob("*/src/**/*.rs"):
        names.update(re.findall(r'env\s*=\s*"(NEWSFLOW_[A-Z0-9_]+)"', source.read_text()))
    return names


def load(files: list[Path]) -> list[tuple[str, dict]]:
    resources = []
    for path in files:
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        except yaml.YAMLError as e:
            error(path.name, f"not YAML: {e}")
            continue
        if not docs:
            error(path.name, "no resource in the file")
        for doc in docs:
            resources.append((path.name, doc))
    return resources


def check_kustomization(files: list[Path]) -> None:
    path = HERE / "kustomization.yaml"
    kustomization = yaml.safe_load(path.read_text()) or {}
    listed = kustomization.get("resources") or []
    present = {p.name for p in files}
    for name in listed:
        if name not in present:
            error(path.name, f"lists {name}, which is not here")
    for name in sorted(present - set(listed)):
        error(path.name, f"does not list {name}")
    if kustomization.get("namespace") != NAMESPACE:
        error(path.name, f"namespace is not {NAMESPACE}")
    print(f"ok    {path.name}: lists the {len(listed)} manifests")


def check_basics(file: str, doc) -> str | None:
    if not isinstance(doc, dict):
        error(file, "a document that is not a mapping")
        return None
    api, kind, name = doc.get("apiVersion"), doc.get("kind"), dig(doc, "metadata", "name")
    if not all(isinstance(v, str) and v for v in (api, kind, name)):
        error(file, "a resource without apiVersion, kind and metadata.name")
        return None
    where = f"{file} {kind}/{name}"
    if kind != "Namespace" and dig(doc, "metadata", "namespace") != NAMESPACE:
        error(where, f"metadata.namespace is not {NAMESPACE}")
    return where


def check_kubernetes_schema(where: str, doc: dict) -> bool:
    for version in KUBERNETES_VERSIONS:
        try:
            validate(doc, version, strict=True)
        except ValidationError as e:
            path = ".".join(str(p) for p in e.path) or "(top)"
            error(where, f"Kubernetes {version} schema (strict): {path}: {e.message}")
            return False
        except SchemaNotFoundError as e:
            error(where, e.message)
            return False
    return True


def check_keda(resources: list[tuple[str, str, dict]]) -> set[str]:
    """Runs KEDA's validators (node); returns the resources that passed."""
    modules = os.environ.get("KEDA_MODELS")
    if not modules:
        for where, _, _ in resources:
            error(where, "KEDA_MODELS (node_modules with @kubernetes-models/keda) not set: run validate.sh")
        return set()
    payload = json.dumps([{"where": w, "doc": d} for w, _, d in resources])
    run = subprocess.run(
        ["node", str(HERE / "validate-keda.mjs"), modules],
        input=payload, capture_output=True, text=True,
    )
    try:
        result = json.loads(run.stdout)
    except json.JSONDecodeError:
        result = None
    if run.returncode not in (0, 1) or result is None:
        error("validate-keda.mjs", f"exit {run.returncode}: {run.stderr.strip() or run.stdout.strip()}")
        return set()
    for where, message in result["errors"]:
        error(where, f"KEDA schema (@kubernetes-models/keda): {message}")
    return set(result["passed"])


def check_structure(where: str, doc: dict) -> bool:
    spec = doc.get("spec")
    before = len(errors)
    if not isinstance(spec, dict):
        error(where, "spec is not a mapping")
        return False
    if doc["kind"] == "RabbitmqCluster":
        if not (isinstance(spec.get("replicas"), int) and spec["replicas"] >= 3):
            error(where, "spec.replicas must be an integer, at least 3 (quorum queues)")
        if not isinstance(spec.get("image"), str):
            error(where, "spec.image must be a string")
    else:
        if not (isinstance(spec.get("instances"), int) and spec["instances"] >= 1):
            error(where, "spec.instances must be a positive integer")
        initdb = dig(spec, "bootstrap", "initdb") or {}
        for field in ("database", "owner"):
            if initdb.get(field) != "newsflow":
                error(where, f"spec.bootstrap.initdb.{field} must be newsflow")
        if not isinstance(dig(spec, "storage", "size"), str):
            error(where, "spec.storage.size must be a string such as 20Gi")
    return len(errors) == before


def container_ports(deployment: dict) -> dict:
    ports = {}
    for container in dig(deployment, "spec", "template", "spec", "containers") or []:
        for port in container.get("ports") or []:
            ports[port.get("name")] = port.get("containerPort")
    return ports


def check_references(resources: list[tuple[str, str, dict]], texts: dict[str, str]) -> None:
    by_kind: dict[str, dict[str, tuple[str, dict]]] = {}
    for where, file, doc in resources:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = (where, doc)
    deployments = by_kind.get("Deployment", {})
    config_maps = by_kind.get("ConfigMap", {})
    variables = known_variables()
    if not variables:
        error("crates/*/src", "found no NEWSFLOW_* variables to check the manifests against")

    def check_variable(where: str, name: str) -> None:
        if name.startswith("NEWSFLOW_") and name not in variables:
            error(where, f"{name} is not a variable any service reads (crates/*/src)")

    for name, (where, doc) in config_maps.items():
        for key in (doc.get("data") or {}):
            check_variable(where, key)

    for name, (where, doc) in deployments.items():
        pod = dig(doc, "spec", "template", "spec") or {}
        labels = dig(doc, "spec", "template", "metadata", "labels") or {}
        selector = dig(doc, "spec", "selector", "matchLabels") or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            error(where, "spec.selector does not match the pod template's labels")
        if name not in SERVICES:
            error(where, "not one of the newsflow services")
            continue
        ports = container_ports(doc)
        for container in pod.get("containers") or []:
            image = container.get("image", "")
            if image.rsplit("/", 1)[-1].split(":")[0] != IMAGE:
                error(where, f"image {image!r} is not the newsflow image")
            if (container.get("args") or [None])[0] != name:
                error(where, f"args do not start the service {name}")
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                spec = container.get(probe)
                if not spec:
                    error(where, f"no {probe}")
                    continue
                port = dig(spec, "grpc", "port") or dig(spec, "httpGet", "port")
                if port not in ports.values() and port not in ports:
                    error(where, f"{probe} uses port {port}, not a declared container port")
            for env in container.get("env") or []:
                check_variable(where, env.get("name", ""))
                ref = dig(env, "valueFrom", "secretKeyRef")
                if ref and (ref.get("name"), ref.get("key")) not in SECRETS:
                    error(where, f"Secret {ref.get('name')}/{ref.get('key')} is not a documented one")
            for source in container.get("envFrom") or []:
                ref = dig(source, "configMapRef", "name")
                if ref and ref not in config_maps:
                    error(where, f"ConfigMap {ref} is not defined here")
            sc = container.get("securityContext") or {}
            if sc.get("allowPrivilegeEscalation") is not False or dig(sc, "capabilities", "drop") != ["ALL"]:
                error(where, "container must not escalate privileges and must drop ALL capabilities")
        psc = pod.get("securityContext") or {}
        if psc.get("runAsNonRoot") is not True or psc.get("runAsUser") != 10001:
            error(where, "pod must run as non-root uid 10001")

    for name, (where, doc) in by_kind.get("Service", {}).items():
        selector = dig(doc, "spec", "selector") or {}
        targets = [
            d for d in deployments.values()
            if selector and all((dig(d[1], "spec", "template", "metadata", "labels") or {}).get(k) == v
                                for k, v in selector.items())
        ]
        if len(targets) != 1:
            error(where, f"selects {len(targets)} Deployments, not one")
            continue
        ports = container_ports(targets[0][1])
        for port in dig(doc, "spec", "ports") or []:
            target = port.get("targetPort", port.get("port"))
            if target not in ports and target not in ports.values():
                error(where, f"targetPort {target} is not a port of {targets[0][0]}")

    prefix = dig(config_maps.get("newsflow-bus", (None, {}))[1], "data", "NEWSFLOW_BUS_PREFIX") or "newsflow"
    auths = by_kind.get("TriggerAuthentication", {})
    for name, (where, doc) in auths.items():
        for ref in dig(doc, "spec", "secretTargetRef") or []:
            if (ref.get("name"), ref.get("key")) not in SECRETS:
                error(where, f"Secret {ref.get('name')}/{ref.get('key')} is not a documented one")
    for name, (where, doc) in by_kind.get("ScaledObject", {}).items():
        target = dig(doc, "spec", "scaleTargetRef", "name")
        if target not in deployments:
            error(where, f"scaleTargetRef {target} is not a Deployment here")
            continue
        stage = SERVICES[target]
        if dig(deployments[target][1], "spec", "replicas") is not None:
            error(where, f"{target} sets spec.replicas, which fights the autoscaler")
        for trigger in dig(doc, "spec", "triggers") or []:
            if trigger.get("type") != "rabbitmq":
                error(where, f"trigger type {trigger.get('type')}, not rabbitmq")
            queue = dig(trigger, "metadata", "queueName")
            if queue != f"{prefix}.{stage}":
                error(where, f"queueName {queue}, but {stage} consumes {prefix}.{stage}")
            auth = dig(trigger, "authenticationRef", "name")
            if auth not in auths:
                error(where, f"authenticationRef {auth} is not a TriggerAuthentication here")

    # Every resource request carries its source: one `# measured:` comment per requests block.
    for file, text in texts.items():
        requests = len(re.findall(r"^\s*requests:\s*$", text, re.M))
        measured = len(re.findall(r"#\s*measured:", text))
        if measured < requests:
            error(file, f"{requests} resource requests but {measured} `# measured:` comments")


def main() -> int:
    files = sorted(p for p in HERE.glob("*.yaml") if p.name != "kustomization.yaml")
    check_kustomization(files)
    texts = {p.name: p.read_text() for p in files}
    resources = []
    keda = []
    for file, doc in load(files):
        where = check_basics(file, doc)
        if where is None:
            continue
        resources.append((where, file, doc))
        key = (doc["apiVersion"], doc["kind"])
        if key in KEDA_KINDS:
            keda.append((where, file, doc))
        elif key in STRUCTURE_ONLY_KINDS:
            if check_structure(where, doc):
                counts["structure"] += 1
                print(f"ok    {where}: structure only (no schema for {doc['apiVersion']})")
        elif BUILTIN_GROUP.match(doc["apiVersion"]):
            if check_kubernetes_schema(where, doc):
                counts["kubernetes"] += 1
                print(f"ok    {where}: Kubernetes {', '.join(KUBERNETES_VERSIONS)} schemas, strict")
        else:
            error(where, f"{doc['apiVersion']} {doc['kind']}: no schema and not a kind this script knows")
    if keda:
        passed = check_keda(keda)
        for where, _, _ in keda:
            if where in passed:
                counts["keda"] += 1
                print(f"ok    {where}: KEDA schema (@kubernetes-models/keda)")
    check_references(resources, texts)
    print(
        f"{len(resources)} resources in {len(files)} files: {counts['kubernetes']} passed the Kubernetes "
        f"schemas (strict), {counts['keda']} KEDA's, {counts['structure']} the structure checks; "
        f"{len(errors)} error(s)"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
