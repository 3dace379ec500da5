"""Deployment: where and how a model version serves traffic, and how it is doing.

The original ``Deployment.Config`` kept ``target``, ``resources``, ``scaling``,
``health_check`` and ``endpoint`` as free maps; v0.3 types them (:class:`Target`,
:class:`ResourceSpec`, :class:`ScalingConfig`, :class:`HealthCheckConfig`,
:class:`EndpointConfig`) and adds :class:`CanaryConfig` and :class:`RollbackConfig`.
:func:`crucible.ir.migrate` moves v0.2 map keys into the typed fields (``provider`` becomes
``type``, ``min``/``max`` become ``min_replicas``/``max_replicas``...) and anything unknown
into ``options``.

Resource quantities use Kubernetes notation: CPU as cores (``"2"``, ``"0.5"``) or millicores
(``"500m"``), memory as bytes with an optional suffix (``"512Mi"``, ``"4Gi"``, ``"1G"``).
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

from crucible.ir.base import (
    Document,
    Id,
    IRStruct,
    JsonObject,
    NonNegativeInt,
    Percent,
    PositiveFloat,
    PositiveInt,
    Probability,
    Timestamp,
    Url,
)
from crucible.ir.enums import (
    AuthType,
    DeploymentState,
    DeploymentStrategy,
    Environment,
    HealthStatus,
    NetworkProtocol,
    TargetType,
)
from crucible.ir.reliability import RateLimit

__all__ = [
    "AuthType",
    "CanaryConfig",
    "Config",
    "DeploymentState",
    "DeploymentStrategy",
    "EndpointConfig",
    "Environment",
    "HealthCheckConfig",
    "HealthStatus",
    "NetworkProtocol",
    "ResourceSpec",
    "RollbackConfig",
    "ScalingConfig",
    "Status",
    "Target",
    "TargetType",
    "parse_cpu",
    "parse_memory",
]

_CPU_PATTERN = r"^(\d+(\.\d+)?|\d+m)$"
_MEMORY_PATTERN = r"^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$"
CpuQuantity = Annotated[str, msgspec.Meta(pattern=_CPU_PATTERN)]
MemoryQuantity = Annotated[str, msgspec.Meta(pattern=_MEMORY_PATTERN)]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]

_MEMORY_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def parse_cpu(quantity: str) -> float:
    """Cores in a CPU quantity: ``"500m"`` is 0.5, ``"2"`` is 2.0."""
    if not re.match(_CPU_PATTERN, quantity):
        raise ValueError(f"not a CPU quantity: {quantity!r}")
    if quantity.endswith("m"):
        return int(quantity[:-1]) / 1000
    return float(quantity)


def parse_memory(quantity: str) -> float:
    """Bytes in a memory quantity: ``"512Mi"`` is 536870912.0, ``"1G"`` is 1e9."""
    match = re.match(r"^(\d+(?:\.\d+)?)([A-Za-z]*)$", quantity)
    if not match or not re.match(_MEMORY_PATTERN, quantity):
        raise ValueError(f"not a memory quantity: {quantity!r}")
    return float(match.group(1)) * _MEMORY_UNITS[match.group(2)]


class Target(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where to deploy; ``namespace`` is a Kubernetes notion."""

    type: TargetType = TargetType.LOCAL
    cluster: str | None = None
    namespace: str | None = None
    region: str | None = None
    credentials_ref: Id | None = None
    options: JsonObject | None = None


