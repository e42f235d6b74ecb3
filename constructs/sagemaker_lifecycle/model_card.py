"""A SageMaker Model Card documenting one model family: intended uses, risk, training."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import CfnTag, RemovalPolicy, Token
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from sagemaker_lifecycle._internal.sagemaker_api import check_name
from sagemaker_lifecycle._internal.validation import ValidationErrors
from sagemaker_lifecycle.model_registry import ModelRegistryBase

# Limits of the AWS::SageMaker::ModelCard content, from its CloudFormation resource schema.
_LONG_TEXT = 2048  # intended uses, business details, additional information
_TEXT = 1024  # overview fields, training observations, notes
_OBJECTIVE_TERM = 63  # objective function facet and condition
_MAX_LIST = 15  # artifacts, datasets, images
_MAX_HYPER_PARAMETERS = 100
_MAX_METRICS = 50
_NAME_VALUE = 255  # hyper-parameter and metric names and values
_MAX_CONTENT = 100_000
_CUSTOM_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class RiskRating(enum.Enum):
    """How risky the model's use is, as your organization rates it."""

    HIGH = "High"
    MEDIUM = "Medium"
    LOW = "Low"
    UNKNOWN = "Unknown"


class ModelCardStatus(enum.Enum):
    """Where the card is in your organization's review."""

    DRAFT = "Draft"
    PENDING_REVIEW = "PendingReview"
    APPROVED = "Approved"
    ARCHIVED = "Archived"


class ObjectiveDirection(enum.Enum):
    """Whether training maximizes or minimizes the objective."""

    MAXIMIZE = "Maximize"
    MINIMIZE = "Minimize"


@dataclass(frozen=True)
class IntendedUses:
    """What the model is for, and how risky that is."""

    risk_rating: RiskRating
    """The risk of the model's use."""
    purpose_of_model: str | None = None
    """Why the model was developed. Default: none."""
    intended_uses: str | None = None
    """The uses the model is meant for. Default: none."""
    factors_affecting_model_efficiency: str | None = None
    """What makes the model work worse (data drift, populations). Default: none."""
    explanations_for_risk_rating: str | None = None
    """Why the risk is rated so. Default: none."""


@dataclass(frozen=True)
class TrainingMetric:
    """A metric of the training or evaluation, with its value."""

    name: str
    value: float
    notes: str | None = None


@dataclass(frozen=True)
class ObjectiveFunction:
    """What training optimizes."""

    direction: ObjectiveDirection
    facet: str | None = None
    """What is optimized, such as ``"AUC"`` or ``"RMSE"``. Default: none."""
    condition: str | None = None
    """Under which condition. Default: none."""
    notes: str | None = None
    """Anything else reviewers should know. Default: none."""


@dataclass(frozen=True)
class TrainingDetails:
    """How the model family is trained."""

    objective_function: ObjectiveFunction | None = None
    """What training optimizes. Default: none."""
    training_observations: str | None = None
    """What was observed while training. Default: none."""
    training_job_arn: str | None = None
    """The SageMaker training job of the documented version. Default: none."""
    training_datasets: Sequence[str] = ()
    """Where the training data lives (S3 URIs), at most 15. Default: none."""
    training_images: Sequence[str] = ()
    """The training container images, at most 15. Default: none."""
    hyper_parameters: Mapping[str, str] = field(default_factory=dict)
    """The hyper-parameters set by the user, at most 100. Default: none."""
    metrics: Sequence[TrainingMetric] = ()
    """The metrics the user reports, at most 50. Default: none."""


@dataclass(frozen=True)
class BusinessDetails:
    """The business context of the model."""

    business_problem: str | None = None
    business_stakeholders: str | None = None
    line_of_business: str | None = None


