"""Encrypted SNS topics and SQS dead-letter queues, built the same way by every construct."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from sagemaker_lifecycle._internal.nag import acknowledge


def encrypted_topic(
    scope: Construct, id: str, *, key: kms.IKey, display_name: str | None = None
) -> sns.Topic:
    """An SNS topic encrypted with ``key`` that refuses publishes without TLS.

    Services that publish to it (EventBridge, CloudWatch alarms) need ``kms:Decrypt`` and
    ``kms:GenerateDataKey*`` on the key: grant them with :func:`grant_service_publish`.
    """
    return sns.Topic(scope, id, master_key=key, enforce_ssl=True, display_name=display_name)


def grant_service_publish(topic: sns.ITopic, key: kms.IKey, service: str) -> None:
    """Let an AWS service (``events.amazonaws.com``) publish to an encrypted topic.

    The service needs the topic's key for the data key of each message; the topic policy
    is added by the L2 target/action classes themselves.
    """
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"AllowPublishFrom{service.split('.', maxsplit=1)[0].capitalize()}",
            principals=[iam.ServicePrincipal(service)],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" means this key
        )
    )


def dead_letter_queue(
    scope: Construct,
    id: str,
    *,
    key: kms.IKey,
    retention: Duration = Duration.days(14),
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
) -> sqs.Queue:
    """A KMS-encrypted, TLS-only queue that keeps failed events for ``retention``.

    Retained on stack deletion by default: it holds the events that still need handling.
    """
    queue = sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=retention,
        removal_policy=removal_policy,
    )
    acknowledge(
        queue,
        "AwsSolutions-SQS3",
        "This queue is itself a dead-letter queue; a dead-letter queue of a dead-letter "
        "queue would only move the same messages again.",
    )
    return queue