class ResourceSpec(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Requests (``cpu``, ``memory``) and limits per replica; a limit is never below its
    request."""

    cpu: CpuQuantity | None = None
    memory: MemoryQuantity | None = None
    cpu_limit: CpuQuantity | None = None
    memory_limit: MemoryQuantity | None = None
    gpu: NonNegativeInt | None = None
    gpu_type: str | None = None
    options: JsonObject | None = None


class ScalingConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Autoscaling bounds and targets; ``Config.replicas`` must lie within the bounds."""

    min_replicas: NonNegativeInt = 1
    max_replicas: PositiveInt | None = None
    target_cpu_percent: Annotated[float, msgspec.Meta(gt=0.0, le=100.0)] | None = None
    target_memory_percent: Annotated[float, msgspec.Meta(gt=0.0, le=100.0)] | None = None
    target_requests_per_second: PositiveFloat | None = None
    scale_up_cooldown_seconds: NonNegativeInt | None = None
    scale_down_cooldown_seconds: NonNegativeInt | None = None
    options: JsonObject | None = None


class HealthCheckConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How liveness is probed; ``timeout_seconds`` stays below ``interval_seconds``."""

    protocol: NetworkProtocol = NetworkProtocol.HTTP
    path: Annotated[str, msgspec.Meta(pattern=r"^/")] = "/health"
    port: Port | None = None
    interval_seconds: PositiveInt = 10
    timeout_seconds: PositiveInt = 5
    initial_delay_seconds: NonNegativeInt = 0
    healthy_threshold: PositiveInt = 1
    unhealthy_threshold: PositiveInt = 3
    options: JsonObject | None = None


class EndpointConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The API a deployment exposes. ``auth_secret_ref`` names where the credential lives (an
    environment variable or secret name), never the credential itself."""

    url: Url | None = None
    path: Annotated[str, msgspec.Meta(pattern=r"^/")] | None = None
    port: Port | None = None
    protocol: NetworkProtocol = NetworkProtocol.HTTPS
    auth: AuthType = AuthType.NONE
    auth_secret_ref: Id | None = None
    timeout_ms: PositiveInt | None = None
    max_request_bytes: PositiveInt | None = None
    cors_origins: list[str] | None = None
    rate_limit: RateLimit | None = None
    options: JsonObject | None = None


class CanaryConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A canary rollout: start at ``initial_traffic_percent``, add ``step_percent`` every
    ``step_interval_seconds`` up to ``max_traffic_percent``, unless the analysis fails."""

    initial_traffic_percent: Annotated[float, msgspec.Meta(gt=0.0, le=100.0)] = 10.0
    step_percent: Annotated[float, msgspec.Meta(gt=0.0, le=100.0)] = 10.0
    step_interval_seconds: PositiveInt = 300
    max_traffic_percent: Annotated[float, msgspec.Meta(gt=0.0, le=100.0)] = 100.0
    max_error_rate: Probability | None = None
    max_latency_p99_ms: PositiveFloat | None = None
    metrics: list[Id] | None = None
    options: JsonObject | None = None


class RollbackConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When to roll back, and to which model version (never the one being deployed)."""

    automatic: bool = True
    to_model_version_id: Id | None = None
    error_rate_threshold: Probability | None = None
    latency_threshold_ms: PositiveFloat | None = None
    health_check_failures: PositiveInt | None = None
    window_seconds: PositiveInt = 300
    options: JsonObject | None = None


class Config(Document, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where and how a model version is deployed."""

    id: Id
    model_version_id: Id
    target: Target | None = None
    replicas: PositiveInt = 1
    resources: ResourceSpec | None = None
    scaling: ScalingConfig | None = None
    environment: Environment = Environment.DEVELOPMENT
    strategy: DeploymentStrategy = DeploymentStrategy.ROLLING
    health_check: HealthCheckConfig | None = None
    endpoint: EndpointConfig | None = None
    metadata: JsonObject | None = None
    options: JsonObject | None = None
    # v0.3
    canary: CanaryConfig | None = None
    rollback: RollbackConfig | None = None
    created_at: Timestamp | None = None


class Status(Document, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The observed state of a deployment."""

    id: Id
    deployment_id: Id
    state: DeploymentState = DeploymentState.PENDING
    ready_replicas: NonNegativeInt | None = None
    total_replicas: NonNegativeInt | None = None
    endpoint_url: str | None = None
    traffic_percent: Percent | None = None
    health: HealthStatus = HealthStatus.UNKNOWN
    last_health_check: Timestamp | None = None
    error_message: str | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
