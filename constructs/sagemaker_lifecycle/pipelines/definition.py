"""A pipeline definition built from typed steps: the JSON SageMaker Pipelines runs."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from aws_cdk import aws_iam as iam

from sagemaker_lifecycle.pipelines.parameters import Parameter
from sagemaker_lifecycle.pipelines.steps import Step
from sagemaker_lifecycle.pipelines.validation import DEFINITION_VERSION, validate_definition


class PipelineDefinition:
    """The definition (schema 2020-12-01) of a pipeline: parameters and steps.

    List the top-level steps only; steps inside a condition step's branches are part of that
    step. Nothing is checked until :meth:`validate` (which :class:`TrainingPipeline` calls
    at construction): then every step's arguments are checked against the SageMaker API
    model, and names, references and dependencies against each other.

    :param steps: the top-level steps, in any order (the pipeline orders them by their
        dependencies).
    :param parameters: the parameters steps use. Default: none.
    :param metadata: free-form string metadata stored with the definition. Default: none.
    """

    def __init__(
        self,
        *,
        steps: Sequence[Step],
        parameters: Sequence[Parameter] = (),
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        self.steps = list(steps)
        self.parameters = list(parameters)
        self.metadata = dict(metadata or {})

    def all_steps(self) -> Iterator[Step]:
        """Every step, condition branches included, depth first."""

        def walk(steps: Sequence[Step]) -> Iterator[Step]:
            for step in steps:
                yield step
                yield from walk(list(step.children()))

        return walk(self.steps)

    def step(self, name: str) -> Step:
        """The step named ``name``."""
        for step in self.all_steps():
            if step.name == name:
                return step
        raise KeyError(f"no step named {name!r}")

    def to_json(self) -> dict[str, Any]:
        """The definition as JSON-ready data (CDK tokens stay unresolved)."""
        return {
            "Version": DEFINITION_VERSION,
            "Metadata": dict(self.metadata),
            "Parameters": [p.declaration() for p in self.parameters],
            "Steps": [s.to_json() for s in self.steps],
        }

    def to_json_string(self) -> str:
        """:meth:`to_json` as compact, key-ordered JSON."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    def validate(self) -> list[str]:
        """Every problem of the definition, one message each; empty when it is valid."""
        return validate_definition(self.to_json())

    def passed_roles(self) -> list[iam.IRole]:
        """The roles steps hand to SageMaker, once each."""
        roles: dict[int, iam.IRole] = {}
        for step in self.all_steps():
            for role in step.passed_roles():
                roles.setdefault(id(role), role)
        return list(roles.values())

    def job_actions(self) -> dict[str, tuple[str, ...]]:
        """SageMaker actions the pipeline role needs, by job ARN resource type."""
        merged: dict[str, set[str]] = {}
        for step in self.all_steps():
            for resource, actions in step.job_actions().items():
                merged.setdefault(resource, set()).update(actions)
        return {resource: tuple(sorted(actions)) for resource, actions in sorted(merged.items())}
