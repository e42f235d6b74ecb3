"""One line about a synthesized cloud assembly: stacks, resources, nag findings, time.

``--by-rule`` adds the acknowledged cdk-nag findings counted by rule.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

_ACKNOWLEDGED = "aws:cdk:acknowledged-rules"


def summarize(outdir: Path) -> dict[str, Any]:
    """Counts read from ``outdir`` (a ``cdk.out`` folder)."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    stacks = [
        artifact
        for artifact in manifest["artifacts"].values()
        if artifact["type"] == "aws:cloudformation:stack"
    ]
    resources = 0
    for stack in stacks:
        template = json.loads(
            (outdir / stack["properties"]["templateFile"]).read_text(encoding="utf-8")
        )
        resources += len(template.get("Resources", {}))
    acknowledged: Counter[str] = Counter()
    for metadata_file in outdir.glob("*.metadata.json"):
        for entries in json.loads(metadata_file.read_text(encoding="utf-8")).values():
            for entry in entries:
                if entry["type"] == _ACKNOWLEDGED:
                    for rule in entry["data"]:
                        acknowledged[rule.removeprefix("Annotation::")] += 1
    open_findings = 0
    report = outdir / "validation-report.json"
    if report.exists():
        for plugin in json.loads(report.read_text(encoding="utf-8")).get("pluginReports", []):
            for violation in plugin.get("violations", []):
                open_findings += len(violation.get("violatingConstructs", []))
    return {
        "stacks": len(stacks),
        "resources": resources,
        "open_findings": open_findings,
        "acknowledged": acknowledged,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--started", type=float, help="epoch seconds when synth started")
    parser.add_argument("--by-rule", action="store_true", help="list acknowledgements by rule")
    args = parser.parse_args()
    counts = summarize(args.outdir)
    acknowledged: Counter[str] = counts["acknowledged"]
    took = f" in {time.time() - args.started:.1f} s" if args.started else ""
    print(
        f"synth: {counts['stacks']} stacks, {counts['resources']} resources, "
        f"{counts['open_findings']} open cdk-nag findings, "
        f"{sum(acknowledged.values())} acknowledged{took}"
    )
    if args.by_rule:
        for rule, count in sorted(acknowledged.items()):
            print(f"  {count:3d}  {rule}")


if __name__ == "__main__":
    main()
