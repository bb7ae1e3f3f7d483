"""PAVED-SEC-013: AppArmor is never turned off (PSS baseline "AppArmor").

Both the securityContext.appArmorProfile field (Kubernetes 1.30+) and the older
``container.apparmor.security.beta.kubernetes.io/<container>`` pod annotations are checked.
"""

from __future__ import annotations

from collections.abc import Mapping

from policies.framework import Rule, container_check, pod_check
from paved.resources import POD_SPEC_PATHS, UNKNOWN, WORKLOAD_TYPES, kind_of, lookup, object_name

ALLOWED_TYPES = ("RuntimeDefault", "Localhost")
ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
PATH = "securityContext.appArmorProfile.type"


def _problem(value, where: str) -> str | None:
    if value is UNKNOWN:
        return f"set {where} appArmorProfile.type to RuntimeDefault or Localhost (it is unknown at preview)"
    if value is not None and value not in ALLOWED_TYPES:
        return f"set {where} appArmorProfile.type to RuntimeDefault or Localhost, not {value}"
    return None


def _annotation_ok(value) -> bool:
    return isinstance(value, str) and (value in ("", "runtime/default") or value.startswith("localhost/"))


_check_pod = pod_check(lambda pod, config: _problem(lookup(pod, PATH), "the pod"))
_check_containers = container_check(lambda c, pod, config: _problem(lookup(c, PATH), "its"))


def _validate(args, report):
    _check_pod(args, report)
    _check_containers(args, report)
    path = POD_SPEC_PATHS.get(args.resource_type)
    if path is None:
        return
    annotations = lookup(args.props, (*path[:-1], "metadata", "annotations"))
    if not isinstance(annotations, Mapping):
        return
    bad = [key for key in annotations if key.startswith(ANNOTATION_PREFIX) and not _annotation_ok(lookup(annotations, (key,)))]
    if bad:
        report(f"{kind_of(args.resource_type)} {object_name(args.props, args.name)} must not unconfine AppArmor "
               f"(annotations {', '.join(sorted(bad))} must be runtime/default or localhost/<profile>).")


RULE = Rule(
    id="PAVED-SEC-013",
    name="apparmor-not-unconfined",
    description="Checks whether the pod, a container or a pod annotation overrides the runtime's default AppArmor "
    "profile with Unconfined.",
    severity="medium",
    remediation="Remove the Unconfined AppArmor setting; use RuntimeDefault or a Localhost profile.",
    anchors=("PSS baseline: AppArmor", "NSA: Hardening container environments"),
    validate=_validate,
    resource_types=WORKLOAD_TYPES,
)
