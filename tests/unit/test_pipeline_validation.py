"""Definition validation against botocore: every class of mistake fails with step and path."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sagemaker_lifecycle.pipelines import (
    ConditionGreaterThan,
    ConditionStep,
    FailStep,
    JsonGet,
    ParameterInteger,
    PipelineDefinition,
    PropertyFile,
    validate_definition,
)
from sagemaker_lifecycle.pipelines.expressions import PropertyReference

ROLE = "arn:aws:iam::111111111111:role/job"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def _processing(name: str = "Prep", **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "RoleArn": ROLE,
            "AppSpecification": {"ImageUri": IMAGE},
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceType": "ml.m5.xlarge",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 30,
                }
            },
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "report",
                        "S3Output": {
                            "S3Uri": "s3://bucket/report",
                            "LocalPath": "/opt/ml/processing/report",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
        },
        "PropertyFiles": [
            {"PropertyFileName": "Report", "OutputName": "report", "FilePath": "report.json"}
        ],
        **extra,
    }


def _training(name: str = "Train", **arguments: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/models"},
        "ResourceConfig": {
            "InstanceType": "ml.m5.xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 30,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": {
                            "Get": "Steps.Prep.ProcessingOutputConfig.Outputs['report']"
                            ".S3Output.S3Uri"
                        },
                    }
                },
            }
        ],
    }
    base.update(arguments)
    return {"Name": name, "Type": "Training", "Arguments": base}


def _definition(*steps: dict[str, Any], parameters: list[Any] | None = None) -> dict[str, Any]:
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": parameters or [{"Name": "Depth", "Type": "Integer", "DefaultValue": 6}],
        "Steps": list(steps) or [_processing(), _training()],
    }


def _only_error(definition: dict[str, Any]) -> str:
    errors = validate_definition(definition)
    assert len(errors) == 1, errors
    return errors[0]


def test_a_valid_definition_has_no_errors() -> None:
    assert validate_definition(_definition()) == []


def test_a_misspelled_key_names_the_step_and_path_and_suggests_the_fix() -> None:
    step = _training()
    step["Arguments"]["ResourceConfig"]["InstanceCont"] = step["Arguments"]["ResourceConfig"].pop(
        "InstanceCount"
    )
    message = _only_error(_definition(_processing(), step))
    assert message.startswith("step 'Train': Arguments.ResourceConfig.InstanceCont: unknown key")
    assert "did you mean 'InstanceCount'?" in message


def test_a_wrong_type_names_the_expected_type_and_the_value() -> None:
    step = _training()
    step["Arguments"]["ResourceConfig"]["InstanceCount"] = "two"
    assert (
        _only_error(_definition(_processing(), step))
        == "step 'Train': Arguments.ResourceConfig.InstanceCount: expected integer, got 'two'"
    )


def test_a_boolean_is_not_an_integer() -> None:
    step = _training()
    step["Arguments"]["ResourceConfig"]["InstanceCount"] = True
    assert "expected integer, got True" in _only_error(_definition(_processing(), step))


def test_a_missing_required_member_is_reported_where_it_belongs() -> None:
    step = _training()
    del step["Arguments"]["OutputDataConfig"]
    assert _only_error(_definition(_processing(), step)) == (
        "step 'Train': Arguments: missing required key 'OutputDataConfig' of "
        "CreateTrainingJobRequest"
    )


def test_an_enum_value_outside_the_api_model_is_rejected() -> None:
    step = _training()
    step["Arguments"]["ResourceConfig"]["InstanceType"] = "ml.m5.lage"
    message = _only_error(_definition(_processing(), step))
    assert "Arguments.ResourceConfig.InstanceType: 'ml.m5.lage' is not one of" in message
    assert "'ml.m5.large'" in message


def test_numeric_ranges_of_the_model_are_checked() -> None:
    step = _training()
    step["Arguments"]["StoppingCondition"]["MaxRuntimeInSeconds"] = 0
    message = _only_error(_definition(_processing(), step))
    assert (
        "Arguments.StoppingCondition.MaxRuntimeInSeconds: "
        "must be at least 1 (MaxRuntimeInSeconds), got 0" in message
    )


def test_job_names_are_left_to_the_pipeline() -> None:
    step = _training(TrainingJobName="mine")
    assert _only_error(_definition(_processing(), step)) == (
        "step 'Train': Arguments.TrainingJobName: is set by SageMaker Pipelines for each "
        "execution; remove it"
    )


def test_a_reference_to_an_unknown_step_fails() -> None:
    step = _training()
    step["DependsOn"] = ["Prepp"]
    message = _only_error(_definition(_processing(), step))
    assert message == "step 'Train': DependsOn[0]: no step named 'Prepp'; did you mean 'Prep'?"


def test_a_property_of_an_unknown_step_fails() -> None:
    definition = _definition(_training())
    message = _only_error(definition)
    assert "Arguments.InputDataConfig[0].DataSource.S3DataSource.S3Uri" in message
    assert "no step named 'Prep'" in message


def test_a_property_the_describe_response_lacks_fails() -> None:
    step = _training()
    step["Arguments"]["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = {
        "Get": "Steps.Prep.ProcessingOutputConfig.Output['report'].S3Output.S3Uri"
    }
    message = _only_error(_definition(_processing(), step))
    assert (
        "no member of 'ProcessingOutputConfig' named 'Output'; did you mean 'Outputs'?" in message
    )


def test_duplicate_step_names_fail() -> None:
    message = _only_error(_definition(_processing(), _processing(), _training()))
    assert message == "step 'Prep': the name is used by more than one step"


def test_a_dependency_cycle_fails_with_the_cycle() -> None:
    first = _processing(DependsOn=["Train"])
    message = _only_error(_definition(first, _training()))
    assert message == "dependency cycle: 'Prep' -> 'Train' -> 'Prep'"


def test_a_step_using_its_own_property_fails() -> None:
    step = _training(name="Prep")
    step["Name"] = "Solo"
    step["Arguments"]["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = {
        "Get": "Steps.Solo.ModelArtifacts.S3ModelArtifacts"
    }
    assert "a step cannot use its own properties" in _only_error(_definition(step))


def test_expressions_are_accepted_where_values_go_and_their_type_is_checked() -> None:
    good = _training()
    good["Arguments"]["ResourceConfig"]["InstanceCount"] = {"Get": "Parameters.Depth"}
    assert validate_definition(_definition(_processing(), good)) == []
    bad = _training()
    bad["Arguments"]["ResourceConfig"]["InstanceCount"] = {"Std:Join": {"On": "", "Values": ["2"]}}
    assert "InstanceCount: expected integer, got a string expression" in _only_error(
        _definition(_processing(), bad)
    )


def test_an_undeclared_parameter_fails() -> None:
    step = _training()
    step["Arguments"]["ResourceConfig"]["InstanceCount"] = {"Get": "Parameters.Dept"}
    assert "parameter 'Dept' is not declared; did you mean 'Depth'?" in _only_error(
        _definition(_processing(), step)
    )


def test_an_unknown_execution_variable_fails() -> None:
    step = _training()
    step["Arguments"]["OutputDataConfig"]["S3OutputPath"] = {
        "Std:Join": {"On": "/", "Values": ["s3://b", {"Get": "Execution.PipelineExecutionID"}]}
    }
    assert "unknown execution variable 'PipelineExecutionID'" in _only_error(
        _definition(_processing(), step)
    )


def test_json_get_must_name_a_declared_property_file() -> None:
    condition = {
        "Name": "Check",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [
                {
                    "Type": "GreaterThan",
                    "LeftValue": {
                        "Std:JsonGet": {
                            "PropertyFile": {"Get": "Steps.Prep.PropertyFiles.Reprot"},
                            "Path": "auc",
                        }
                    },
                    "RightValue": 0.5,
                }
            ],
            "IfSteps": [{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}],
            "ElseSteps": [],
        },
    }
    message = _only_error(_definition(_processing(), condition))
    assert "step 'Prep' declares no property file 'Reprot'; did you mean 'Report'?" in message


def test_a_property_file_must_name_an_existing_output() -> None:
    step = _processing()
    step["PropertyFiles"][0]["OutputName"] = "evaluation"
    assert "PropertyFiles[0].OutputName: no processing output named 'evaluation'" in _only_error(
        _definition(step)
    )


def test_unknown_step_members_and_types_fail() -> None:
    step = _processing(Cache={"Enabled": True})
    assert "step 'Prep': Cache: unknown step member" in _only_error(_definition(step))
    other = _processing()
    other["Type"] = "Procesing"
    assert "Type must be one of" in _only_error(_definition(other))


def test_conditions_are_checked_structurally() -> None:
    condition = {
        "Name": "Check",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [{"Type": "Bigger", "LeftValue": 1, "RightValue": 2}],
            "IfSteps": [],
        },
    }
    assert "Arguments.Conditions[0].Type: must be one of" in _only_error(_definition(condition))


def test_a_parameter_default_of_the_wrong_type_fails() -> None:
    definition = _definition(parameters=[{"Name": "Depth", "Type": "Integer", "DefaultValue": "6"}])
    assert _only_error(definition) == "Parameters[0].DefaultValue: expected integer, got '6'"


def test_typed_properties_fail_as_they_are_written() -> None:
    with pytest.raises(AttributeError, match="did you mean 'ModelArtifacts'"):
        _ = PropertyReference("Train", "Training").ModelArtifact
    with pytest.raises(AttributeError, match="scalar"):
        _ = PropertyReference("Train", "Training").TrainingJobName.Foo
    reference = PropertyReference("Prep", "Processing").ProcessingOutputConfig.Outputs["report"]
    assert reference.S3Output.S3Uri.to_json() == {
        "Get": "Steps.Prep.ProcessingOutputConfig.Outputs['report'].S3Output.S3Uri"
    }


def test_typed_condition_steps_render_nested_branches_that_validate() -> None:
    report = PropertyFile(name="Report", output_name="report", path="report.json")
    depth = ParameterInteger("Depth", 6)
    check = ConditionStep(
        "Check",
        conditions=[ConditionGreaterThan(JsonGet("Prep", report, "auc"), depth)],
        if_steps=[FailStep("Stop", error_message="too good to be true")],
    )
    raw = _definition(_processing(), copy.deepcopy(check.to_json()))
    assert validate_definition(raw) == []
    assert raw["Steps"][1]["Arguments"]["IfSteps"][0]["Type"] == "Fail"
    definition = PipelineDefinition(steps=[check], parameters=[depth])
    # The condition refers to a step the definition lacks.
    assert any("no step named 'Prep'" in e for e in definition.validate())


@given(count=st.integers(min_value=-5, max_value=50))
def test_any_integer_instance_count_is_judged_by_the_api_minimum(count: int) -> None:
    step = _training()
    step["Arguments"]["ResourceConfig"]["InstanceCount"] = count
    errors = validate_definition(_definition(_processing(), step))
    # botocore's TrainingInstanceCount has min 0.
    assert (errors == []) == (count >= 0)


@given(text=st.text(min_size=1, max_size=20))
def test_any_string_instance_count_is_a_type_error(text: str) -> None:
    step = _training()
    step["Arguments"]["ResourceConfig"]["InstanceCount"] = text
    assert "InstanceCount: expected integer" in _only_error(_definition(_processing(), step))
