"""Image URIs of the SageMaker-provided containers, resolved per region from one table.

The scikit-learn and XGBoost framework containers live in the same per-region registry
accounts (the SageMaker Python SDK's ``image_uri_config/sklearn.json`` and
``xgboost.json``, versions 1.0-1 and later). For an environment-agnostic stack the region is
only known at deploy time, so the table becomes a ``CfnMapping`` keyed by region.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from aws_cdk import Aws, CfnMapping, Fn, Stack, Token
from constructs import Construct

#: Registry account of the SageMaker framework containers, by region.
FRAMEWORK_REGISTRIES: Mapping[str, str] = MappingProxyType(
    {
        "af-south-1": "510948584623",
        "ap-east-1": "651117190479",
        "ap-northeast-1": "354813040037",
        "ap-northeast-2": "366743142698",
        "ap-northeast-3": "867004704886",
        "ap-south-1": "720646828776",
        "ap-south-2": "628508329040",
        "ap-southeast-1": "121021644041",
        "ap-southeast-2": "783357654285",
        "ap-southeast-3": "951798379941",
        "ap-southeast-4": "106583098589",
        "ca-central-1": "341280168497",
        "ca-west-1": "190319476487",
        "cn-north-1": "450853457545",
        "cn-northwest-1": "451049120500",
        "eu-central-1": "492215442770",
        "eu-central-2": "680994064768",
        "eu-north-1": "662702820516",
        "eu-south-1": "978288397137",
        "eu-south-2": "104374241257",
        "eu-west-1": "141502667606",
        "eu-west-2": "764974769150",
        "eu-west-3": "659782779980",
        "il-central-1": "898809789911",
        "me-central-1": "272398656194",
        "me-south-1": "801668240914",
        "sa-east-1": "737474898029",
        "us-east-1": "683313688378",
        "us-east-2": "257758044811",
        "us-gov-east-1": "237065988967",
        "us-gov-west-1": "414596584902",
        "us-west-1": "746614075791",
        "us-west-2": "246618743249",
    }
)

_MAPPING_ID = "SageMakerFrameworkRegistries"


class Framework(enum.Enum):
    """A SageMaker framework container: repository and the tag of the pinned version."""

    SKLEARN = ("sagemaker-scikit-learn", "1.2-1-cpu-py3")
    """scikit-learn 1.2 (processing, monitoring scripts, sklearn models)."""
    XGBOOST = ("sagemaker-xgboost", "1.7-1")
    """The built-in XGBoost algorithm 1.7."""

    def __init__(self, repository: str, tag: str) -> None:
        self.repository = repository
        self.tag = tag


def image_uri(scope: Construct, framework: Framework, *, tag: str | None = None) -> str:
    """The ECR image URI of ``framework`` in the region of ``scope``'s stack.

    :param tag: an image tag other than the pinned one. Default: the framework's pinned tag.
    """
    stack = Stack.of(scope)
    region = stack.region
    if Token.is_unresolved(region):
        account = _registry_mapping(stack).find_in_map(Aws.REGION, "account")
    else:
        if region not in FRAMEWORK_REGISTRIES:
            raise ValueError(
                f"no SageMaker framework registry is known for region {region!r}; "
                f"known regions: {', '.join(sorted(FRAMEWORK_REGISTRIES))}"
            )
        account = FRAMEWORK_REGISTRIES[region]
    return Fn.join(
        "",
        [
            account,
            ".dkr.ecr.",
            region,
            ".",
            Aws.URL_SUFFIX,
            f"/{framework.repository}:{tag or framework.tag}",
        ],
    )


def registry_account(scope: Construct) -> str:
    """The framework registry account for ``scope``'s region (a token when env-agnostic)."""
    stack = Stack.of(scope)
    if Token.is_unresolved(stack.region):
        return _registry_mapping(stack).find_in_map(Aws.REGION, "account")
    return FRAMEWORK_REGISTRIES[stack.region]


def _registry_mapping(stack: Stack) -> CfnMapping:
    existing = stack.node.try_find_child(_MAPPING_ID)
    if isinstance(existing, CfnMapping):
        return existing
    return CfnMapping(
        stack,
        _MAPPING_ID,
        mapping={region: {"account": account} for region, account in FRAMEWORK_REGISTRIES.items()},
    )
