#!/usr/bin/env python3
"""check_chart.py CHART_DIR: checks of the Helm chart without helm (Debian 12 has no helm).

Run by scripts/check-package.sh. Fails (exit 1, one line per problem) when:
- Chart.yaml or values.yaml is not YAML, or Chart.yaml lacks apiVersion v2, name, version;
- a template names a .Values path that values.yaml does not have;
- the template actions are unbalanced (if/with/range/define against end);
- a template is not YAML once its actions are taken out (a line holding only an action is
  dropped, an action inside a line becomes a plain scalar): the static indentation is right;
- the chart lacks what it promises: a Deployment with a liveness probe on /livez and a
  readiness probe on /readyz on the admin port, latticed started with --http-admin (env
  LATTICED_HTTP_ADMIN), a metrics Service with prometheus.io annotations, a
  PodDisruptionBudget, NOTES.txt, 3 replicas by default, values for NATS URL, creds and TLS.
"""
import os
import re
import sys

import yaml

ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}", re.S)
VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def main(chart):
    problems = []

    def load(name):
        with open(os.path.join(chart, name), encoding="utf-8") as f:
            return yaml.safe_load(f)

    meta = load("Chart.yaml")
    values = load("values.yaml")
    for key, want in (("apiVersion", "v2"), ("name", "latticed")):
        if meta.get(key) != want:
            problems.append(f"Chart.yaml: {key} is {meta.get(key)!r}, want {want!r}")
    if not meta.get("version"):
        problems.append("Chart.yaml: no version")

    tdir = os.path.join(chart, "templates")
    texts = {}
    for name in sorted(os.listdir(tdir)):
        with open(os.path.join(tdir, name), encoding="utf-8") as f:
            texts[name] = f.read()
    for name, text in texts.items():
        for m in VALUES_REF.finditer(text):
            node = values
            for part in m.group(1).split(".")[1:]:
                if not isinstance(node, dict) or part not in node:
                    problems.append(f"{name}: .Values{m.group(1)} is not in values.yaml")
                    break
                node = node[part]
        opened = 0
        for m in ACTION.finditer(text):
            word = m.group(1).split(" ")[0]
            if word in ("if", "with", "range", "define"):
                opened += 1
            elif word == "end":
                opened -= 1
                if opened < 0:
                    problems.append(f"{name}: an end without an if/with/range/define")
        if opened > 0:
            problems.append(f"{name}: {opened} if/with/range/define without end")
        if not name.endswith(".yaml"):
            continue
        lines = []
        for line in text.splitlines():
            if ACTION.sub("", line).strip() == "":
                continue
            lines.append(ACTION.sub("X", line))
        try:
            yaml.safe_load("\n".join(lines))
        except yaml.YAMLError as e:
            problems.append(f"{name}: not YAML with its actions taken out: {e}")

    everything = "\n".join(texts.values())
    deployment = texts.get("deployment.yaml", "")
    musts = [
        ("deployment.yaml", deployment, "kind: Deployment"),
        ("deployment.yaml", deployment, "LATTICED_HTTP_ADMIN"),
        ("deployment.yaml", deployment, "httpGet: { path: /livez, port: admin }"),
        ("deployment.yaml", deployment, "httpGet: { path: /readyz, port: admin }"),
        ("templates", everything, "kind: Service"),
        ("templates", everything, "prometheus.io/scrape"),
        ("templates", everything, "kind: PodDisruptionBudget"),
    ]
    for where, text, what in musts:
        if what not in text:
            problems.append(f"{where}: no '{what}'")
    if re.search(r"livenessProbe:\s*\n\s*httpGet: { path: /livez", deployment) is None:
        problems.append("deployment.yaml: livenessProbe is not the /livez check")
    if re.search(r"readinessProbe:\s*\n\s*httpGet: { path: /readyz", deployment) is None:
        problems.append("deployment.yaml: readinessProbe is not the /readyz check")
    if "NOTES.txt" not in texts:
        problems.append("templates/NOTES.txt is missing")
    if values.get("replicaCount") != 3:
        problems.append(f"values.yaml: replicaCount {values.get('replicaCount')}, want 3")
    nats = values.get("nats") or {}
    for path in (("url",), ("creds", "secretName"), ("tls", "secretName")):
        node = nats
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            problems.append(f"values.yaml: no nats.{'.'.join(path)}")

    for p in problems:
        print(f"check_chart: {p}")
    if problems:
        return 1
    print(f"check_chart: {chart}: {len(texts)} templates, values and actions consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "deploy/helm/latticed"))
