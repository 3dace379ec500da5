//! Rules of deployments and their status.

use super::python::{ascii_digits, repr_num};
use super::view::{greater, Findings, Obj};
use super::Rule;

const CONFIG: &[&str] = &["deployment.Config"];
const RESOURCES: &[&str] = &["deployment.ResourceSpec"];
const ENDPOINT: &[&str] = &["deployment.EndpointConfig"];
const STATUS: &[&str] = &["deployment.Status"];

pub const RULES: &[Rule] = &[
    Rule {
        code: "deployment.replicas_out_of_bounds",
        types: CONFIG,
        description: "Replicas lie within the scaling bounds.",
        check: replicas_bounds,
    },
    Rule {
        code: "deployment.canary_requires_canary_strategy",
        types: CONFIG,
        description: "A canary configuration only goes with the canary strategy.",
        check: canary_strategy,
    },
    Rule {
        code: "deployment.rollback_to_self",
        types: CONFIG,
        description: "A rollback goes to another model version.",
        check: rollback_self,
    },
    Rule {
        code: "target.namespace_requires_kubernetes",
        types: &["deployment.Target"],
        description: "Namespaces are a Kubernetes notion.",
        check: target_namespace,
    },
    Rule {
        code: "scaling.bounds_order",
        types: &["deployment.ScalingConfig"],
        description: "The lower bound does not exceed the upper.",
        check: scaling_bounds,
    },
    Rule {
        code: "resources.limit_below_request",
        types: RESOURCES,
        description: "A limit is never below its request.",
        check: resource_limits,
    },
    Rule {
        code: "resources.gpu_type_without_gpu",
        types: RESOURCES,
        description: "A GPU type needs GPUs.",
        check: gpu_type,
    },
    Rule {
        code: "health_check.timeout_exceeds_interval",
        types: &["deployment.HealthCheckConfig"],
        description: "A probe times out before the next one starts.",
        check: health_timeout,
    },
    Rule {
        code: "endpoint.secret_required",
        types: ENDPOINT,
        description: "Key, bearer and OAuth2 authentication name where their secret lives.",
        check: endpoint_secret,
    },
    Rule {
        code: "endpoint.protocol_mismatch",
        types: ENDPOINT,
        description: "A URL's scheme agrees with the protocol (when the scheme names one).",
        check: endpoint_protocol,
    },
    Rule {
        code: "canary.traffic_order",
        types: &["deployment.CanaryConfig"],
        description: "A canary starts at or below its maximum traffic.",
        check: canary_traffic,
    },
    Rule {
        code: "deployment_status.ready_exceeds_total",
        types: STATUS,
        description: "Ready replicas are among the total.",
        check: status_replicas,
    },
    Rule {
        code: "deployment_status.error_required",
        types: STATUS,
        description: "A failed deployment says why.",
        check: status_error,
    },
    Rule {
        code: "deployment_status.time_order",
        types: STATUS,
        description: "updated_at is not before created_at.",
        check: status_times,
    },
];

fn replicas_bounds(config: &Obj<'_, '_>, out: &mut Findings) {
    let Some(scaling) = config.obj("scaling") else {
        return;
    };
    let Some(replicas) = config.number("replicas") else {
        return;
    };
    if greater(scaling.number("min_replicas"), Some(replicas)) {
        out.add(
            "/replicas",
            format!("replicas {} is below min_replicas", repr_num(replicas)),
        );
    } else if greater(Some(replicas), scaling.number("max_replicas")) {
        out.add(
            "/replicas",
            format!("replicas {} is above max_replicas", repr_num(replicas)),
        );
    }
}

fn canary_strategy(config: &Obj<'_, '_>, out: &mut Findings) {
    let strategy = config.str("strategy").unwrap_or("");
    if config.is_set("canary") && strategy != "canary" {
        out.add(
            "/canary",
            format!("canary settings with strategy {strategy}"),
        );
    }
}

fn rollback_self(config: &Obj<'_, '_>, out: &mut Findings) {
    let Some(rollback) = config.obj("rollback") else {
        return;
    };
    let target = rollback.str("to_model_version_id");
    if target.is_some() && target == config.str("model_version_id") {
        out.add(
            "/rollback/to_model_version_id",
            "rolls back to the version being deployed",
        );
    }
}

fn target_namespace(target: &Obj<'_, '_>, out: &mut Findings) {
    let kind = target.str("type").unwrap_or("");
    if target.is_set("namespace") && kind != "kubernetes" {
        out.add("/namespace", format!("a {kind} target has no namespace"));
    }
}

fn scaling_bounds(scaling: &Obj<'_, '_>, out: &mut Findings) {
    if greater(
        scaling.number("min_replicas"),
        scaling.number("max_replicas"),
    ) {
        out.add("/min_replicas", "min_replicas exceeds max_replicas");
    }
}

