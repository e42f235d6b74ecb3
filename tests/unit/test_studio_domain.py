"""StudioDomain: VPC-only on MlNetwork, KMS, scoped execution role, profiles, Canvas, errors."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template
from cfnlint.api import ManualArgs, lint_file
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemaker_lifecycle import DataLake, MlNetwork, Zone
from sagemaker_lifecycle._internal.nag import acknowledge_inline_policy
from sagemaker_lifecycle._internal.validation import ValidationErrors
from sagemaker_lifecycle.model_registry import ModelRegistry
from sagemaker_lifecycle.studio_domain import (
    CanvasSettings,
    IdleShutdown,
    LakeAccess,
    LifecycleScript,
    StudioApp,
    StudioDomain,
    StudioUserProfile,
    _check_idle_shutdown,
    _check_user_profiles,
)
from tests.support import new_app, new_stack, resources_of_type, template_of

FEATURE_GROUP_ARN = "arn:aws:sagemaker:eu-west-1:111111111111:feature-group/customers"
SCRIPT = "#!/bin/bash\nset -eu\npip config set global.index-url https://pypi.example.com\n"


@pytest.fixture(scope="module")
def built() -> tuple[StudioDomain, list[iam.IGrantable], dict[str, Any]]:
    """Every option on, with the lake and network in their own stacks (reference layout)."""
    app = new_app()
    lake = DataLake(Stack(app, "Data"), "Lake")
    network = MlNetwork(Stack(app, "Network"), "Network", cidr="10.42.0.0/16")
    stack = Stack(app, "Test")
    registry = ModelRegistry(stack, "Registry", model_package_group_name="churn")
    granted: list[iam.IGrantable] = []

    def feature_group_grant(grantee: iam.IGrantable) -> iam.Grant:
        granted.append(grantee)
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:PutRecord"],
            resource_arns=[FEATURE_GROUP_ARN.replace("customers", "orders")],
        )

    admin = iam.Role(stack, "Admin", assumed_by=iam.AccountRootPrincipal())
    acknowledge_inline_policy(admin)
    domain = StudioDomain(
        stack,
        "Studio",
        network=network,
        data_lake=lake,
        domain_name="ml-platform",
        data_access=[
            LakeAccess(Zone.CURATED, "features/"),
            LakeAccess(Zone.ARTIFACTS, "studio/", write=True),
        ],
        feature_groups=[FEATURE_GROUP_ARN, feature_group_grant],
        model_registry=registry,
        user_profiles=[
            StudioUserProfile("data-scientist"),
            StudioUserProfile.from_config(
                {
                    "name": "ml-engineer",
                    "hidden_ml_tools": ["DataWrangler"],
                    "tags": {"team": "mlops"},
                }
            ),
        ],
        idle_shutdown=IdleShutdown(Duration.hours(2), Duration.hours(1), Duration.hours(8)),
        lifecycle_scripts=[
            LifecycleScript(StudioApp.JUPYTER_LAB, SCRIPT),
            LifecycleScript(StudioApp.JUPYTER_LAB, "#!/bin/bash\necho optional\n", False),
        ],
        canvas=CanvasSettings(direct_deploy=True),
        default_ebs_volume_size_gb=10,
        max_ebs_volume_size_gb=200,
        tag_propagation=True,
    )
    domain.grant_create_presigned_url(admin, "data-scientist")
    return domain, granted, template_of(stack)


@pytest.fixture(scope="module")
def template(built: tuple[StudioDomain, list[iam.IGrantable], dict[str, Any]]) -> dict[str, Any]:
    return built[2]


@pytest.fixture(scope="module")
def default_template() -> dict[str, Any]:
    """Defaults only, everything in one stack."""
    stack = new_stack()
    StudioDomain(
        stack,
        "Studio",
        network=MlNetwork(stack, "Network"),
        data_lake=DataLake(stack, "Lake"),
        user_profiles=[StudioUserProfile("analyst")],
    )
    return template_of(stack)


def _domain(template: dict[str, Any]) -> dict[str, Any]:
    (domain,) = resources_of_type(template, "AWS::SageMaker::Domain").values()
    resource: dict[str, Any] = domain
    return resource


def _logical_id(template: dict[str, Any], resource_type: str, prefix: str) -> str:
    (logical_id,) = [k for k in resources_of_type(template, resource_type) if k.startswith(prefix)]
    return logical_id


def _statements(template: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    policies = [
        p
        for p in resources_of_type(template, "AWS::IAM::Policy").values()
        if p["Properties"].get("Roles", [{}])[0].get("Ref", "").startswith(role_prefix)
    ]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _script_of(config: dict[str, Any]) -> str:
    return base64.b64decode(config["Properties"]["StudioLifecycleConfigContent"]).decode()


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


# --- network --------------------------------------------------------------------------------


def test_domain_is_vpc_only_with_iam_auth_on_the_network_subnets(template: dict[str, Any]) -> None:
    properties = _domain(template)["Properties"]
    assert properties["AppNetworkAccessType"] == "VpcOnly"
    assert properties["AuthMode"] == "IAM"
    assert properties["DomainName"] == "ml-platform"
    assert "NetworkVpc" in json.dumps(properties["VpcId"])
    assert len(properties["SubnetIds"]) == 2
    assert all("IsolatedSubnet" in json.dumps(s) for s in properties["SubnetIds"])


def test_apps_and_shared_spaces_use_the_domains_security_group(template: dict[str, Any]) -> None:
    properties = _domain(template)["Properties"]
    group_id = _logical_id(template, "AWS::EC2::SecurityGroup", "StudioSecurityGroup")
    expected = [{"Fn::GetAtt": [group_id, "GroupId"]}]
    assert properties["DefaultUserSettings"]["SecurityGroups"] == expected
    assert properties["DefaultSpaceSettings"]["SecurityGroups"] == expected


def test_security_group_allows_only_https_nfs_and_app_to_app_traffic(
    template: dict[str, Any],
) -> None:
    group_id = _logical_id(template, "AWS::EC2::SecurityGroup", "StudioSecurityGroup")
    group = resources_of_type(template, "AWS::EC2::SecurityGroup")[group_id]["Properties"]
    assert "SecurityGroupIngress" not in group
    egress = {(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in group["SecurityGroupEgress"]}
    assert egress == {("tcp", 443, 443), ("tcp", 2049, 2049)}
    (nfs,) = [r for r in group["SecurityGroupEgress"] if r["FromPort"] == 2049]
    assert "CidrBlock" in json.dumps(nfs["CidrIp"])  # the VPC's own range, not 0.0.0.0/0
    for rule_type, peer in (
        ("AWS::EC2::SecurityGroupIngress", "SourceSecurityGroupId"),
        ("AWS::EC2::SecurityGroupEgress", "DestinationSecurityGroupId"),
    ):
        (rule,) = [
            r["Properties"]
            for k, r in resources_of_type(template, rule_type).items()
            if k.startswith("StudioSecurityGroup")
        ]
        assert rule[peer] == rule["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 8192, 65535)


def test_connections_expose_the_security_group(
    built: tuple[StudioDomain, list[iam.IGrantable], dict[str, Any]],
) -> None:
    domain = built[0]
    assert domain.connections.security_groups == [domain.security_group]


# --- encryption and retention -------------------------------------------------------------


def test_home_efs_and_volumes_are_encrypted_with_a_retained_rotating_key(
    template: dict[str, Any],
) -> None:
    key_id = _logical_id(template, "AWS::KMS::Key", "StudioKey")
    key = resources_of_type(template, "AWS::KMS::Key")[key_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    assert _domain(template)["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_domain_and_user_profiles_are_retained(template: dict[str, Any]) -> None:
    resources = [
        _domain(template),
        *resources_of_type(template, "AWS::SageMaker::UserProfile").values(),
    ]
    for resource in resources:
        assert resource["DeletionPolicy"] == "Retain"
        assert resource["UpdateReplacePolicy"] == "Retain"


def test_destroy_deletes_domain_profiles_and_key() -> None:
    stack = new_stack()
    StudioDomain(
        stack,
        "Studio",
        network=MlNetwork(stack, "Network"),
        data_lake=DataLake(stack, "Lake"),
        user_profiles=[StudioUserProfile("temp")],
        removal_policy=RemovalPolicy.DESTROY,
    )
    template = template_of(stack)
    assert _domain(template)["DeletionPolicy"] == "Delete"
    (profile,) = resources_of_type(template, "AWS::SageMaker::UserProfile").values()
    assert profile["DeletionPolicy"] == "Delete"
    key = resources_of_type(template, "AWS::KMS::Key")[
        _logical_id(template, "AWS::KMS::Key", "StudioKey")
    ]
    assert key["DeletionPolicy"] == "Delete"


# --- settings -----------------------------------------------------------------------------


def test_domain_settings_record_the_user_and_keep_docker_and_sharing_off(
    template: dict[str, Any],
) -> None:
    properties = _domain(template)["Properties"]
    assert properties["DomainSettings"] == {
        "ExecutionRoleIdentityConfig": "USER_PROFILE_NAME",
        "DockerSettings": {"EnableDockerAccess": "DISABLED"},
    }
    assert properties["TagPropagation"] == "ENABLED"
    user = properties["DefaultUserSettings"]
    assert user["SharingSettings"] == {"NotebookOutputOption": "Disabled"}
    assert user["DefaultLandingUri"] == "studio::"


@pytest.mark.parametrize("app", ["JupyterLabAppSettings", "CodeEditorAppSettings"])
def test_idle_apps_are_shut_down_within_the_users_range(template: dict[str, Any], app: str) -> None:
    settings = _domain(template)["Properties"]["DefaultUserSettings"][app]
    assert settings["AppLifecycleManagement"]["IdleSettings"] == {
        "LifecycleManagement": "ENABLED",
        "IdleTimeoutInMinutes": 120,
        "MinIdleTimeoutInMinutes": 60,
        "MaxIdleTimeoutInMinutes": 480,
    }


def test_shared_spaces_get_the_role_idle_shutdown_and_storage(template: dict[str, Any]) -> None:
    space = _domain(template)["Properties"]["DefaultSpaceSettings"]
    role_id = _logical_id(template, "AWS::IAM::Role", "StudioExecutionRole")
    assert space["ExecutionRole"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert (
        space["JupyterLabAppSettings"]["AppLifecycleManagement"]["IdleSettings"][
            "IdleTimeoutInMinutes"
        ]
        == 120
    )
    assert space["SpaceStorageSettings"] == {
        "DefaultEbsStorageSettings": {
            "DefaultEbsVolumeSizeInGb": 10,
            "MaximumEbsVolumeSizeInGb": 200,
        }
    }


def test_defaults_shut_down_after_an_hour_with_small_volumes(
    default_template: dict[str, Any],
) -> None:
    user = _domain(default_template)["Properties"]["DefaultUserSettings"]
    assert user["JupyterLabAppSettings"]["AppLifecycleManagement"]["IdleSettings"] == {
        "LifecycleManagement": "ENABLED",
        "IdleTimeoutInMinutes": 60,
    }
    assert user["SpaceStorageSettings"]["DefaultEbsStorageSettings"] == {
        "DefaultEbsVolumeSizeInGb": 5,
        "MaximumEbsVolumeSizeInGb": 100,
    }
    assert _domain(default_template)["Properties"]["DomainName"].startswith("Test-Studio-")
    assert _domain(default_template)["Properties"]["TagPropagation"] == "DISABLED"


def test_idle_shutdown_can_be_switched_off() -> None:
    stack = new_stack()
    StudioDomain(
        stack,
        "Studio",
        network=MlNetwork(stack, "Network"),
        data_lake=DataLake(stack, "Lake"),
        idle_shutdown=None,
    )
    user = _domain(template_of(stack))["Properties"]["DefaultUserSettings"]
    assert user["CodeEditorAppSettings"]["AppLifecycleManagement"]["IdleSettings"] == {
        "LifecycleManagement": "DISABLED"
    }


# --- lifecycle scripts --------------------------------------------------------------------


def test_lifecycle_script_is_a_base64_config_named_after_its_hash(template: dict[str, Any]) -> None:
    configs = resources_of_type(template, "AWS::SageMaker::StudioLifecycleConfig")
    assert len(configs) == 2
    (first,) = [c for c in configs.values() if _script_of(c) == SCRIPT]
    properties = first["Properties"]
    assert properties["StudioLifecycleConfigAppType"] == "JupyterLab"
    content = properties["StudioLifecycleConfigContent"]
    assert base64.b64decode(content).decode() == SCRIPT
    name = properties["StudioLifecycleConfigName"]
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
    assert name.endswith("-" + hashlib.sha256(content.encode()).hexdigest()[:8])
    # A new script is a new config; the replaced one is deleted, a deleted stack keeps it.
    assert first["UpdateReplacePolicy"] == "Delete"
    assert first["DeletionPolicy"] == "Retain"


def test_default_script_runs_for_every_app_and_both_are_offered(template: dict[str, Any]) -> None:
    configs = resources_of_type(template, "AWS::SageMaker::StudioLifecycleConfig")
    (default_id,) = [k for k, c in configs.items() if _script_of(c) == SCRIPT]
    lab = _domain(template)["Properties"]["DefaultUserSettings"]["JupyterLabAppSettings"]
    assert lab["DefaultResourceSpec"] == {
        "LifecycleConfigArn": {"Fn::GetAtt": [default_id, "StudioLifecycleConfigArn"]}
    }
    assert {a["Fn::GetAtt"][0] for a in lab["LifecycleConfigArns"]} == set(configs)
    code_editor = _domain(template)["Properties"]["DefaultUserSettings"]["CodeEditorAppSettings"]
    assert "LifecycleConfigArns" not in code_editor


def test_a_changed_script_gets_a_new_name() -> None:
    stack = new_stack()
    network, lake = MlNetwork(stack, "Network"), DataLake(stack, "Lake")
    names = []
    for i, script in enumerate(["#!/bin/bash\necho a\n", "#!/bin/bash\necho b\n"]):
        domain = StudioDomain(
            stack,
            f"Studio{i}",
            network=network,
            data_lake=lake,
            lifecycle_scripts=[LifecycleScript(StudioApp.CODE_EDITOR, script)],
        )
        (config,) = domain.lifecycle_configs[StudioApp.CODE_EDITOR]
        names.append(str(config.studio_lifecycle_config_name))
    suffixes = [n.rsplit("-", 1)[1] for n in names]
    assert suffixes[0] != suffixes[1]


# --- user profiles ------------------------------------------------------------------------


def test_user_profiles_belong_to_the_domain(template: dict[str, Any]) -> None:
    profiles = resources_of_type(template, "AWS::SageMaker::UserProfile")
    domain_id = _logical_id(template, "AWS::SageMaker::Domain", "Studio")
    by_name = {p["Properties"]["UserProfileName"]: p["Properties"] for p in profiles.values()}
    assert set(by_name) == {"data-scientist", "ml-engineer"}
    for properties in by_name.values():
        assert properties["DomainId"] == {"Fn::GetAtt": [domain_id, "DomainId"]}
    assert "UserSettings" not in by_name["data-scientist"]
    assert by_name["ml-engineer"]["UserSettings"] == {
        "StudioWebPortalSettings": {"HiddenMlTools": ["DataWrangler"]}
    }
    assert {"Key": "team", "Value": "mlops"} in by_name["ml-engineer"]["Tags"]


def test_a_profile_with_its_own_role_gets_the_studio_grants() -> None:
    stack = new_stack()
    role = iam.Role(stack, "Engineer", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    acknowledge_inline_policy(role)
    StudioDomain(
        stack,
        "Studio",
        network=MlNetwork(stack, "Network"),
        data_lake=DataLake(stack, "Lake"),
        user_profiles=[
            StudioUserProfile.from_config(
                {"name": "ml-engineer", "execution_role": "engineer"}, roles={"engineer": role}
            )
        ],
    )
    template = template_of(stack)
    (profile,) = resources_of_type(template, "AWS::SageMaker::UserProfile").values()
    role_id = _logical_id(template, "AWS::IAM::Role", "Engineer")
    assert profile["Properties"]["UserSettings"]["ExecutionRole"] == {
        "Fn::GetAtt": [role_id, "Arn"]
    }
    actions = {a for s in _statements(template, "Engineer") for a in _actions(s)}
    assert {"sagemaker:CreateApp", "sagemaker:CreateSpace", "kms:CreateGrant"} <= actions


# --- execution role -----------------------------------------------------------------------


def test_execution_role_trusts_sagemaker_with_source_identity(
    default_template: dict[str, Any],
) -> None:
    role = resources_of_type(default_template, "AWS::IAM::Role")[
        _logical_id(default_template, "AWS::IAM::Role", "StudioExecutionRole")
    ]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:SetSourceIdentity"]
    assert "ManagedPolicyArns" not in role["Properties"]


def test_execution_role_sagemaker_access_is_scoped_to_the_domain(template: dict[str, Any]) -> None:
    domain_id = _logical_id(template, "AWS::SageMaker::Domain", "Studio")
    statements = _statements(template, "StudioExecutionRole")
    for statement in statements:
        actions = _actions(statement)
        assert not any(a.endswith(":*") for a in actions), actions
        if statement["Resource"] == "*":
            # Only actions IAM cannot scope (List*) may use "*".
            assert set(actions) <= {
                "sagemaker:ListApps",
                "sagemaker:ListSpaces",
                "sagemaker:ListModelPackages",
            }
    (spaces,) = [s for s in statements if "sagemaker:CreateSpace" in _actions(s)]
    assert spaces["Resource"]["Fn::Join"][1][-2:] == [
        {"Fn::GetAtt": [domain_id, "DomainId"]},
        "/*",
    ]
    assert ":space/" in spaces["Resource"]["Fn::Join"][1][-3]


def test_kms_grants_are_for_aws_resources_only(template: dict[str, Any]) -> None:
    (create_grant,) = [
        s for s in _statements(template, "StudioExecutionRole") if "kms:CreateGrant" in _actions(s)
    ]
    assert create_grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_data_access_follows_the_zones_and_prefixes_given(template: dict[str, Any]) -> None:
    statements = _statements(template, "StudioExecutionRole")
    s3 = [s for s in statements if any(a.startswith("s3:") for a in _actions(s))]
    text = json.dumps(s3)
    assert "/features/*" in text
    assert "/studio/*" in text
    assert "LakeRaw" not in text
    assert "LakeCapture" not in text
    (curated,) = [s for s in s3 if "LakeCuratedBucket" in json.dumps(s["Resource"])]
    assert "s3:PutObject" not in _actions(curated)


def test_feature_groups_by_arn_are_read_and_grant_methods_are_called(
    built: tuple[StudioDomain, list[iam.IGrantable], dict[str, Any]],
) -> None:
    domain, granted, template = built
    assert granted == [domain.execution_role]
    statements = _statements(template, "StudioExecutionRole")
    (by_arn,) = [s for s in statements if s["Resource"] == FEATURE_GROUP_ARN]
    assert sorted(_actions(by_arn)) == [
        "sagemaker:BatchGetRecord",
        "sagemaker:DescribeFeatureGroup",
        "sagemaker:GetRecord",
    ]
    assert any("sagemaker:PutRecord" in _actions(s) for s in statements)


def test_registry_versions_can_be_read_and_registered_not_approved(
    template: dict[str, Any],
) -> None:
    actions = {a for s in _statements(template, "StudioExecutionRole") for a in _actions(s)}
    assert {"sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup"} <= actions
    assert "sagemaker:UpdateModelPackage" not in actions


def test_presigned_url_grant_names_one_profile(template: dict[str, Any]) -> None:
    (statement,) = _statements(template, "Admin")
    assert statement["Action"] == "sagemaker:CreatePresignedDomainUrl"
    assert statement["Resource"]["Fn::Join"][1][-1] == "/data-scientist"


# --- Canvas -------------------------------------------------------------------------------


def _canvas_call(template: dict[str, Any], phase: str) -> str:
    (custom,) = resources_of_type(template, "Custom::StudioCanvasSettings").values()
    parts = custom["Properties"][phase]["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else "<ref>" for p in parts)


def test_canvas_settings_are_applied_with_update_domain(template: dict[str, Any]) -> None:
    create = _canvas_call(template, "Create")
    assert '"action":"updateDomain"' in create
    assert '"TimeSeriesForecastingSettings":{"Status":"ENABLED"}' in create
    assert '"ModelRegisterSettings":{"Status":"ENABLED"}' in create
    assert '"DirectDeploySettings":{"Status":"ENABLED"}' in create
    assert '"WorkspaceSettings":{"S3ArtifactPath":"s3://<ref>/canvas/","S3KmsKeyId":"<ref>"}' in (
        create
    )
    assert _canvas_call(template, "Update") == create


def test_removing_canvas_switches_its_features_off(template: dict[str, Any]) -> None:
    delete = _canvas_call(template, "Delete")
    for setting in ("TimeSeriesForecasting", "ModelRegister", "DirectDeploy"):
        assert f'"{setting}Settings":{{"Status":"DISABLED"}}' in delete
    assert '"ignoreErrorCodesMatching":"ResourceNotFound"' in delete


def test_canvas_provider_may_only_update_this_domain(template: dict[str, Any]) -> None:
    (policy,) = [
        p
        for k, p in resources_of_type(template, "AWS::IAM::Policy").items()
        if k.startswith("StudioCanvasSettings")
    ]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    domain_id = _logical_id(template, "AWS::SageMaker::Domain", "Studio")
    assert statement["Action"] == "sagemaker:UpdateDomain"
    assert statement["Resource"] == {"Fn::GetAtt": [domain_id, "DomainArn"]}


def test_canvas_provider_runs_in_the_network_with_https_only_and_encrypted_logs(
    template: dict[str, Any],
) -> None:
    (function,) = resources_of_type(template, "AWS::Lambda::Function").values()
    assert len(function["Properties"]["VpcConfig"]["SubnetIds"]) == 2
    (group_ref,) = function["Properties"]["VpcConfig"]["SecurityGroupIds"]
    group = resources_of_type(template, "AWS::EC2::SecurityGroup")[group_ref["Fn::GetAtt"][0]]
    (egress,) = group["Properties"]["SecurityGroupEgress"]
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = resources_of_type(template, "AWS::Logs::LogGroup")[log_group_id]
    key_id = _logical_id(template, "AWS::KMS::Key", "StudioKey")
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_canvas_waits_for_the_user_profiles(template: dict[str, Any]) -> None:
    (custom,) = resources_of_type(template, "Custom::StudioCanvasSettings").values()
    profiles = set(resources_of_type(template, "AWS::SageMaker::UserProfile"))
    assert profiles <= set(custom["DependsOn"])


def test_canvas_features_get_their_managed_policies_and_workspace(
    template: dict[str, Any],
) -> None:
    role = resources_of_type(template, "AWS::IAM::Role")[
        _logical_id(template, "AWS::IAM::Role", "StudioExecutionRole")
    ]
    policies = {p["Fn::Join"][1][-1] for p in role["Properties"]["ManagedPolicyArns"]}
    assert policies == {
        ":iam::aws:policy/AmazonSageMakerCanvasFullAccess",
        ":iam::aws:policy/AmazonSageMakerCanvasDataPrepFullAccess",
        ":iam::aws:policy/service-role/AmazonSageMakerCanvasDirectDeployAccess",
        ":iam::aws:policy/service-role/AmazonSageMakerCanvasForecastAccess",
    }
    forecast = [
        s
        for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        if s["Principal"] == {"Service": "forecast.amazonaws.com"}
    ]
    assert forecast[0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }
    assert "/canvas/*" in json.dumps(_statements(template, "StudioExecutionRole"))


def test_without_canvas_there_is_no_provider_and_no_canvas_permission(
    default_template: dict[str, Any],
) -> None:
    assert resources_of_type(default_template, "Custom::StudioCanvasSettings") == {}
    functions = resources_of_type(default_template, "AWS::Lambda::Function")
    assert not [f for f in functions if f.startswith("AWS679f53fac002430cb0da5b7982bd2287")]
    assert "Canvas" not in json.dumps(default_template)


def test_a_forecast_role_and_a_cross_account_registry_role_are_used_when_given() -> None:
    stack = new_stack()
    forecast = iam.Role(
        stack, "Forecast", assumed_by=iam.ServicePrincipal("forecast.amazonaws.com")
    )
    register_role = "arn:aws:iam::222222222222:role/canvas-register"
    StudioDomain(
        stack,
        "Studio",
        network=MlNetwork(stack, "Network"),
        data_lake=DataLake(stack, "Lake"),
        canvas=CanvasSettings(
            forecast_role=forecast,
            data_preparation=False,
            cross_account_model_register_role_arn=register_role,
        ),
    )
    template = Template.from_stack(stack)
    # The provider passes the Forecast role to SageMaker, and to SageMaker only.
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "iam:PassRole",
                                "Condition": {
                                    "StringEquals": {
                                        "iam:PassedToService": "sagemaker.amazonaws.com"
                                    }
                                },
                            }
                        )
                    ]
                )
            }
        },
    )
    resources = dict(template.to_json())
    role = resources["Resources"][_logical_id(resources, "AWS::IAM::Role", "StudioExecutionRole")]
    # No Forecast trust and no Forecast policy on the execution role; only Canvas itself.
    assert len(role["Properties"]["AssumeRolePolicyDocument"]["Statement"]) == 1
    assert len(role["Properties"]["ManagedPolicyArns"]) == 1
    assume = [
        st
        for st in _statements(resources, "StudioExecutionRole")
        if st["Action"] == "sts:AssumeRole"
    ]
    assert [st["Resource"] for st in assume] == [register_role]
    create = _canvas_call(resources, "Create")
    assert f'"CrossAccountModelRegisterRoleArn":"{register_role}"' in create
    assert (
        '"TimeSeriesForecastingSettings":{"Status":"ENABLED","AmazonForecastRoleArn":"<ref>"}'
        in (create)
    )


def test_canvas_template_passes_cfn_lint(template: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "studio.template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    matches = lint_file(path, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    # W3005: CDK's AwsCustomResource provider function lists its role in DependsOn next to a
    # GetAtt of that role; the function is CDK's, not ours.
    unexpected = [
        m
        for m in matches
        if not (
            m.rule.id == "W3005"
            and m.message.startswith("'AWS679f53fac002430cb0da5b7982bd2287ServiceRole")
        )
    ]
    assert unexpected == [], "\n".join(f"{m.rule.id} {m.message}" for m in unexpected)


# --- validation ---------------------------------------------------------------------------


def _domain_with(**props: Any) -> StudioDomain:
    stack = new_stack()
    network = props.pop("network", None) or MlNetwork(stack, "Network")
    return StudioDomain(
        stack, "Studio", network=network, data_lake=DataLake(stack, "Lake"), **props
    )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"domain_name": "ml_platform"}, "domain_name must match"),
        (
            {"idle_shutdown": IdleShutdown(Duration.minutes(30))},
            "idle_shutdown.timeout must be from 60",
        ),
        ({"idle_shutdown": IdleShutdown(Duration.seconds(3630))}, "whole number of minutes"),
        ({"idle_shutdown": IdleShutdown(Duration.days(366))}, "idle_shutdown.timeout must be from"),
        (
            {"idle_shutdown": IdleShutdown(Duration.hours(1), minimum=Duration.hours(2))},
            r"idle_shutdown.minimum \(120 minutes\) must not exceed",
        ),
        (
            {"idle_shutdown": IdleShutdown(Duration.hours(3), maximum=Duration.hours(2))},
            r"idle_shutdown.maximum \(120 minutes\) must not be below",
        ),
        ({"default_ebs_volume_size_gb": 4}, "default_ebs_volume_size_gb must be from 5 to 16384"),
        ({"max_ebs_volume_size_gb": 20000}, "max_ebs_volume_size_gb must be from 5 to 16384"),
        (
            {"default_ebs_volume_size_gb": 50, "max_ebs_volume_size_gb": 20},
            r"max_ebs_volume_size_gb \(20\) must be at least",
        ),
        ({"data_access": [LakeAccess(Zone.RAW, "a/*")]}, r"data_access\[0\].prefix 'a/\*'"),
        (
            {"feature_groups": ["arn:aws:sagemaker:eu-west-1:111111111111:feature-group/*"]},
            r"feature_groups\[0\] must be a feature group ARN",
        ),
        ({"feature_groups": [42]}, r"feature_groups\[0\] must be a feature group ARN or a grant"),
        (
            {"user_profiles": [StudioUserProfile("ds"), StudioUserProfile("ds")]},
            r"user_profiles\[1\].name 'ds' is used by another profile",
        ),
        ({"user_profiles": [StudioUserProfile("data_scientist")]}, r"user_profiles\[0\].name"),
        (
            {"user_profiles": [StudioUserProfile("ds", hidden_ml_tools=("Notebooks",))]},
            r"user_profiles\[0\].hidden_ml_tools 'Notebooks'",
        ),
        (
            {"user_profiles": [StudioUserProfile("ds", tags={"aws:team": "x"})]},
            r"user_profiles\[0\].tags key 'aws:team'",
        ),
        (
            {"lifecycle_scripts": [LifecycleScript(StudioApp.JUPYTER_LAB, "  \n")]},
            r"lifecycle_scripts\[0\].script must not be empty",
        ),
        (
            {"lifecycle_scripts": [LifecycleScript(StudioApp.JUPYTER_LAB, "x" * 12_300)]},
            r"lifecycle_scripts\[0\].script is 16400 characters base64-encoded",
        ),
        (
            {
                "lifecycle_scripts": [
                    LifecycleScript(StudioApp.CODE_EDITOR, "echo a"),
                    LifecycleScript(StudioApp.CODE_EDITOR, "echo b"),
                ]
            },
            "at most one CodeEditor script may have run_by_default=True",
        ),
        (
            {
                "canvas": CanvasSettings(
                    cross_account_model_register_role_arn="arn:aws:iam::1:role/x"
                )
            },
            "canvas.cross_account_model_register_role_arn must be an IAM role ARN",
        ),
        (
            {"canvas": CanvasSettings(workspace_prefix="/canvas")},
            "canvas.workspace_prefix '/canvas'",
        ),
    ],
)
def test_invalid_props_are_rejected_at_synth_time(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _domain_with(**props)


def test_every_invalid_prop_is_reported_at_once() -> None:
    with pytest.raises(ValueError, match="domain_name") as error:
        _domain_with(domain_name="-bad-", default_ebs_volume_size_gb=1)
    assert "default_ebs_volume_size_gb" in str(error.value)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"name": "ds", "idle_timeout": 60}, "setting 'idle_timeout' is not known; known settings"),
        ({"name": 7}, "'name' must be a string, got 7"),
        ({"name": "ds", "hidden_ml_tools": "Endpoints"}, "'hidden_ml_tools' must be a list"),
        ({"name": "ds", "tags": {"team": 1}}, "'tags' must map strings to strings"),
        ({"name": "ds", "execution_role": "admin"}, "'execution_role' must name one of the roles"),
    ],
)
def test_bad_user_profile_config_is_rejected(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StudioUserProfile.from_config(config)


def test_presigned_url_grant_rejects_a_bad_profile_name() -> None:
    stack = new_stack()
    domain = StudioDomain(
        stack, "Studio", network=MlNetwork(stack, "Network"), data_lake=DataLake(stack, "Lake")
    )
    role = iam.Role(stack, "Admin", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(ValueError, match="user_profile_name must match"):
        domain.grant_create_presigned_url(role, "not valid")


# --- properties ---------------------------------------------------------------------------

_PROFILE_NAME = st.from_regex(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,20}", fullmatch=True).filter(
    lambda name: len(name) <= 62
)


@settings(max_examples=60)
@given(name=_PROFILE_NAME)
def test_any_name_of_the_api_pattern_is_a_valid_profile(name: str) -> None:
    errors = ValidationErrors("Test")
    _check_user_profiles(errors, [StudioUserProfile(name)])
    errors.raise_if_any()


@settings(max_examples=60)
@given(
    name=st.one_of(
        st.builds(lambda n: n + "-", _PROFILE_NAME),
        st.builds(lambda n: "-" + n, _PROFILE_NAME),
        st.builds(lambda a, b: f"{a}{b}", _PROFILE_NAME, st.sampled_from("_. /@")),
        st.text(alphabet="abc", min_size=64, max_size=80),
        st.just(""),
    )
)
def test_any_other_profile_name_is_rejected(name: str) -> None:
    errors = ValidationErrors("Test")
    _check_user_profiles(errors, [StudioUserProfile(name)])
    with pytest.raises(ValueError, match=r"user_profiles\[0\].name"):
        errors.raise_if_any()


@settings(max_examples=60)
@given(
    timeout=st.integers(0, 600_000),
    minimum=st.integers(0, 600_000),
    maximum=st.integers(0, 600_000),
)
def test_idle_settings_are_valid_exactly_within_sagemakers_limits(
    timeout: int, minimum: int, maximum: int
) -> None:
    errors = ValidationErrors("Test")
    _check_idle_shutdown(
        errors,
        IdleShutdown(
            Duration.minutes(timeout), Duration.minutes(minimum), Duration.minutes(maximum)
        ),
    )
    in_range = all(60 <= m <= 525_600 for m in (timeout, minimum, maximum))
    expected_valid = in_range and minimum <= timeout <= maximum
    if expected_valid:
        errors.raise_if_any()
    else:
        with pytest.raises(ValueError, match="idle_shutdown"):
            errors.raise_if_any()
