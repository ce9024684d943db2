"""infra/k8s checked by the Kubernetes API's own schemas: every manifest (and the
kustomization as `kubectl kustomize` renders it, where kubectl is installed) through
kubernetes-validate in strict mode — unknown fields fail — against recent Kubernetes versions;
and the NATS StatefulSet's configuration, as its pods get it (node.conf from the ConfigMap,
users.conf from the Secret, the environment with the example Secret's values), through
`nats-server -t`."""

import os
import shutil
from pathlib import Path

import yaml
from kubernetes_validate import utils

from common import ROOT, nats_config_test, run, tail, yaml_documents

K8S = ROOT / "infra/k8s"
# Kinds kubernetes-validate has no schema for, skipped on purpose (anything else without a
# schema — a misspelt kind or apiVersion — fails).
SKIPPED = {
    ("keda.sh/v1alpha1", "ScaledObject"): "KEDA's CRD (tests/tests/e2e/deploy_files checks its trigger)",
    ("kustomize.config.k8s.io/v1beta1", "Kustomization"): "rendered by `kubectl kustomize` instead",
}
VERSIONS = os.environ.get("K8S_VERSIONS", "1.35 1.37").split()
EXAMPLE_SECRET = K8S / "secrets.example.yaml"


def name_of(doc):
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


def validate(docs, where, failures, skipped):
    """Every document of `docs` against every version in VERSIONS, strictly."""
    for doc in docs:
        key = (doc.get("apiVersion"), doc.get("kind"))
        if key in SKIPPED:
            skipped.add(key)
            continue
        for version in VERSIONS:
            try:
                utils.validate(doc, version, strict=True)
            except utils.ValidationError as e:
                path = ".".join(str(p) for p in e.path) or "(top)"
                failures.add(where, f"{name_of(doc)} is not valid for Kubernetes {version}: {path}: {e.message}")
            except utils.SchemaNotFoundError as e:
                failures.add(where, f"{name_of(doc)}: {e.message} (a misspelt kind or apiVersion?)")
            except utils.VersionNotSupportedError as e:
                failures.add(where, e.message)


def check_manifests(failures):
    """kubernetes-validate --strict on every file of infra/k8s."""
    skipped = set()
    for path in sorted(K8S.glob("*.yaml")):
        try:
            docs = yaml_documents(path)
        except yaml.YAMLError as e:
            failures.add(path, f"not YAML: {e}")
            continue
        validate(docs, path, failures, skipped)
    notes = [f"{kind} ({apiv}) skipped: {SKIPPED[(apiv, kind)]}" for apiv, kind in sorted(skipped)]
    return [f"Kubernetes {', '.join(VERSIONS)}"] + notes


def check_kustomization(failures):
    """`kubectl kustomize infra/k8s`: the kustomization renders, every resource in namespace
    companion, and the rendered set validates as the files do."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return ["skipped: kubectl is not installed here (the files themselves were validated)"]
    where = K8S / "kustomization.yaml"
    code, out, err = run([kubectl, "kustomize", str(K8S)])
    if code != 0:
        failures.add(where, f"kubectl kustomize failed:{tail(err)}")
        return []
    docs = [d for d in yaml.safe_load_all(out) if d]
    for doc in docs:
        if (doc.get("metadata") or {}).get("namespace") != "companion":
            failures.add(where, f"{name_of(doc)} is rendered outside namespace companion")
    validate(docs, where, failures, set())
    return [f"{len(docs)} resources rendered"]


def example_secret():
    """The placeholder values of secrets.example.yaml (key → value)."""
    docs = yaml_documents(EXAMPLE_SECRET)
    secret = next(d for d in docs if d.get("kind") == "Secret")
    return secret.get("stringData") or {}


def container_env(container, pod_name, secret, where, failures):
    """A container's environment as the kubelet would give it, secrets from the example."""
    env = {}
    for e in container.get("env") or []:
        name = e["name"]
        if "value" in e:
            value = str(e["value"])
            for known, v in env.items():
                value = value.replace(f"$({known})", v)
            env[name] = value
        elif "secretKeyRef" in e.get("valueFrom", {}):
            ref = e["valueFrom"]["secretKeyRef"]
            if ref.get("name") != "companion-secrets" or ref.get("key") not in secret:
                failures.add(where, f"{name} reads {ref}, which secrets.example.yaml does not have")
                continue
            env[name] = str(secret[ref["key"]])
        elif e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
            env[name] = pod_name
        else:
            failures.add(where, f"{name}: a source this check does not know: {e.get('valueFrom')}")
    return env


def check_nats(failures):
    """nats.yaml's StatefulSet: the shipped files in its ConfigMap and Secret, mounted into the
    folder its `-c` names, and `nats-server -t` with its environment."""
    where = K8S / "nats.yaml"
    docs = {(d.get("kind"), d["metadata"]["name"]): d for d in yaml_documents(where)}
    sts = docs.get(("StatefulSet", "nats"))
    if not sts:
        failures.add(where, "no StatefulSet nats")
        return []
    pod = sts["spec"]["template"]["spec"]
    container = pod["containers"][0]
    args = container.get("args") or []
    if len(args) != 2 or args[0] != "-c":
        failures.add(where, f"the NATS container must run `-c <config>`, not {args}")
        return []
    folder, config = os.path.split(args[1])
    mount = next((m for m in container.get("volumeMounts", []) if m["mountPath"] == folder), None)
    volume = next((v for v in pod.get("volumes", []) if mount and v["name"] == mount["name"]), None)
    if not volume or "projected" not in volume:
        failures.add(where, f"nothing (or not a projected volume) is mounted at {folder}")
        return []
    files = {}
    for source in volume["projected"]["sources"]:
        kind, ref = ("ConfigMap", source["configMap"]) if "configMap" in source else ("Secret", source["secret"])
        doc = docs.get((kind, ref["name"]))
        if not doc:
            failures.add(where, f"the volume names {kind} {ref['name']}, which the file does not have")
            continue
        files.update(doc.get("data") or doc.get("stringData") or {})
    for name, text in files.items():
        shipped = ROOT / "infra/nats" / name
        if not shipped.exists() or shipped.read_text(encoding="utf-8") != text:
            failures.add(where, f"{name} is not a copy of infra/nats/{name}")
    env = container_env(container, f"{sts['metadata']['name']}-0", example_secret(), where, failures)
    nats_config_test(files, env, config, where, failures)
    return [f"{sts['metadata']['name']}-0 with {', '.join(sorted(files))}"]
