"""The restricted security context (Pod Security Standards "restricted"), defined once.

paved's own pods take it as typed args; the third-party charts it installs take the same
values as the camelCase dicts their ``values`` expect.
"""

from __future__ import annotations

from pulumi_kubernetes.core.v1 import (
    CapabilitiesArgs,
    PodSecurityContextArgs,
    SeccompProfileArgs,
    SecurityContextArgs,
)

# PSS restricted wants a non-zero user; >= 10000 keeps it clear of host users (CKV_K8S_40).
RUN_AS_USER = 10001
RUN_AS_GROUP = 10001
SECCOMP_PROFILE = "RuntimeDefault"
DROPPED_CAPABILITIES = ["ALL"]

RESTRICTED_POD = {"runAsNonRoot": True, "runAsUser": RUN_AS_USER, "runAsGroup": RUN_AS_GROUP,
                  "fsGroup": RUN_AS_GROUP, "seccompProfile": {"type": SECCOMP_PROFILE}}
RESTRICTED_CONTAINER = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "privileged": False,
                        "runAsNonRoot": True, "capabilities": {"drop": DROPPED_CAPABILITIES},
                        "seccompProfile": {"type": SECCOMP_PROFILE}}


def pod_security_context() -> PodSecurityContextArgs:
    """:data:`RESTRICTED_POD` as typed args."""
    return PodSecurityContextArgs(
        run_as_non_root=RESTRICTED_POD["runAsNonRoot"],
        run_as_user=RUN_AS_USER,
        run_as_group=RUN_AS_GROUP,
        fs_group=RUN_AS_GROUP,
        seccomp_profile=SeccompProfileArgs(type=SECCOMP_PROFILE),
    )


def container_security_context() -> SecurityContextArgs:
    """:data:`RESTRICTED_CONTAINER` as typed args, with the pod's user and group repeated on the
    container: a container-level context then stays restricted if the pod's is dropped."""
    c = RESTRICTED_CONTAINER
    return SecurityContextArgs(
        allow_privilege_escalation=c["allowPrivilegeEscalation"],
        privileged=c["privileged"],
        read_only_root_filesystem=c["readOnlyRootFilesystem"],
        run_as_non_root=c["runAsNonRoot"],
        run_as_user=RUN_AS_USER,
        run_as_group=RUN_AS_GROUP,
        capabilities=CapabilitiesArgs(drop=DROPPED_CAPABILITIES),
        seccomp_profile=SeccompProfileArgs(type=SECCOMP_PROFILE),
    )
