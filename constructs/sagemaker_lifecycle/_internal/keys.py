"""KMS key-policy statements that several constructs need, written once."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

#: What CloudWatch Logs does with a log group's key.
_LOGS_KEY_ACTIONS = [
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
]


def allow_cloudwatch_logs(key: kms.IKey, *, log_group_arn: str | None = None) -> bool:
    """Let CloudWatch Logs encrypt log groups with ``key``; return whether it was added.

    CloudWatch Logs uses the key on the log group's behalf, so the statement names the
    regional logs service principal and pins the encryption context: to ``log_group_arn``
    when given, otherwise to any log group of the key's own account and region (naming a
    group that refers to the key would make the two depend on each other). An imported key
    is left alone, since its policy is not ours to change: the caller then warns or
    documents what the key's owner must allow.
    """
    stack = Stack.of(key)
    arn = log_group_arn or stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name="*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    operator = "ArnEquals" if log_group_arn else "ArnLike"
    added: bool = key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=_LOGS_KEY_ACTIONS,
            resources=["*"],  # in a key policy, "*" means this key
            conditions={operator: {"kms:EncryptionContext:aws:logs:arn": arn}},
        )
    ).statement_added
    return added
