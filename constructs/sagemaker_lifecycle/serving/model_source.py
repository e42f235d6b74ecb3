"""What an endpoint serves: a container image with model data, or a registered model version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from aws_cdk import Stack
from aws_cdk import aws_ecr as ecr
from constructs import Construct

from sagemaker_lifecycle.images import Framework, image_uri, registry_account


@dataclass(frozen=True)
class InferenceImage:
    """A container image an endpoint runs, and the ECR repository its role may pull from."""

    image_uri: str
    """The image URI (``<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>``)."""
    repository_arn: str
    """ARN of the image's ECR repository: the model role gets pull access to it only."""

    @classmethod
    def from_framework(
        cls, scope: Construct, framework: Framework, *, tag: str | None = None
    ) -> InferenceImage:
        """A SageMaker framework container (XGBoost, scikit-learn) in ``scope``'s region.

        :param tag: an image tag other than the framework's pinned one. Default: pinned tag.
        """
        repository_arn = Stack.of(scope).format_arn(
            service="ecr",
            account=registry_account(scope),
            resource="repository",
            resource_name=framework.repository,
        )
        return cls(image_uri=image_uri(scope, framework, tag=tag), repository_arn=repository_arn)

    @classmethod
    def from_ecr_repository(cls, repository: ecr.IRepository, tag: str) -> InferenceImage:
        """An image you build into your own ECR repository (pin a tag or a digest)."""
        return cls(
            image_uri=repository.repository_uri_for_tag_or_digest(tag),
            repository_arn=repository.repository_arn,
        )


@dataclass(frozen=True)
class ModelSource:
    """The model an endpoint starts with: build it with :meth:`from_artifacts` or
    :meth:`from_model_package`.

    The approval flow replaces the model later (see the endpoints' ``deployment_spec``); the
    endpoint's role can pull :attr:`images` and read the artifacts-zone prefix the endpoint
    is given, so new versions must use those images and keep their model data there.
    """

    images: tuple[InferenceImage, ...]
    """Images the model role may pull: the container's, and those of later versions."""
    model_data_key: str | None = None
    """Key of the model data in the data lake's artifacts zone (a prefix for multi-model)."""
    model_package_arn: str | None = None
    """A registered model version (``model-package/<group>/<n>``) to serve."""
    environment: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Environment variables of the inference container."""

    @classmethod
    def from_artifacts(
        cls,
        image: InferenceImage,
        model_data_key: str,
        *,
        environment: Mapping[str, str] | None = None,
    ) -> ModelSource:
        """Serve ``image`` with the model data at ``model_data_key`` in the artifacts zone.

        :param model_data_key: for example ``models/churn/bootstrap/model.tar.gz``; for a
            multi-model endpoint, the prefix that holds the models (``models/churn/mme/``).
        :param environment: container environment. Default: none.
        """
        return cls(
            images=(image,),
            model_data_key=model_data_key,
            environment=MappingProxyType(dict(environment or {})),
        )

    @classmethod
    def from_model_package(
        cls,
        model_package_arn: str,
        *,
        images: tuple[InferenceImage, ...],
        environment: Mapping[str, str] | None = None,
    ) -> ModelSource:
        """Serve a registered model version.

        :param images: the images the version's inference specification uses, so the model
            role can pull them (a package does not say which at synth time).
        :param environment: container environment. Default: none.
        """
        return cls(
            images=tuple(images),
            model_package_arn=model_package_arn,
            environment=MappingProxyType(dict(environment or {})),
        )

    @property
    def image_uri(self) -> str | None:
        """The container image of an artifacts source (None for a model package)."""
        return self.images[0].image_uri if self.model_data_key is not None else None
