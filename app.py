#!/usr/bin/env python3
"""The reference app: reads the config, builds every stage, synthesizes."""

from __future__ import annotations

from aws_cdk import App

from stacks.config import load_config
from stacks.platform import build_platform


def main() -> None:
    app = App()
    build_platform(app, load_config(app.node))
    app.synth()


if __name__ == "__main__":
    main()
