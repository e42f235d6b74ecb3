"""The deployment spec: one description of an endpoint, for CloudFormation and the deployer.

An endpoint construct describes its model settings, endpoint configuration and deployment
configuration once, as SageMaker API request members (botocore's ``CreateModel``,
``CreateEndpointConfig`` and ``UpdateEndpoint`` shapes), and builds its CloudFormation
resources from that description with the functions here. The approval flow's deployer
receives the same description (rendered with ``Stack.to_json_string``) and calls::

    CreateModel(ModelName=<new>, PrimaryContainer={"ModelPackageName": <version>},
                **spec["Model"])
    CreateEndpointConfig(EndpointConfigName=<new>, **spec["EndpointConfig"])
        # with ModelName=<new> added to every production variant
    UpdateEndpoint(EndpointName=spec["EndpointName"], EndpointConfigName=<new>,
                   DeploymentConfig=spec["DeploymentConfig"])

so a new version gets exactly the configuration CloudFormation created, but for the names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypedDict

from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

#: The keys of a deployment spec, in order.
SPEC_KEYS: Final = ("EndpointName", "Model", "EndpointConfig", "DeploymentConfig")

#: Members of a spec's "EndpointConfig" and the CfnEndpointConfig property they become.
_ENDPOINT_CONFIG_PROPS: Final = {
    "ProductionVariants": "production_variants",
    "DataCaptureConfig": "data_capture_config",
    "KmsKeyId": "kms_key_id",
    "AsyncInferenceConfig": "async_inference_config",
}
_MODEL_PROPS: Final = {
    "ExecutionRoleArn": "execution_role_arn",
    "VpcConfig": "vpc_config",
    "EnableNetworkIsolation": "enable_network_isolation",
}
# Members whose value is a free-form map (user keys), not a structure to rename.
_MAP_MEMBERS: Final = frozenset({"Environment"})
_WORD = re.compile(r"[A-Z0-9]+(?![a-z])|[A-Z0-9]?[a-z0-9]+")


class DeploymentSpec(TypedDict):
    """What the approval flow needs to roll a new model version onto an endpoint."""

    EndpointName: str
    Model: dict[str, Any]
    EndpointConfig: dict[str, Any]
    DeploymentConfig: dict[str, Any]


def jsii_struct(value: Any) -> Any:
    """An API-shaped value (``VolumeSizeInGB``) as the jsii struct CDK's L1s take
    (``volumeSizeInGb``); CloudFormation renders it back to the API's member names."""
    if isinstance(value, Mapping):
        return {
            _camel(key): (dict(item) if key in _MAP_MEMBERS else jsii_struct(item))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [jsii_struct(item) for item in value]
    return value


def cfn_model(
    scope: Construct, id: str, model_spec: Mapping[str, Any], primary_container: Mapping[str, Any]
) -> sagemaker.CfnModel:
    """The ``AWS::SageMaker::Model`` of a spec's "Model" members plus its container."""
    return sagemaker.CfnModel(
        scope,
        id,
        primary_container=jsii_struct(primary_container),
        **_props(model_spec, _MODEL_PROPS, "Model"),
    )


def cfn_endpoint_config(
    scope: Construct, id: str, endpoint_config_spec: Mapping[str, Any], model_name: str
) -> sagemaker.CfnEndpointConfig:
    """The ``AWS::SageMaker::EndpointConfig`` of a spec's "EndpointConfig", serving
    ``model_name`` in every production variant."""
    spec = dict(endpoint_config_spec)
    spec["ProductionVariants"] = with_model_name(spec["ProductionVariants"], model_name)
    return sagemaker.CfnEndpointConfig(
        scope, id, **_props(spec, _ENDPOINT_CONFIG_PROPS, "EndpointConfig")
    )


def with_model_name(variants: Sequence[Mapping[str, Any]], model_name: str) -> list[dict[str, Any]]:
    """Production variants that serve ``model_name`` (what the deployer does per version)."""
    return [{**variant, "ModelName": model_name} for variant in variants]


def _props(spec: Mapping[str, Any], names: Mapping[str, str], what: str) -> dict[str, Any]:
    unknown = sorted(set(spec) - set(names))
    if unknown:  # a member the CloudFormation resource would silently drop
        raise KeyError(f"{what} spec members without a CloudFormation property: {unknown}")
    return {names[key]: jsii_struct(value) for key, value in spec.items()}


def _camel(name: str) -> str:
    words: list[str] = _WORD.findall(name)
    if not words or "".join(words) != name:
        raise ValueError(f"not an API member name: {name!r}")
    head, *rest = words
    return head.lower() + "".join(word[0].upper() + word[1:].lower() for word in rest)