class ModelCard(Construct):
    """An ``AWS::SageMaker::ModelCard`` documenting the model family of a registry.

    The card names the model package group it documents, and records its intended uses and
    risk rating and how it is trained. Its content is checked against the card's schema when
    the app is synthesized, it is encrypted with a customer-managed KMS key, and it is
    retained when the stack is deleted (cards are part of the model's audit trail).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        registry: ModelRegistryBase,
        intended_uses: IntendedUses,
        training_details: TrainingDetails | None = None,
        model_card_name: str | None = None,
        status: ModelCardStatus = ModelCardStatus.DRAFT,
        model_description: str | None = None,
        model_owner: str | None = None,
        model_creator: str | None = None,
        problem_type: str | None = None,
        algorithm_type: str | None = None,
        business_details: BusinessDetails | None = None,
        caveats_and_recommendations: str | None = None,
        ethical_considerations: str | None = None,
        custom_details: Mapping[str, str] | None = None,
        key: kms.IKey | None = None,
        tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param registry: the model package group whose model family the card documents.
        :param intended_uses: what the model is for, with its risk rating.
        :param training_details: how the model is trained. Default: none.
        :param model_card_name: the card's name (1 to 63 letters, digits and hyphens); it
            cannot change once created. Default: the model package group's name.
        :param status: the card's review status. Default: DRAFT.
        :param model_description: what the model does. Default: none.
        :param model_owner: who owns the model. Default: none.
        :param model_creator: who built it. Default: none.
        :param problem_type: the problem solved, such as ``"Binary Classification"``.
            Default: none.
        :param algorithm_type: the algorithm, such as ``"XGBoost"``. Default: none.
        :param business_details: the business context. Default: none.
        :param caveats_and_recommendations: what users of the model must know. Default: none.
        :param ethical_considerations: the ethical considerations. Default: none.
        :param custom_details: other details, keys of letters, digits and underscores.
            Default: none.
        :param key: KMS key encrypting the card's content. It cannot change once created.
            Default: a new key with rotation on.
        :param tags: tags of the card, at most 50. Default: none.
        :param removal_policy: what happens to the card when the stack is deleted.
            Default: RETAIN.
        """
        super().__init__(scope, id)
        name = model_card_name or registry.model_package_group_name
        errors = ValidationErrors("ModelCard")
        check_name(errors, "model_card_name", name, "EntityName")
        checker = _ContentChecker(errors)
        content = _content(
            checker,
            intended_uses=intended_uses,
            training_details=training_details,
            overview={
                "ModelName": registry.model_package_group_name,
                "ModelDescription": model_description,
                "ModelOwner": model_owner,
                "ModelCreator": model_creator,
                "ProblemType": problem_type,
                "AlgorithmType": algorithm_type,
            },
            business_details=business_details,
            additional={
                "CaveatsAndRecommendations": caveats_and_recommendations,
                "EthicalConsiderations": ethical_considerations,
            },
            custom_details=dict(custom_details or {}),
        )
        tag_list = dict(tags or {})
        errors.check(len(tag_list) <= 50, f"tags must hold at most 50, got {len(tag_list)}")
        errors.raise_if_any()

        self.key: kms.IKey = key or kms.Key(
            self,
            "Key",
            description=f"Encrypts the model card {name}",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self.model_card_name = name
        self.resource = sagemaker.CfnModelCard(
            self,
            "Resource",
            model_card_name=name,
            model_card_status=status.value,
            # The content is set below in CloudFormation's own spelling: jsii would need
            # camelCase keys for every nested struct of a dict, and the schema checks above
            # are written against the CloudFormation names.
            content=sagemaker.CfnModelCard.ContentProperty(),
            security_config=sagemaker.CfnModelCard.SecurityConfigProperty(
                kms_key_id=self.key.key_arn
            ),
            tags=[CfnTag(key=k, value=v) for k, v in sorted(tag_list.items())] or None,
        )
        self.resource.add_property_override("Content", content)
        self.resource.apply_removal_policy(removal_policy)
        #: ARN of the card.
        self.model_card_arn = self.resource.attr_model_card_arn


class _ContentChecker:
    """Checks card fields against the schema's limits and drops the empty ones."""

    def __init__(self, errors: ValidationErrors) -> None:
        self.errors = errors

    def text(self, prop: str, value: str | None, limit: int) -> str | None:
        if value is None or Token.is_unresolved(value):
            return value
        if not isinstance(value, str):
            self.errors.add(f"{prop} must be text, got {value!r}")
            return None
        self.errors.check(
            len(value) <= limit,
            f"{prop} must be at most {limit} characters, got {len(value)}",
        )
        return value or None

    def texts(self, prop: str, values: Sequence[str], limit: int) -> list[str] | None:
        self.errors.check(
            len(values) <= _MAX_LIST, f"{prop} must hold at most {_MAX_LIST}, got {len(values)}"
        )
        checked = [self.text(f"{prop}[{i}]", v, limit) for i, v in enumerate(values)]
        return [v for v in checked if v] or None

    def name_value(self, prop: str, value: str) -> str:
        if not Token.is_unresolved(value):
            self.errors.check(
                isinstance(value, str) and 1 <= len(value) <= _NAME_VALUE,
                f"{prop} must be 1 to {_NAME_VALUE} characters, got {value!r}",
            )
        return value

    def number(self, prop: str, value: float) -> float:
        self.errors.check(
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value),
            f"{prop} must be a finite number, got {value!r}",
        )
        return value


