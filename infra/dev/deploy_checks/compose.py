"""infra/compose.yaml checked by real tools: rendered by `podman-compose config` (variables
filled in, anchors and merges applied; every `${NAME:?…}` the file requires given a
placeholder, `.env` files ignored), the file and each rendering (with and without each profile)
validated against the compose-spec JSON schema that check-jsonschema ships, and every NATS node
started by `nats-server -t` from the files it mounts with the environment it is given."""

import os
import re
import tempfile
from pathlib import Path

import yaml

from common import ROOT, nats_config_test, run, tail, tool

COMPOSE = ROOT / "infra/compose.yaml"
REQUIRED = re.compile(r"\$\{([A-Za-z0-9_]+):\?")
# The oldest NATS server with what the project uses (message schedules, per-key TTLs).
NATS_MIN = (2, 12)


def schema_check(path, shown, failures):
    """check-jsonschema with its vendored compose-spec schema."""
    code, out, err = run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)])
    if code != 0:
        failures.add(shown, f"does not match the compose-spec schema:{tail(out + err, 20)}")


def render(profile, failures):
    """`podman-compose config` of the file (with `profile` enabled), parsed; None on failure."""
    text = COMPOSE.read_text(encoding="utf-8")
    env = {name: f"placeholder{name.lower().replace('_', '')}" for name in REQUIRED.findall(text)}
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    args = [tool("podman-compose"), "--dry-run", "--env-file", os.devnull, "-f", str(COMPOSE)]
    if profile:
        args += ["--profile", profile]
    code, out, err = run(args + ["config"], env=env, cwd=COMPOSE.parent)
    shown = f"{COMPOSE} (profile {profile})" if profile else COMPOSE
    if code != 0:
        failures.add(shown, f"podman-compose config failed:{tail(err)}")
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(out)
        f.flush()
        schema_check(f.name, f"{shown}, as rendered", failures)
    return yaml.safe_load(out)


def nats_image_version(image):
    """(major, minor, patch) of a nats image tag such as `…/nats:2.14.5-alpine`, or None."""
    m = re.search(r"/nats:(\d+)\.(\d+)\.(\d+)(-[a-z0-9.]+)?$", image or "")
    return tuple(int(x) for x in m.groups()[:3]) if m else None


def check_nats_nodes(rendered, failures):
    """Each NATS service: a pinned image the project can use, the same as Kubernetes', and
    `nats-server -t` on the mounted files with the service's environment."""
    k8s = (ROOT / "infra/k8s/nats.yaml").read_text(encoding="utf-8")
    k8s_image = re.search(r"image: (\S+/nats:\S+)", k8s)
    nodes = [n for n, s in rendered["services"].items() if "/nats:" in s.get("image", "")]
    if not nodes:
        failures.add(COMPOSE, "no NATS service")
    for name in nodes:
        service = rendered["services"][name]
        where = f"{COMPOSE} ({name})"
        version = nats_image_version(service["image"])
        if not version or version[:2] < NATS_MIN:
            failures.add(where, f"{service['image']}: a pinned nats ≥ {NATS_MIN[0]}.{NATS_MIN[1]} is needed")
        if not k8s_image or k8s_image.group(1) != service["image"]:
            failures.add(where, f"{service['image']} is not the image infra/k8s/nats.yaml runs")
        command = service.get("command") or []
        if len(command) != 2 or command[0] != "-c":
            failures.add(where, f"must run `-c <config>`, not {command}")
            continue
        folder, config = os.path.split(command[1])
        files = {}
        for volume in service.get("volumes") or []:
            if isinstance(volume, dict):
                source, target = volume.get("source", ""), volume.get("target", "")
            else:
                source, target = (volume.split(":") + [""])[:2]
            if os.path.dirname(target) == folder and source.startswith("."):
                files[os.path.basename(target)] = (COMPOSE.parent / source).read_text(encoding="utf-8")
        if config not in files:
            failures.add(where, f"{command[1]} is not mounted from the repository")
            continue
        nats_config_test(files, service.get("environment") or {}, config, where, failures)
    return nodes


def check_compose(failures):
    schema_check(COMPOSE, COMPOSE, failures)
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    profiles = sorted({p for s in raw["services"].values() for p in s.get("profiles", [])})
    rendered = None
    for profile in [None] + profiles:
        rendered = render(profile, failures) or rendered
    if rendered is None:
        return []
    nodes = check_nats_nodes(rendered, failures)
    return [f"rendered without a profile and with {', '.join(profiles) or 'none'}",
            f"nats-server -t as {', '.join(nodes)}"]
