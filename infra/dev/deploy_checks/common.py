"""What every deployment check shares: the repository's paths, the tools installed by
infra/dev/check-deploy.sh, YAML reading, a failure list that names the file and the reason, and
`nats-server -t` run on a folder of NATS configuration with a given environment."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
NATS_SERVER = ROOT / ".tools/venv/bin/nats-server"


class Failures:
    """The problems one check found, each with the file it is about."""

    def __init__(self):
        self.items = []

    def add(self, file, why):
        """Records that `file` (a path, shown relative to the repository) fails for `why`."""
        path = Path(file)
        if path.is_absolute() and ROOT in path.parents:
            path = path.relative_to(ROOT)
        self.items.append(f"{path}: {why}")


def tool(name):
    """A command installed into the checks' venv."""
    return str(VENV_BIN / name)


def run(args, env=None, cwd=None, stdin=None):
    """Runs a command; returns (exit code, stdout, stderr) as text."""
    done = subprocess.run(
        args, env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120
    )
    return done.returncode, done.stdout, done.stderr


def tail(text, lines=12):
    """The last lines of a tool's output, indented, for a failure message."""
    kept = [l for l in text.strip().splitlines() if l.strip()][-lines:]
    return "\n    " + "\n    ".join(kept) if kept else ""


def yaml_documents(path):
    """Every non-empty document of a YAML file."""
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def nats_config_test(files, env, config_name, what, failures):
    """Writes `files` (name → text) into one folder, as the servers mount them, and runs
    `nats-server -t -c <folder>/<config_name>` with exactly `env` (plus PATH), the store
    folder moved into a temporary one; a refusal is recorded against `what`."""
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            Path(folder, name).write_text(text, encoding="utf-8")
        env = dict(env)
        if "NATS_STORE_DIR" in env:
            env["NATS_STORE_DIR"] = str(Path(folder, "store"))
        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        args = [str(NATS_SERVER), "-t", "-c", str(Path(folder, config_name))]
        code, out, err = run(args, env=env)
        if code != 0:
            failures.add(what, f"nats-server -t refused the configuration:{tail(out + err)}")
