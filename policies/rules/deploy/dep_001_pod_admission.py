"""PAVED-DEP-001: every pod template is admitted at the Pod Security level its namespace enforces.

Pod Security Admission checks Pods, not their controllers: a Deployment the namespace's
``enforce`` level rejects is created, but its ReplicaSet never gets a Pod, and ``pulumi up``
waits until the rollout times out. This rule runs paved's own PSS rules (PAVED-SEC-001..017)
at the namespace's level, with the standard's values rather than an environment's config.
"""

from __future__ import annotations

from pulumi_policy import ResourceValidationArgs

from paved.resources import UNKNOWN, WORKLOAD_TYPES, items, lookup
from policies.framework import Rule, container_check, pod_check
from policies.rules.deploy.graph import (
    Graph,
    kind,
    namespace,
    namespace_labels,
    shown_name,
)

ENFORCE = "pod-security.kubernetes.io/enforce"
LEVELS = ("privileged", "baseline", "restricted")

# PSS controls (kubernetes.io/docs/concepts/security/pod-security-standards) and the paved rule
# that implements each. SEC-006 and SEC-007 hold the restricted form of Seccomp and
# Capabilities; at baseline the two checks below apply instead.
BASELINE = (
    "PAVED-SEC-012",  # HostProcess
    "PAVED-SEC-008",  # Host Namespaces
    "PAVED-SEC-001",  # Privileged Containers
    "PAVED-SEC-009",  # HostPath Volumes
    "PAVED-SEC-010",  # Host Ports
    "PAVED-SEC-013",  # AppArmor
    "PAVED-SEC-014",  # SELinux
    "PAVED-SEC-015",  # /proc Mount Type
    "PAVED-SEC-016",  # Sysctls
    "PAVED-SEC-017",  # Host Probes / Lifecycle Hooks
)
RESTRICTED = (
    *BASELINE,
    "PAVED-SEC-011",  # Volume Types
    "PAVED-SEC-002",  # Privilege Escalation
    "PAVED-SEC-003",  # Running as Non-root
    "PAVED-SEC-004",  # Running as Non-root user
    "PAVED-SEC-006",  # Seccomp (restricted: must be set)
    "PAVED-SEC-007",  # Capabilities (restricted: drop ALL, add only NET_BIND_SERVICE)
)
# PSS baseline "Capabilities": what a container may add without dropping anything.
BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})


def _baseline_capabilities(container, pod, config):
    added = items(container, "securityContext.capabilities.add")
    extra = sorted(str(c) for c in added if c is not UNKNOWN and c not in BASELINE_CAPABILITIES)
    if extra:
        return f"add only baseline capabilities (adds {', '.join(extra)})"
    return None


def _baseline_seccomp_container(container, pod, config):
    if lookup(container, "securityContext.seccompProfile.type") == "Unconfined":
        return "not set seccompProfile.type Unconfined"
    return None


def _baseline_seccomp_pod(pod, config):
    if lookup(pod, "securityContext.seccompProfile.type") == "Unconfined":
        return "not set the pod seccompProfile.type Unconfined"
    return None


BASELINE_ONLY = (container_check(_baseline_capabilities), container_check(_baseline_seccomp_container),
                 pod_check(_baseline_seccomp_pod))


def _rules_by_id() -> dict[str, Rule]:
    # Looked up through the registry at run time: the PSS rules' modules may move between
    # category folders, their ids do not.
    from policies.registry import RULES

    return {rule.id: rule for rule in RULES}


def admission_problems(resource, level: str) -> list[str]:
    """What Pod Security Admission at ``level`` would reject in a workload's pod template."""
    if level not in ("baseline", "restricted"):
        return []
    rules = _rules_by_id()
    found: list[str] = []
    args = ResourceValidationArgs(resource.resource_type, resource.props, resource.urn, resource.name,
                                  resource.opts, resource.provider, config=None)
    for rule_id in (RESTRICTED if level == "restricted" else BASELINE):
        rules[rule_id].run_resource(args, lambda message, urn=None: found.append(message))
    if level == "baseline":
        for check in BASELINE_ONLY:
            check(args, lambda message, urn=None: found.append(message))
    return found


def validate_stack(args, report) -> None:
    config = args.get_config()
    graph = Graph(args.resources)
    labels = namespace_labels(graph)
    for r in graph.of_type(*WORKLOAD_TYPES):
        ns = namespace(r)
        if not isinstance(ns, str):
            continue
        if ns in labels:
            level = labels[ns].get(ENFORCE) or "privileged"  # no label: the cluster default (privileged on EKS)
        else:
            level = config["unplannedNamespaceLevel"]
        if level is UNKNOWN or level not in LEVELS:
            continue
        problems = admission_problems(r, level)
        if problems:
            reasons = " ".join(p.rstrip(".") + "." for p in problems[:3])
            more = f" ({len(problems) - 3} more)" if len(problems) > 3 else ""
            report(f"{kind(r)} {shown_name(r)} must pass Pod Security {level}, which namespace {ns} enforces, or "
                   f"its pods are rejected and the rollout never completes: {reasons}{more}", r.urn)


RULE = Rule(
    id="PAVED-DEP-001",
    name="pod-admission",
    description=(
        "Checks whether every pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod, Argo "
        "Rollout) passes "
        "the Pod Security Standard its namespace enforces (pod-security.kubernetes.io/enforce on the Namespace in the "
        "plan; unplannedNamespaceLevel for a namespace the plan does not create), by running PAVED-SEC-001..017 for "
        "restricted and their baseline subset for baseline."
    ),
    severity="high",
    remediation=(
        "Fix the pod template (the violation names the control), or, for a recorded exception, run it in a namespace "
        "that enforces baseline. Pod Security Admission rejects non-compliant Pods at creation, so a Deployment's "
        "ReplicaSet stays at 0 pods and `pulumi up` times out waiting for the rollout."
    ),
    anchors=(
        "kubernetes.io/docs/concepts/security/pod-security-standards (baseline and restricted controls)",
        "kubernetes.io/docs/concepts/security/pod-security-admission (enforce applies to Pods; workload "
        "resources only get warn/audit)",
        "PSS restricted", "PSS baseline",
    ),
    validate_stack=validate_stack,
    config={
        "unplannedNamespaceLevel": {
            "type": "string", "enum": ["skip", "privileged", "baseline", "restricted"], "default": "skip",
            "description": "Pod Security level assumed for a namespace the plan does not create (skip: not checked).",
        },
    },
    enforcement="mandatory",
)
