"""Rules of deployments and their status."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from crucible.ir import deployment
from crucible.ir.enums import (
    AuthType,
    DeploymentState,
    DeploymentStrategy,
    TargetType,
)
from crucible.ir.rules.registry import Finding, pointer, rule


@rule("deployment.replicas_out_of_bounds", deployment.Config)
def _replicas_bounds(config: deployment.Config) -> Iterator[Finding]:
    """Replicas lie within the scaling bounds."""
    scaling = config.scaling
    if scaling is None:
        return
    if config.replicas < scaling.min_replicas:
        yield pointer("replicas"), f"replicas {config.replicas} is below min_replicas"
    elif scaling.max_replicas is not None and config.replicas > scaling.max_replicas:
        yield pointer("replicas"), f"replicas {config.replicas} is above max_replicas"


@rule("deployment.canary_requires_canary_strategy", deployment.Config)
def _canary_strategy(config: deployment.Config) -> Iterator[Finding]:
    """A canary configuration only goes with the canary strategy."""
    if config.canary is not None and config.strategy != DeploymentStrategy.CANARY:
        yield pointer("canary"), f"canary settings with strategy {config.strategy}"


@rule("deployment.rollback_to_self", deployment.Config)
def _rollback_self(config: deployment.Config) -> Iterator[Finding]:
    """A rollback goes to another model version."""
    if (
        config.rollback is not None
        and config.rollback.to_model_version_id == config.model_version_id
    ):
        yield (
            pointer("rollback", "to_model_version_id"),
            "rolls back to the version being deployed",
        )


@rule("target.namespace_requires_kubernetes", deployment.Target)
def _target_namespace(target: deployment.Target) -> Iterator[Finding]:
    """Namespaces are a Kubernetes notion."""
    if target.namespace is not None and target.type != TargetType.KUBERNETES:
        yield pointer("namespace"), f"a {target.type} target has no namespace"


@rule("scaling.bounds_order", deployment.ScalingConfig)
def _scaling_bounds(scaling: deployment.ScalingConfig) -> Iterator[Finding]:
    """The lower bound does not exceed the upper."""
    if scaling.max_replicas is not None and scaling.min_replicas > scaling.max_replicas:
        yield pointer("min_replicas"), "min_replicas exceeds max_replicas"


@rule("resources.limit_below_request", deployment.ResourceSpec)
def _resource_limits(spec: deployment.ResourceSpec) -> Iterator[Finding]:
    """A limit is never below its request."""
    pairs: Sequence[tuple[str, str | None, str | None, Callable[[str], float]]] = (
        ("cpu_limit", spec.cpu, spec.cpu_limit, deployment.parse_cpu),
        ("memory_limit", spec.memory, spec.memory_limit, deployment.parse_memory),
    )
    for name, request, limit, parse in pairs:
        if request is None or limit is None:
            continue
        try:
            below = parse(limit) < parse(request)
        except ValueError:  # a bad quantity is a structural (pattern) error already
            continue
        if below:
            yield pointer(name), f"{name} {limit} is below the request {request}"


@rule("resources.gpu_type_without_gpu", deployment.ResourceSpec)
def _gpu_type(spec: deployment.ResourceSpec) -> Iterator[Finding]:
    """A GPU type needs GPUs."""
    if spec.gpu_type is not None and not spec.gpu:
        yield pointer("gpu_type"), "gpu_type without gpu"


@rule("health_check.timeout_exceeds_interval", deployment.HealthCheckConfig)
def _health_timeout(check: deployment.HealthCheckConfig) -> Iterator[Finding]:
    """A probe times out before the next one starts."""
    if check.timeout_seconds > check.interval_seconds:
        yield pointer("timeout_seconds"), "timeout_seconds exceeds interval_seconds"


@rule("endpoint.secret_required", deployment.EndpointConfig)
def _endpoint_secret(endpoint: deployment.EndpointConfig) -> Iterator[Finding]:
    """Key, bearer and OAuth2 authentication name where their secret lives."""
    if (
        endpoint.auth in (AuthType.API_KEY, AuthType.BEARER, AuthType.OAUTH2)
        and not endpoint.auth_secret_ref
    ):
        yield pointer("auth_secret_ref"), f"{endpoint.auth} authentication needs auth_secret_ref"


@rule("endpoint.protocol_mismatch", deployment.EndpointConfig)
def _endpoint_protocol(endpoint: deployment.EndpointConfig) -> Iterator[Finding]:
    """A URL's scheme agrees with the protocol (when the scheme names one)."""
    if endpoint.url is None:
        return
    scheme = endpoint.url.partition("://")[0].lower()
    known = {"http", "https", "grpc", "tcp"}
    if scheme in known and scheme != endpoint.protocol:
        yield pointer("protocol"), f"protocol {endpoint.protocol} but the URL scheme is {scheme}"


@rule("canary.traffic_order", deployment.CanaryConfig)
def _canary_traffic(canary: deployment.CanaryConfig) -> Iterator[Finding]:
    """A canary starts at or below its maximum traffic."""
    if canary.initial_traffic_percent > canary.max_traffic_percent:
        yield pointer("initial_traffic_percent"), "initial traffic exceeds max_traffic_percent"


@rule("deployment_status.ready_exceeds_total", deployment.Status)
def _status_replicas(status: deployment.Status) -> Iterator[Finding]:
    """Ready replicas are among the total."""
    if (
        status.ready_replicas is not None
        and status.total_replicas is not None
        and status.ready_replicas > status.total_replicas
    ):
        yield pointer("ready_replicas"), "ready_replicas exceeds total_replicas"


@rule("deployment_status.error_required", deployment.Status)
def _status_error(status: deployment.Status) -> Iterator[Finding]:
    """A failed deployment says why."""
    if status.state == DeploymentState.FAILED and not status.error_message:
        yield pointer("error_message"), "a failed deployment needs an error_message"


@rule("deployment_status.time_order", deployment.Status)
def _status_times(status: deployment.Status) -> Iterator[Finding]:
    """``updated_at`` is not before ``created_at``."""
    if status.created_at and status.updated_at and status.updated_at < status.created_at:
        yield pointer("updated_at"), "updated_at is before created_at"
