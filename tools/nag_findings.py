"""Print the open cdk-nag findings of a failed synth, one line each: rule, construct path."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(report: str) -> None:
    data = json.loads(Path(report).read_text(encoding="utf-8"))
    for plugin in data.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                print(f"{violation['ruleName']}\t{construct['constructPath']}")
                print(f"    {violation['description'][:160]}")


if __name__ == "__main__":
    main(sys.argv[1])
