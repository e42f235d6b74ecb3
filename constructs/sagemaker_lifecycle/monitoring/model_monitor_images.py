"""Image URIs of the SageMaker Model Monitor analyzer and SageMaker Clarify, per region.

Registry accounts from the SageMaker Python SDK's ``image_uri_config/model-monitor.json``
(repository ``sagemaker-model-monitor-analyzer``, version 1, tag ``latest``) and
``image_uri_config/clarify.json`` (``sagemaker-clarify-processing``, version 1.0). For an
environment-agnostic stack the tables become ``CfnMapping``s keyed by region, as in
:mod:`sagemaker_lifecycle.images`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from aws_cdk import ArnFormat, Aws, CfnMapping, Fn, Stack, Token
from constructs import Construct

_MODEL_MONITOR_REGISTRIES: Mapping[str, str] = MappingProxyType(
    {
        "ap-east-1": "001633400207",
        "ap-northeast-1": "574779866223",
        "ap-northeast-2": "709848358524",
        "ap-south-1": "126357580389",
        "ap-southeast-1": "245545462676",
        "ap-southeast-2": "563025443158",
        "ca-central-1": "536280801234",
        "cn-north-1": "453000072557",
        "cn-northwest-1": "453252182341",
        "eu-central-1": "048819808253",
        "eu-north-1": "895015795356",
        "eu-west-1": "468650794304",
        "eu-west-2": "749857270468",
        "eu-west-3": "680080141114",
        "me-south-1": "607024016150",
        "sa-east-1": "539772159869",
        "us-east-1": "156813124566",
        "us-east-2": "777275614652",
        "us-west-1": "890145073186",
        "us-west-2": "159807026194",
    }
)

_CLARIFY_REGISTRIES: Mapping[str, str] = MappingProxyType(
    {
        "af-south-1": "811711786498",
        "ap-east-1": "098760798382",
        "ap-northeast-1": "377024640650",
        "ap-northeast-2": "263625296855",
        "ap-northeast-3": "364406365360",
        "ap-south-1": "452307495513",
        "ap-southeast-1": "834264404009",
        "ap-southeast-2": "007051062584",
        "ca-central-1": "675030665977",
        "cn-north-1": "122526803553",
        "cn-northwest-1": "122578899357",
        "eu-central-1": "017069133835",
        "eu-north-1": "763603941244",
        "eu-south-1": "638885417683",
        "eu-west-1": "131013547314",
        "eu-west-2": "440796970383",
        "eu-west-3": "341593696636",
        "me-south-1": "835444307964",
        "sa-east-1": "520018980103",
        "us-east-1": "205585389593",
        "us-east-2": "211330385671",
        "us-west-1": "740489534195",
        "us-west-2": "306415355426",
    }
)


class MonitorImage(enum.Enum):
    """A container Model Monitor runs: repository, tag and registry accounts by region."""

    ANALYZER = ("sagemaker-model-monitor-analyzer", "latest", _MODEL_MONITOR_REGISTRIES)
    """Data and model quality."""
    CLARIFY = ("sagemaker-clarify-processing", "1.0", _CLARIFY_REGISTRIES)
    """Model bias and explainability."""

    def __init__(self, repository: str, tag: str, registries: Mapping[str, str]) -> None:
        self.repository = repository
        self.tag = tag
        self.registries = registries

    @property
    def mapping_id(self) -> str:
        return f"ModelMonitor{self.name.capitalize()}Registries"


def monitor_image_account(scope: Construct, image: MonitorImage) -> str:
    """The registry account of ``image`` in ``scope``'s region (a token when env-agnostic).

    Raises ``ValueError`` for a concrete region the image is not published in.
    """
    stack = Stack.of(scope)
    if Token.is_unresolved(stack.region):
        return _mapping(stack, image).find_in_map(Aws.REGION, "account")
    if stack.region not in image.registries:
        raise ValueError(
            f"{image.repository} is not published in region {stack.region!r}; regions: "
            f"{', '.join(sorted(image.registries))}"
        )
    return image.registries[stack.region]


def monitor_image_uri(scope: Construct, image: MonitorImage) -> str:
    """``<account>.dkr.ecr.<region>.<suffix>/<repository>:<tag>`` of ``image``."""
    stack = Stack.of(scope)
    return Fn.join(
        "",
        [
            monitor_image_account(scope, image),
            ".dkr.ecr.",
            stack.region,
            ".",
            Aws.URL_SUFFIX,
            f"/{image.repository}:{image.tag}",
        ],
    )


def monitor_image_repository_arn(scope: Construct, image: MonitorImage) -> str:
    """The ECR repository ARN of ``image`` (for the pull permissions of the job role)."""
    return Stack.of(scope).format_arn(
        service="ecr",
        account=monitor_image_account(scope, image),
        resource="repository",
        resource_name=image.repository,
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def _mapping(stack: Stack, image: MonitorImage) -> CfnMapping:
    existing = stack.node.try_find_child(image.mapping_id)
    if isinstance(existing, CfnMapping):
        return existing
    return CfnMapping(
        stack,
        image.mapping_id,
        mapping={region: {"account": account} for region, account in image.registries.items()},
    )
