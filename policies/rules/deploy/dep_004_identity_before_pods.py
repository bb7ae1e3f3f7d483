"""PAVED-DEP-004: a workload is created after the AWS identity binding of its ServiceAccount.

EKS Pod Identity and IRSA both act when a Pod is *created*: the EKS Pod Identity webhook and
the IRSA pod identity webhook inject the credential variables and token volume at admission.
A Pod created before its PodIdentityAssociation (or before its ServiceAccount carries the
role annotation) runs with the node's identity until it is restarted, so its first AWS calls
fail. The workload must therefore depend on the binding.
"""

from __future__ import annotations

from paved.resources import WORKLOAD_TYPES, lookup, pod_spec
from policies.framework import Rule
from policies.rules.deploy.graph import Graph, kind, name, namespace, shown_name

POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


def bindings(graph: Graph) -> dict[tuple[str, str], list]:
    """(namespace, service account) → the resources that give it an AWS identity."""
    out: dict[tuple[str, str], list] = {}
    for r in graph.of_type(POD_IDENTITY):
        ns, sa = lookup(r.props, "namespace"), lookup(r.props, "serviceAccount")
        if isinstance(ns, str) and isinstance(sa, str):
            out.setdefault((ns, sa), []).append(r)
    for r in graph.of_type(SERVICE_ACCOUNT):
        if lookup(r.props, ("metadata", "annotations", IRSA_ANNOTATION)) is not None:
            ns, sa = namespace(r), name(r)
            if isinstance(ns, str) and isinstance(sa, str):
                out.setdefault((ns, sa), []).append(r)
    return out


def validate_stack(args, report) -> None:
    graph = Graph(args.resources)
    bound = bindings(graph)
    for r in graph.of_type(*WORKLOAD_TYPES):
        ns = namespace(r)
        pod = pod_spec(r.resource_type, r.props) or {}
        sa = lookup(pod, "serviceAccountName") or lookup(pod, "serviceAccount") or "default"
        if not (isinstance(ns, str) and isinstance(sa, str)):
            continue
        for binding in bound.get((ns, sa), []):
            if not graph.ordered_after(r, binding):
                what = "PodIdentityAssociation" if binding.resource_type == POD_IDENTITY else "ServiceAccount"
                report(f"{kind(r)} {shown_name(r)} must depend on {what} {binding.name}{graph.via(binding, r)}, "
                       f"which gives ServiceAccount {ns}/{sa} its AWS role: "
                       f"pods created before it run without those credentials until restarted.", r.urn)


RULE = Rule(
    id="PAVED-DEP-004",
    name="identity-before-pods",
    description=(
        "Checks whether every workload whose ServiceAccount is bound to an IAM role, by an EKS PodIdentityAssociation "
        "(namespace and serviceAccount) or an eks.amazonaws.com/role-arn annotation (IRSA), is ordered after that "
        "binding through dependsOn, directly or through parents and components."
    ),
    severity="high",
    remediation=(
        "Create the workload with dependsOn on the PodIdentityAssociation (or on the ServiceIdentity component that "
        "holds it); for IRSA, on the annotated ServiceAccount."
    ),
    anchors=(
        "docs.aws.amazon.com/eks/latest/userguide/pod-id-association.html (the EKS Pod Identity webhook mutates pods at "
        "creation; existing pods must be restarted)",
        "docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html (IRSA: annotate the service "
        "account, then restart pods)",
        "github.com/aws/amazon-eks-pod-identity-webhook",
    ),
    validate_stack=validate_stack,
    enforcement="mandatory",
)
