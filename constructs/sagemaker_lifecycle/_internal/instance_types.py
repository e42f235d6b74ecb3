"""What the constructs need to know about an ML instance type beyond the API's enum.

The SageMaker API model (``ProductionVariantInstanceType``) says which instance types exist;
two facts about them are not in any service model and are derived here from documented
rules, in one place:

* **Local NVMe instance storage.** Instance types with an instance store keep the endpoint's
  ML storage on NVMe SSDs that a hardware module encrypts (XTS-AES-256, keys that never
  leave the instance: EC2 User Guide, "SSD instance store volumes"). A volume KMS key does
  not encrypt that storage: CreateEndpointConfig's ``KmsKeyId`` documentation up to
  botocore 1.43 says the call *fails* with a key for such types, from botocore 1.44 that
  the key "does not encrypt instance local storage". Either way the key buys nothing on
  these types and can break the deployment, so the endpoint constructs omit it.
  The rule: EC2's naming convention marks instance store with the ``d`` attribute
  (``m5d``, ``c6gd``, ``g4dn``, ``p4de``: EC2 Instance Types guide, "Instance type naming
  conventions"), and the accelerated families in :data:`NVME_FAMILIES_WITHOUT_D` ship NVMe
  instance store without the letter (EC2 "Instance store volume limits"; SageMaker's
  "Managing storage paths for different types of instance local storage" names ml.g5).
  A family not known to have an instance store keeps the key, which the current API
  accepts even where it has one (``g7``, ``g7e``: not yet documented).
* **vCPUs.** Endpoint ``CPUUtilization`` is summed over cores (0 to 100 x vCPUs), so a
  percentage threshold needs the core count: EC2 sizes follow medium = 1, large = 2,
  xlarge = 4 and Nxlarge = 4N vCPUs, with the exceptions in :data:`VCPU_EXCEPTIONS`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

#: Accelerated families with NVMe instance store whose names carry no ``d`` attribute.
NVME_FAMILIES_WITHOUT_D: Final = frozenset(
    {
        "dl1",
        "g5",
        "g6",
        "g6e",
        "p5",
        "p5e",
        "p5en",
        "p6-b200",
        "p6-b300",
        "p6e-gb200",
        "trn1",
        "trn1n",
        "trn2",
    }
)

#: Instance types whose vCPU count breaks the size rule.
VCPU_EXCEPTIONS: Mapping[str, int] = MappingProxyType({"ml.t2.medium": 2, "ml.c4.8xlarge": 36})

# ml.<family letters><generation digits><attribute letters>[-<suffix>].<size>
_INSTANCE_TYPE = re.compile(
    r"^ml\.(?P<family>(?P<letters>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z]*)(?:-[a-z0-9]+)?)"
    r"\.(?P<size>\w+)$"
)
_SIZE = re.compile(r"^(?:(?P<factor>\d+)?xlarge|large|medium)$")
_SIZE_VCPUS = {"medium": 1, "large": 2}


def instance_family(instance_type: str) -> str | None:
    """The family of ``ml.<family>.<size>`` (``g4dn``, ``p6-b200``), or None if unparsable."""
    match = _INSTANCE_TYPE.match(instance_type)
    return match.group("family") if match else None


def has_local_instance_storage(instance_type: str) -> bool:
    """Whether ``instance_type`` keeps its ML storage on an NVMe instance store."""
    match = _INSTANCE_TYPE.match(instance_type)
    if match is None:
        return False
    return "d" in match.group("attributes") or match.group("family") in NVME_FAMILIES_WITHOUT_D


def vcpu_count(instance_type: str) -> int | None:
    """The vCPUs of ``instance_type`` by EC2's size rule, or None for an unknown size."""
    if instance_type in VCPU_EXCEPTIONS:
        return VCPU_EXCEPTIONS[instance_type]
    match = _INSTANCE_TYPE.match(instance_type)
    size = _SIZE.match(match.group("size")) if match else None
    if size is None:
        return None
    text = size.group(0)
    if text in _SIZE_VCPUS:
        return _SIZE_VCPUS[text]
    return 4 * int(size.group("factor") or 1)