def _content(
    checker: _ContentChecker,
    *,
    intended_uses: IntendedUses,
    training_details: TrainingDetails | None,
    overview: Mapping[str, str | None],
    business_details: BusinessDetails | None,
    additional: Mapping[str, str | None],
    custom_details: dict[str, str],
) -> dict[str, Any]:
    errors = checker.errors
    if not isinstance(intended_uses.risk_rating, RiskRating):
        errors.add(
            "intended_uses.risk_rating must be a RiskRating "
            f"({', '.join(r.value for r in RiskRating)}), got {intended_uses.risk_rating!r}"
        )
    uses = {
        "PurposeOfModel": checker.text(
            "intended_uses.purpose_of_model", intended_uses.purpose_of_model, _LONG_TEXT
        ),
        "IntendedUses": checker.text(
            "intended_uses.intended_uses", intended_uses.intended_uses, _LONG_TEXT
        ),
        "FactorsAffectingModelEfficiency": checker.text(
            "intended_uses.factors_affecting_model_efficiency",
            intended_uses.factors_affecting_model_efficiency,
            _LONG_TEXT,
        ),
        "RiskRating": getattr(intended_uses.risk_rating, "value", None),
        "ExplanationsForRiskRating": checker.text(
            "intended_uses.explanations_for_risk_rating",
            intended_uses.explanations_for_risk_rating,
            _LONG_TEXT,
        ),
    }
    content: dict[str, Any] = {
        "ModelOverview": _compact(
            {k: checker.text(_snake(k), v, _TEXT) for k, v in overview.items()}
        ),
        "IntendedUses": _compact(uses),
    }
    if training_details is not None:
        content["TrainingDetails"] = _training(checker, training_details)
    if business_details is not None:
        content["BusinessDetails"] = _compact(
            {
                "BusinessProblem": checker.text(
                    "business_details.business_problem",
                    business_details.business_problem,
                    _LONG_TEXT,
                ),
                "BusinessStakeholders": checker.text(
                    "business_details.business_stakeholders",
                    business_details.business_stakeholders,
                    _LONG_TEXT,
                ),
                "LineOfBusiness": checker.text(
                    "business_details.line_of_business",
                    business_details.line_of_business,
                    _LONG_TEXT,
                ),
            }
        )
    for key, value in custom_details.items():
        errors.check(
            bool(_CUSTOM_KEY.match(key)),
            f"custom_details key {key!r} must be letters, digits and _ not starting with a digit",
        )
        checker.text(f"custom_details[{key!r}]", value, _TEXT)
    info = {k: checker.text(_snake(k), v, _LONG_TEXT) for k, v in additional.items()}
    info_content = _compact({**info, "CustomDetails": custom_details or None})
    if info_content:
        content["AdditionalInformation"] = info_content
    size = len(str(content))
    errors.check(
        size <= _MAX_CONTENT,
        f"the model card content must be at most {_MAX_CONTENT} characters, got about {size}",
    )
    return {k: v for k, v in content.items() if v}


def _training(checker: _ContentChecker, details: TrainingDetails) -> dict[str, Any]:
    errors = checker.errors
    job: dict[str, Any] = {
        "TrainingArn": checker.text(
            "training_details.training_job_arn", details.training_job_arn, _TEXT
        ),
        "TrainingDatasets": checker.texts(
            "training_details.training_datasets", details.training_datasets, _TEXT
        ),
    }
    images = checker.texts("training_details.training_images", details.training_images, _TEXT)
    if images:
        job["TrainingEnvironment"] = {"ContainerImage": images}
    errors.check(
        len(details.hyper_parameters) <= _MAX_HYPER_PARAMETERS,
        f"training_details.hyper_parameters must hold at most {_MAX_HYPER_PARAMETERS}, "
        f"got {len(details.hyper_parameters)}",
    )
    job["UserProvidedHyperParameters"] = [
        {
            "Name": checker.name_value(f"training_details.hyper_parameters key {k!r}", k),
            "Value": checker.name_value(f"training_details.hyper_parameters[{k!r}]", v),
        }
        for k, v in sorted(details.hyper_parameters.items())
    ] or None
    errors.check(
        len(details.metrics) <= _MAX_METRICS,
        f"training_details.metrics must hold at most {_MAX_METRICS}, got {len(details.metrics)}",
    )
    job["UserProvidedTrainingMetrics"] = [
        _compact(
            {
                "Name": checker.name_value(f"training_details.metrics[{i}].name", m.name),
                "Value": checker.number(f"training_details.metrics[{i}].value", m.value),
                "Notes": checker.text(f"training_details.metrics[{i}].notes", m.notes, _TEXT),
            }
        )
        for i, m in enumerate(details.metrics)
    ] or None
    training: dict[str, Any] = {
        "TrainingObservations": checker.text(
            "training_details.training_observations", details.training_observations, _TEXT
        ),
        "TrainingJobDetails": _compact(job) or None,
    }
    objective = details.objective_function
    if objective is not None:
        if not isinstance(objective.direction, ObjectiveDirection):
            errors.add(
                "training_details.objective_function.direction must be an ObjectiveDirection "
                f"(Maximize or Minimize), got {objective.direction!r}"
            )
        training["ObjectiveFunction"] = _compact(
            {
                "Function": _compact(
                    {
                        "Function": getattr(objective.direction, "value", None),
                        "Facet": checker.text(
                            "training_details.objective_function.facet",
                            objective.facet,
                            _OBJECTIVE_TERM,
                        ),
                        "Condition": checker.text(
                            "training_details.objective_function.condition",
                            objective.condition,
                            _OBJECTIVE_TERM,
                        ),
                    }
                ),
                "Notes": checker.text(
                    "training_details.objective_function.notes", objective.notes, _TEXT
                ),
            }
        )
    return _compact(training)


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v not in ([], {})}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
