"""ModelCard: the content in CloudFormation's schema, KMS, status, retention, validation."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemaker_lifecycle.model_card import (
    BusinessDetails,
    IntendedUses,
    ModelCard,
    ModelCardStatus,
    ObjectiveDirection,
    ObjectiveFunction,
    RiskRating,
    TrainingDetails,
    TrainingMetric,
)
from sagemaker_lifecycle.model_registry import ModelRegistry
from tests.support import new_stack, resources_of_type, template_of

USES = IntendedUses(
    risk_rating=RiskRating.MEDIUM,
    purpose_of_model="Predict which customers will cancel in the next 30 days",
    intended_uses="Prioritise retention offers; never to deny service",
    factors_affecting_model_efficiency="Seasonality; new products",
    explanations_for_risk_rating="Wrong predictions cost an offer, not a customer",
)
TRAINING = TrainingDetails(
    objective_function=ObjectiveFunction(ObjectiveDirection.MAXIMIZE, facet="AUC", notes="holdout"),
    training_observations="Converges in 200 rounds",
    training_job_arn="arn:aws:sagemaker:us-east-1:123456789012:training-job/churn-1",
    training_datasets=["s3://curated/features/churn/"],
    training_images=["683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"],
    hyper_parameters={"max_depth": "5", "eta": "0.2"},
    metrics=[TrainingMetric("auc", 0.91, "holdout"), TrainingMetric("logloss", 0.0)],
)


def _registry(stack: Stack) -> ModelRegistry:
    return ModelRegistry(stack, "Registry", model_package_group_name="churn-model")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    stack = new_stack()
    ModelCard(
        stack,
        "Card",
        registry=_registry(stack),
        intended_uses=USES,
        training_details=TRAINING,
        status=ModelCardStatus.PENDING_REVIEW,
        model_description="XGBoost churn classifier",
        model_owner="risk-ml",
        problem_type="Binary Classification",
        algorithm_type="XGBoost",
        business_details=BusinessDetails(business_problem="Churn", line_of_business="Retail"),
        caveats_and_recommendations="Retrain monthly",
        ethical_considerations="No protected attributes are features",
        custom_details={"review_board": "ml-risk"},
        tags={"team": "risk"},
    )
    return template_of(stack)


def _card(template: dict[str, Any]) -> dict[str, Any]:
    (card,) = resources_of_type(template, "AWS::SageMaker::ModelCard").values()
    return card  # type: ignore[no-any-return]


def test_card_documents_the_group_and_is_retained(template: dict[str, Any]) -> None:
    card = _card(template)
    assert card["Properties"]["ModelCardName"] == "churn-model"
    assert card["Properties"]["ModelCardStatus"] == "PendingReview"
    assert card["Properties"]["Tags"] == [{"Key": "team", "Value": "risk"}]
    assert card["DeletionPolicy"] == "Retain"
    assert card["Properties"]["Content"]["ModelOverview"] == {
        "ModelName": "churn-model",
        "ModelDescription": "XGBoost churn classifier",
        "ModelOwner": "risk-ml",
        "ProblemType": "Binary Classification",
        "AlgorithmType": "XGBoost",
    }


def test_card_content_is_encrypted_with_a_rotating_key(template: dict[str, Any]) -> None:
    (key_id, key), *_ = resources_of_type(template, "AWS::KMS::Key").items()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert _card(template)["Properties"]["SecurityConfig"] == {
        "KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]}
    }


def test_intended_uses_carry_the_risk_rating(template: dict[str, Any]) -> None:
    assert _card(template)["Properties"]["Content"]["IntendedUses"] == {
        "PurposeOfModel": USES.purpose_of_model,
        "IntendedUses": USES.intended_uses,
        "FactorsAffectingModelEfficiency": USES.factors_affecting_model_efficiency,
        "RiskRating": "Medium",
        "ExplanationsForRiskRating": USES.explanations_for_risk_rating,
    }


def test_training_details_follow_the_schema(template: dict[str, Any]) -> None:
    training = _card(template)["Properties"]["Content"]["TrainingDetails"]
    assert training["ObjectiveFunction"] == {
        "Function": {"Function": "Maximize", "Facet": "AUC"},
        "Notes": "holdout",
    }
    assert training["TrainingObservations"] == "Converges in 200 rounds"
    job = training["TrainingJobDetails"]
    assert job["TrainingArn"] == TRAINING.training_job_arn
    assert job["TrainingDatasets"] == ["s3://curated/features/churn/"]
    assert job["TrainingEnvironment"] == {"ContainerImage": list(TRAINING.training_images)}
    assert job["UserProvidedHyperParameters"] == [
        {"Name": "eta", "Value": "0.2"},
        {"Name": "max_depth", "Value": "5"},
    ]
    assert job["UserProvidedTrainingMetrics"] == [
        {"Name": "auc", "Value": 0.91, "Notes": "holdout"},
        {"Name": "logloss", "Value": 0.0},
    ]


def test_business_and_additional_information(template: dict[str, Any]) -> None:
    content = _card(template)["Properties"]["Content"]
    assert content["BusinessDetails"] == {"BusinessProblem": "Churn", "LineOfBusiness": "Retail"}
    assert content["AdditionalInformation"] == {
        "CaveatsAndRecommendations": "Retrain monthly",
        "EthicalConsiderations": "No protected attributes are features",
        "CustomDetails": {"review_board": "ml-risk"},
    }


def test_a_minimal_card_is_a_draft_with_only_intended_uses_and_a_given_key() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Shared", enable_key_rotation=True)
    card = ModelCard(
        stack,
        "Card",
        registry=_registry(stack),
        intended_uses=IntendedUses(risk_rating=RiskRating.UNKNOWN),
        model_card_name="churn-card",
        key=key,
        removal_policy=RemovalPolicy.DESTROY,
    )
    template = template_of(stack)
    resource = _card(template)
    assert resource["Properties"]["ModelCardStatus"] == "Draft"
    assert resource["Properties"]["Content"] == {
        "ModelOverview": {"ModelName": "churn-model"},
        "IntendedUses": {"RiskRating": "Unknown"},
    }
    assert resource["DeletionPolicy"] == "Delete"
    assert len(resources_of_type(template, "AWS::KMS::Key")) == 1
    assert card.key is key
    assert card.model_card_name == "churn-card"


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"model_card_name": "churn_card"}, "model_card_name must match"),
        (
            {"intended_uses": IntendedUses(risk_rating="High")},  # type: ignore[arg-type]
            "intended_uses.risk_rating must be a RiskRating",
        ),
        (
            {"intended_uses": IntendedUses(RiskRating.LOW, purpose_of_model="x" * 2049)},
            "intended_uses.purpose_of_model must be at most 2048 characters, got 2049",
        ),
        ({"model_description": "x" * 1025}, "model_description must be at most 1024"),
        (
            {"caveats_and_recommendations": "x" * 2049},
            "caveats_and_recommendations must be at most 2048",
        ),
        (
            {"business_details": BusinessDetails(line_of_business="x" * 2049)},
            "business_details.line_of_business",
        ),
        ({"custom_details": {"1st": "x"}}, "custom_details key '1st'"),
        ({"custom_details": {"k": "x" * 1025}}, r"custom_details\['k'\] must be at most 1024"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "tags must hold at most 50"),
        (
            {
                "training_details": TrainingDetails(
                    training_datasets=[f"s3://b/{i}" for i in range(16)]
                )
            },
            "training_details.training_datasets must hold at most 15, got 16",
        ),
        (
            {
                "training_details": TrainingDetails(
                    hyper_parameters={f"p{i}": "1" for i in range(101)}
                )
            },
            "training_details.hyper_parameters must hold at most 100",
        ),
        (
            {"training_details": TrainingDetails(hyper_parameters={"eta": ""})},
            r"training_details.hyper_parameters\['eta'\] must be 1 to 255",
        ),
        (
            {"training_details": TrainingDetails(metrics=[TrainingMetric("auc", float("nan"))])},
            r"training_details.metrics\[0\].value must be a finite number",
        ),
        (
            {"training_details": TrainingDetails(metrics=[TrainingMetric("m", 1.0)] * 51)},
            "training_details.metrics must hold at most 50, got 51",
        ),
        (
            {
                "training_details": TrainingDetails(
                    objective_function=ObjectiveFunction(
                        ObjectiveDirection.MINIMIZE, facet="x" * 64
                    )
                )
            },
            "training_details.objective_function.facet must be at most 63",
        ),
        (
            {
                "training_details": TrainingDetails(
                    objective_function=ObjectiveFunction("Minimize")  # type: ignore[arg-type]
                )
            },
            "objective_function.direction must be an ObjectiveDirection",
        ),
    ],
)
def test_invalid_content_is_rejected_at_synth_time(props: dict[str, Any], message: str) -> None:
    stack = new_stack()
    values: dict[str, Any] = {"registry": _registry(stack), "intended_uses": USES, **props}
    with pytest.raises(ValueError, match=message):
        ModelCard(stack, "Card", **values)


@settings(max_examples=40, deadline=None)
@given(length=st.integers(min_value=0, max_value=4096))
def test_intended_use_text_is_accepted_exactly_up_to_the_schema_limit(length: int) -> None:
    stack = new_stack()
    uses = IntendedUses(RiskRating.LOW, intended_uses="u" * length)
    if length <= 2048:
        ModelCard(stack, "Card", registry=_registry(stack), intended_uses=uses)
    else:
        with pytest.raises(ValueError, match=f"got {length}"):
            ModelCard(stack, "Card", registry=_registry(stack), intended_uses=uses)
