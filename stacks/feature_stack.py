"""The stage's feature store: a customer-churn feature group and its Athena workgroup."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from sagemaker_lifecycle import DataLake
from sagemaker_lifecycle.feature_store import (
    Feature,
    FeatureGroup,
    FeatureType,
    OfflineQueryWorkgroup,
    OnlineStore,
)

#: Customer demographics and usage, one record per customer, dated by ``event_time``.
CUSTOMER_CHURN_FEATURES = (
    Feature("customer_id", FeatureType.STRING),
    Feature("event_time", FeatureType.STRING),
    # Demographics and account
    Feature("age", FeatureType.INTEGRAL),
    Feature("region", FeatureType.STRING),
    Feature("tenure_months", FeatureType.INTEGRAL),
    Feature("contract_type", FeatureType.STRING),
    Feature("payment_method", FeatureType.STRING),
    Feature("paperless_billing", FeatureType.INTEGRAL),
    Feature("product_count", FeatureType.INTEGRAL),
    # Usage over the trailing 30 or 90 days
    Feature("monthly_charges", FeatureType.FRACTIONAL),
    Feature("total_charges", FeatureType.FRACTIONAL),
    Feature("call_minutes_30d", FeatureType.FRACTIONAL),
    Feature("data_usage_gb_30d", FeatureType.FRACTIONAL),
    Feature("support_calls_90d", FeatureType.INTEGRAL),
    Feature("days_since_last_login", FeatureType.INTEGRAL),
)


class FeatureStack(Stack):
    """A :class:`FeatureGroup` of churn features and an :class:`OfflineQueryWorkgroup`.

    The offline store and the query results live in ``data_lake``'s curated zone.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data_lake: DataLake,
        name_prefix: str = "",
        **kwargs: Any,
    ) -> None:
        """
        :param data_lake: the stage's data lake.
        :param name_prefix: prepended to the feature group and workgroup names, which are
            unique per account and region (for example ``"dev-"``). Default: none.
        """
        super().__init__(scope, id, **kwargs)
        self.query_workgroup = OfflineQueryWorkgroup(
            self,
            "OfflineQuery",
            workgroup_name=f"{name_prefix}feature-store",
            data_lake=data_lake,
            results_expiration=Duration.days(30),
        )
        self.customer_churn = FeatureGroup(
            self,
            "CustomerChurn",
            feature_group_name=f"{name_prefix}customer-churn",
            description="Customer demographics and usage for churn models",
            features=CUSTOMER_CHURN_FEATURES,
            record_identifier="customer_id",
            event_time="event_time",
            data_lake=data_lake,
            # Customers who leave drop out of the online store a year after their last
            # update; their history stays in the offline store for retraining.
            online_store=OnlineStore(ttl=Duration.days(365)),
        )