/// `s` without one final newline (Python's `$` matches before it).
fn chomp(s: &str) -> &str {
    s.strip_suffix('\n').unwrap_or(s)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `\d+(\.\d+)?`
fn decimal(s: &str) -> bool {
    match s.split_once('.') {
        Some((whole, frac)) => all_digits(whole) && all_digits(frac),
        None => all_digits(s),
    }
}

/// Cores in a CPU quantity (digits of any script, as Python reads them) (`"500m"` is 0.5, `"2"` is 2.0); None if it is not one.
pub fn parse_cpu(quantity: &str) -> Option<f64> {
    let quantity = &ascii_digits(quantity);
    let q = chomp(quantity);
    if let Some(milli) = q.strip_suffix('m') {
        if all_digits(milli) && q.len() == quantity.len() {
            return milli.parse::<f64>().ok().map(|m| m / 1000.0);
        }
        return None;
    }
    decimal(q).then(|| q.parse::<f64>().ok()).flatten()
}

/// Bytes in a memory quantity (`"512Mi"`, `"1G"`); None if it is not one.
pub fn parse_memory(quantity: &str) -> Option<f64> {
    let quantity = &ascii_digits(quantity);
    let quantity = chomp(quantity);
    let split = quantity
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(quantity.len());
    let (number, unit) = quantity.split_at(split);
    if !decimal(number) {
        return None;
    }
    let scale: f64 = match unit {
        "" => 1.0,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0_f64.powi(2),
        "Gi" => 1024.0_f64.powi(3),
        "Ti" => 1024.0_f64.powi(4),
        "Pi" => 1024.0_f64.powi(5),
        "Ei" => 1024.0_f64.powi(6),
        _ => return None,
    };
    number.parse::<f64>().ok().map(|n| n * scale)
}

/// Reads a quantity (None if it is not one).
type Quantity = fn(&str) -> Option<f64>;

fn resource_limits(spec: &Obj<'_, '_>, out: &mut Findings) {
    let pairs: [(&str, &str, Quantity); 2] = [
        ("cpu_limit", "cpu", parse_cpu),
        ("memory_limit", "memory", parse_memory),
    ];
    for (name, request_name, parse) in pairs {
        let (Some(request), Some(limit)) = (spec.str(request_name), spec.str(name)) else {
            continue;
        };
        // A bad quantity is a structural (pattern) error already.
        if let (Some(r), Some(l)) = (parse(request), parse(limit)) {
            if l < r {
                out.add(
                    format!("/{name}"),
                    format!("{name} {limit} is below the request {request}"),
                );
            }
        }
    }
}

fn gpu_type(spec: &Obj<'_, '_>, out: &mut Findings) {
    if spec.is_set("gpu_type") && !spec.truthy("gpu") {
        out.add("/gpu_type", "gpu_type without gpu");
    }
}

fn health_timeout(check: &Obj<'_, '_>, out: &mut Findings) {
    if greater(
        check.number("timeout_seconds"),
        check.number("interval_seconds"),
    ) {
        out.add(
            "/timeout_seconds",
            "timeout_seconds exceeds interval_seconds",
        );
    }
}

fn endpoint_secret(endpoint: &Obj<'_, '_>, out: &mut Findings) {
    let auth = endpoint.str("auth").unwrap_or("");
    if matches!(auth, "api_key" | "bearer" | "oauth2") && !endpoint.truthy("auth_secret_ref") {
        out.add(
            "/auth_secret_ref",
            format!("{auth} authentication needs auth_secret_ref"),
        );
    }
}

fn endpoint_protocol(endpoint: &Obj<'_, '_>, out: &mut Findings) {
    let Some(url) = endpoint.str("url") else {
        return;
    };
    let scheme = url.split_once("://").map_or(url, |(s, _)| s).to_lowercase();
    let protocol = endpoint.str("protocol").unwrap_or("");
    if matches!(scheme.as_str(), "http" | "https" | "grpc" | "tcp") && scheme != protocol {
        out.add(
            "/protocol",
            format!("protocol {protocol} but the URL scheme is {scheme}"),
        );
    }
}

fn canary_traffic(canary: &Obj<'_, '_>, out: &mut Findings) {
    if let (Some(initial), Some(max)) = (
        canary.num("initial_traffic_percent"),
        canary.num("max_traffic_percent"),
    ) {
        if initial > max {
            out.add(
                "/initial_traffic_percent",
                "initial traffic exceeds max_traffic_percent",
            );
        }
    }
}

fn status_replicas(status: &Obj<'_, '_>, out: &mut Findings) {
    if greater(
        status.number("ready_replicas"),
        status.number("total_replicas"),
    ) {
        out.add("/ready_replicas", "ready_replicas exceeds total_replicas");
    }
}

fn status_error(status: &Obj<'_, '_>, out: &mut Findings) {
    if status.str("state") == Some("failed") && !status.truthy("error_message") {
        out.add(
            "/error_message",
            "a failed deployment needs an error_message",
        );
    }
}

fn status_times(status: &Obj<'_, '_>, out: &mut Findings) {
    if let (Some(created), Some(updated)) = (status.time("created_at"), status.time("updated_at")) {
        if updated < created {
            out.add("/updated_at", "updated_at is before created_at");
        }
    }
}
