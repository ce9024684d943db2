"""`make check-deploy`: runs every deployment check (infra/dev/check-deploy.sh installs the
tools and calls this with the tools' venv), prints each one's result — a failure names the file
and the reason — and exits non-zero when any failed. `python infra/dev/deploy_checks NAME…`
runs only the named checks."""

import sys
import traceback

import compose
import kube
import monitoring
from common import ROOT, Failures, run, tail, tool

CONTAINERFILES = [ROOT / "Containerfile", ROOT / "infra/images/Containerfile"]


def check_containerfiles(failures):
    """hadolint on every Containerfile, failing on any finding (info and up)."""
    for path in CONTAINERFILES:
        code, out, err = run([tool("hadolint"), "--no-color", "--failure-threshold", "info", str(path)])
        if code != 0:
            failures.add(path, f"hadolint:{tail(out + err, 20)}")
    return [", ".join(str(p.relative_to(ROOT)) for p in CONTAINERFILES)]


CHECKS = {
    "k8s-manifests": kube.check_manifests,
    "k8s-kustomization": kube.check_kustomization,
    "k8s-nats": kube.check_nats,
    "compose": compose.check_compose,
    "containerfiles": check_containerfiles,
    "prometheus-schemas": monitoring.check_schemas,
    "promql": monitoring.check_promql,
}


def main(names):
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        print(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}", file=sys.stderr)
        return 2
    passed = failed = 0
    for name in names or CHECKS:
        failures = Failures()
        try:
            notes = CHECKS[name](failures)
        except Exception:  # a check that breaks is a failed check, with its trace
            failures.add("infra/dev/deploy_checks", f"{name} broke:{tail(traceback.format_exc(), 30)}")
            notes = []
        status = "FAIL" if failures.items else "ok"
        print(f"{status:4} {name}" + (f" ({'; '.join(notes)})" if notes else ""))
        for item in failures.items:
            print(f"     {item}")
        passed += not failures.items
        failed += bool(failures.items)
    print(f"deploy checks: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
