"""MlflowTrackingServer: artifact store, scoped roles, grants, VPC endpoint and validation."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemaker_lifecycle import DataLake, MlNetwork
from sagemaker_lifecycle._internal.nag import acknowledge_inline_policy
from sagemaker_lifecycle.mlflow_tracking_server import MlflowTrackingServer
from sagemaker_lifecycle.model_registry import ModelRegistry
from tests.support import new_app, new_stack, resources_of_type, template_of


def _role(stack: Stack, id: str) -> iam.Role:
    role = iam.Role(stack, id, assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    acknowledge_inline_policy(role)
    return role


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    # The lake and the network live in their own stacks, as in the reference app.
    app = new_app()
    lake = DataLake(Stack(app, "Data"), "Lake")
    network = MlNetwork(Stack(app, "Network"), "Network")
    stack = Stack(app, "Test")
    registry = ModelRegistry(stack, "Registry", model_package_group_name="churn")
    server = MlflowTrackingServer(
        stack,
        "Tracking",
        data_lake=lake,
        tracking_server_name="experiments",
        tracking_server_size="Medium",
        mlflow_version="2.16.2",
        weekly_maintenance_window_start="Tue:03:30",
        automatic_model_registration=True,
        model_registry=registry,
        network=network,
    )
    server.grant_access(_role(stack, "Trainer"))
    server.grant_read(_role(stack, "Reviewer"))
    return template_of(stack)


@pytest.fixture(scope="module")
def default_template() -> dict[str, Any]:
    stack = new_stack()
    MlflowTrackingServer(stack, "Tracking", data_lake=DataLake(stack, "Lake"))
    return template_of(stack)


def _server(template: dict[str, Any]) -> dict[str, Any]:
    (server,) = resources_of_type(template, "AWS::SageMaker::MlflowTrackingServer").values()
    resource: dict[str, Any] = server
    return resource


def _statements(template: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for p in resources_of_type(template, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"][0]["Ref"].startswith(role_prefix)
    ]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {
        action
        for statement in statements
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }


def test_server_properties_are_passed_through(template: dict[str, Any]) -> None:
    properties = _server(template)["Properties"]
    assert properties["TrackingServerName"] == "experiments"
    assert properties["TrackingServerSize"] == "Medium"
    assert properties["MlflowVersion"] == "2.16.2"
    assert properties["WeeklyMaintenanceWindowStart"] == "Tue:03:30"
    assert properties["AutomaticModelRegistration"] is True


def test_artifacts_go_to_the_artifacts_zone_under_the_servers_prefix(
    template: dict[str, Any],
) -> None:
    parts = _server(template)["Properties"]["ArtifactStoreUri"]["Fn::Join"][1]
    assert parts[0] == "s3://"
    assert "LakeArtifactsBucket" in json.dumps(parts[1])
    assert parts[2] == "/mlflow/experiments/"


def test_server_and_its_metadata_are_retained(template: dict[str, Any]) -> None:
    server = _server(template)
    assert server["DeletionPolicy"] == "Retain"
    assert server["UpdateReplacePolicy"] == "Retain"


def test_server_waits_for_its_roles_policy(template: dict[str, Any]) -> None:
    role_arn = _server(template)["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    assert role_arn.startswith("TrackingRole")
    assert any(d.startswith("TrackingRoleDefaultPolicy") for d in _server(template)["DependsOn"])


def test_server_role_is_assumed_by_sagemaker_only(template: dict[str, Any]) -> None:
    (role,) = [
        r
        for logical_id, r in resources_of_type(template, "AWS::IAM::Role").items()
        if logical_id.startswith("TrackingRole")
    ]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"


def test_server_role_reaches_only_its_artifact_prefix(template: dict[str, Any]) -> None:
    statements = _statements(template, "TrackingRole")
    s3 = [s for s in statements if any(a.startswith("s3:") for a in _actions([s]))]
    (statement,) = s3
    text = json.dumps(statement["Resource"])
    assert "/mlflow/experiments/*" in text
    for zone in ("Raw", "Curated", "Capture", "Monitoring"):
        assert zone not in text
    assert "s3:PutObject" in _actions(s3)


def test_server_role_registers_only_into_the_registry_group(template: dict[str, Any]) -> None:
    statements = _statements(template, "TrackingRole")
    actions = _actions(statements)
    assert {"sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup"} <= actions
    # Creating groups or approving versions is left to the registry's owners.
    assert "sagemaker:CreateModelPackageGroup" not in actions
    assert "sagemaker:UpdateModelPackage" not in actions
    (register,) = [s for s in statements if "sagemaker:CreateModelPackage" in _actions([s])]
    text = json.dumps(register["Resource"])
    assert "model-package-group/churn" in text
    assert "model-package/churn/*" in text


def test_experiments_endpoint_is_added_to_the_network_with_private_dns(
    template: dict[str, Any],
) -> None:
    (endpoint,) = resources_of_type(template, "AWS::EC2::VPCEndpoint").values()
    properties = endpoint["Properties"]
    assert properties["ServiceName"] == {
        "Fn::Join": ["", ["aws.sagemaker.", {"Ref": "AWS::Region"}, ".experiments"]]
    }
    assert properties["PrivateDnsEnabled"] is True
    assert properties["VpcEndpointType"] == "Interface"
    (group,) = properties["SecurityGroupIds"]
    assert "NetworkEndpointSecurityGroup" in json.dumps(group)
    assert len(properties["SubnetIds"]) == 2


def test_grant_access_covers_the_server_ui_and_artifacts(template: dict[str, Any]) -> None:
    statements = _statements(template, "Trainer")
    (mlflow,) = [s for s in statements if "sagemaker-mlflow:*" in _actions([s])]
    assert mlflow["Resource"]["Fn::GetAtt"][1] == "TrackingServerArn"
    assert "sagemaker:CreatePresignedMlflowTrackingServerUrl" in _actions([mlflow])
    (unscoped,) = [s for s in statements if s["Resource"] == "*"]
    assert set(_actions([unscoped])) == {
        "sagemaker-mlflow:AccessUI",
        "sagemaker:ListMlflowTrackingServers",
    }
    s3 = [s for s in statements if "s3:PutObject" in _actions([s])]
    assert s3
    assert "/mlflow/experiments/*" in json.dumps(s3)


def test_grant_read_gives_no_write_action(template: dict[str, Any]) -> None:
    actions = _actions(_statements(template, "Reviewer"))
    assert "sagemaker-mlflow:SearchRuns" in actions
    assert "sagemaker-mlflow:AccessUI" in actions
    assert "sagemaker-mlflow:*" not in actions
    # Opening the UI needs a presigned URL; it changes nothing on the server.
    writes = {a for a in actions if a.split(":")[1].startswith(("Create", "Log", "Delete", "Put"))}
    assert writes == {"sagemaker:CreatePresignedMlflowTrackingServerUrl"}
    assert "s3:PutObject" not in actions


def test_defaults_small_server_named_after_its_path_without_auto_registration(
    default_template: dict[str, Any],
) -> None:
    properties = _server(default_template)["Properties"]
    name = properties["TrackingServerName"]
    assert name.startswith("Test-Tracking-")
    assert properties["TrackingServerSize"] == "Small"
    assert properties["AutomaticModelRegistration"] is False
    assert "WeeklyMaintenanceWindowStart" not in properties
    assert "MlflowVersion" not in properties
    assert properties["ArtifactStoreUri"]["Fn::Join"][1][-1] == f"/mlflow/{name}/"
    assert resources_of_type(default_template, "AWS::EC2::VPCEndpoint") == {}


def test_an_existing_role_is_used_and_granted_the_prefix() -> None:
    stack = new_stack()
    role = _role(stack, "Existing")
    server = MlflowTrackingServer(
        stack,
        "Tracking",
        data_lake=DataLake(stack, "Lake"),
        role=role,
        removal_policy=RemovalPolicy.DESTROY,
    )
    assert server.role is role
    template = template_of(stack)
    assert _server(template)["Properties"]["RoleArn"]["Fn::GetAtt"][0].startswith("Existing")
    assert _server(template)["DeletionPolicy"] == "Delete"
    assert "/mlflow/" in json.dumps(_statements(template, "Existing"))


def test_tracking_uri_is_the_server_arn() -> None:
    stack = new_stack()
    server = MlflowTrackingServer(stack, "Tracking", data_lake=DataLake(stack, "Lake"))
    assert stack.resolve(server.tracking_uri) == {
        "Fn::GetAtt": [stack.get_logical_id(server.resource), "TrackingServerArn"]
    }


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"tracking_server_size": "Tiny"}, "tracking_server_size 'Tiny'"),
        ({"weekly_maintenance_window_start": "Tue:3:30"}, "weekly_maintenance_window_start"),
        ({"weekly_maintenance_window_start": "Tues:03:30"}, "weekly_maintenance_window_start"),
        ({"weekly_maintenance_window_start": "Tue:24:00"}, "weekly_maintenance_window_start"),
        ({"mlflow_version": "3.x"}, "mlflow_version must be a version number"),
        ({"tracking_server_name": "bad_name"}, "tracking_server_name must match"),
        ({"automatic_model_registration": True}, "automatic_model_registration=True needs"),
        ({"artifact_prefix": "../escape/"}, "artifact_prefix '../escape/'"),
    ],
)
def test_invalid_props_are_rejected_at_synth_time(props: dict[str, Any], message: str) -> None:
    stack = new_stack()
    with pytest.raises(ValueError, match=message):
        MlflowTrackingServer(stack, "Tracking", data_lake=DataLake(stack, "Lake"), **props)


def test_every_invalid_prop_is_reported_at_once() -> None:
    stack = new_stack()
    with pytest.raises(ValueError, match="tracking_server_size") as error:
        MlflowTrackingServer(
            stack,
            "Tracking",
            data_lake=DataLake(stack, "Lake"),
            tracking_server_size="Huge",
            weekly_maintenance_window_start="Someday",
        )
    assert "weekly_maintenance_window_start" in str(error.value)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_IDS = itertools.count()


@pytest.fixture(scope="module")
def lake() -> DataLake:
    return DataLake(new_stack("Windows"), "Lake")


@settings(max_examples=25)
@given(day=st.sampled_from(_DAYS), hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_any_weekly_window_in_ddd_hh_mm_is_accepted(
    lake: DataLake, day: str, hour: int, minute: int
) -> None:
    window = f"{day}:{hour:02d}:{minute:02d}"
    server = MlflowTrackingServer(
        Stack.of(lake),
        f"Tracking{next(_IDS)}",
        data_lake=lake,
        weekly_maintenance_window_start=window,
    )
    assert server.resource.weekly_maintenance_window_start == window


_BAD_WINDOW = st.one_of(
    st.builds(lambda d, h: f"{d}:{h:02d}:00", st.sampled_from(_DAYS), st.integers(24, 99)),
    st.builds(lambda d, m: f"{d}:00:{m:02d}", st.sampled_from(_DAYS), st.integers(60, 99)),
    st.builds(lambda d: f"{d}:03:30", st.sampled_from(["mon", "TUE", "Tues", "Monday", "Xyz"])),
    st.text(alphabet="0123456789:MonTue ", max_size=12).filter(
        lambda s: not (len(s) == 9 and s[:3] in _DAYS)
    ),
)


@settings(max_examples=40)
@given(window=_BAD_WINDOW)
def test_any_other_weekly_window_is_rejected(lake: DataLake, window: str) -> None:
    with pytest.raises(ValueError, match="weekly_maintenance_window_start"):
        MlflowTrackingServer(
            Stack.of(lake),
            f"Rejected{next(_IDS)}",
            data_lake=lake,
            weekly_maintenance_window_start=window,
        )
