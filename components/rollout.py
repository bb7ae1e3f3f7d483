"""Progressive delivery: a catalog service with ``rollout:`` is released by Argo Rollouts.

The service's ``Rollout`` replaces its Deployment and carries the very pod template the
Deployment would (components/service.py builds it once, :func:`rollout_spec` only wraps it), so
every rule on pod templates applies unchanged. Traffic moves by replica ratio (no traffic
router): at ``setWeight: 20`` about a fifth of the pods run the new version behind the same
Service. Blue-green runs a full preview ReplicaSet behind ``<service>-preview`` and promotes it
after its analysis.

The analysis (``analysis: slo``) is an AnalysisTemplate querying the in-cluster Prometheus for the
service's own SLO, through the recording rules components/slo.py generates for its alerts: the
5-minute error ratio must stay under the fast-burn page threshold, the p99 latency under the SLO
target. A failed analysis aborts the release: the controller scales the new version down and the
stable one keeps serving.
"""

from __future__ import annotations

from decimal import Decimal

from pulumi_kubernetes.core.v1 import PodTemplateSpecArgs

from components.addons.prometheus import prometheus_url
from components.slo import LATENCY_P99_RECORD, PAGE_WINDOWS, effective_slo, error_budget, error_ratio_record, service_selector
from components.versions import ROLLOUTS_API
from paved.model import Service, Team
from paved.quantity import plain_number
from paved.resources import SERVICE_MAX_SURGE, SERVICE_MAX_UNAVAILABLE

# How often the analysis measures, and how many failed measurements abort the release: two in a
# row rules out one noisy scrape, and the release stops within about two minutes of a bad canary.
ANALYSIS_INTERVAL = "1m"
FAILURE_LIMIT = 1  # measurements allowed to fail; the next failure aborts
# Blue-green: the preview is measured this many times before promotion (a canary's analysis runs
# in the background until its last step instead).
PRE_PROMOTION_MEASUREMENTS = 5


def analysis_template_name(service: Service) -> str:
    """The AnalysisTemplate of a service (in its namespace)."""
    return f"{service.name}-slo"


def preview_service_name(service: Service) -> str:
    """The Service in front of a blue-green preview."""
    return f"{service.name}-preview"


def _measured(series: str) -> str:
    # NaN (no requests in the window: 0/0) and an absent series read as 0, so a quiet canary is
    # not a failed one; a real number above the threshold still fails.
    return f"(max({series}) >= 0) or vector(0)"


def analysis_metrics(service: Service, team: Team) -> list[dict]:
    """The two SLO measurements: error ratio against the fast-burn threshold, p99 against the target."""
    slo, _ = effective_slo(service)
    sel = service_selector(service, team)
    fast = PAGE_WINDOWS[0]
    threshold = fast.factor * error_budget(slo)
    target_s = Decimal(slo.latency_p99_ms) / 1000
    count = {"count": PRE_PROMOTION_MEASUREMENTS} if service.rollout and service.rollout.strategy == "blueGreen" else {}

    def metric(name: str, series: str, limit: Decimal) -> dict:
        return {"name": name, "interval": ANALYSIS_INTERVAL, **count, "failureLimit": FAILURE_LIMIT,
                "successCondition": f"result[0] <= {plain_number(limit)}",
                "provider": {"prometheus": {"address": prometheus_url(), "query": _measured(f"{series}{{{sel}}}")}}}

    return [
        metric("error-ratio", error_ratio_record(fast.short), threshold),
        metric("latency-p99", LATENCY_P99_RECORD, target_s),
    ]


def analysis_template_spec(service: Service, team: Team) -> dict:
    """The AnalysisTemplate ``spec``."""
    return {"metrics": analysis_metrics(service, team)}


def strategy(service: Service) -> dict:
    """The Rollout's ``spec.strategy`` from the catalog's ``rollout``."""
    r = service.rollout
    assert r is not None
    analysis = {"templates": [{"templateName": analysis_template_name(service)}]} if r.analysis == "slo" else None
    if r.strategy == "blueGreen":
        blue_green: dict = {"activeService": service.name, "previewService": preview_service_name(service),
                            "autoPromotionEnabled": True}
        if analysis:
            blue_green["prePromotionAnalysis"] = analysis
        return {"blueGreen": blue_green}
    steps = [{"setWeight": s.set_weight} if s.set_weight is not None else {"pause": {"duration": s.pause.duration}}
             for s in r.steps]
    canary: dict = {"maxSurge": SERVICE_MAX_SURGE, "maxUnavailable": SERVICE_MAX_UNAVAILABLE, "steps": steps}
    if analysis:
        canary["analysis"] = analysis  # background analysis from the first step to the last
    return {"canary": canary}


def rollout_spec(service: Service, selector: dict[str, str], template: PodTemplateSpecArgs) -> dict:
    """The Rollout ``spec``: the Deployment's selector, pod template and pacing, with the catalog's
    strategy. No ``replicas``: the HorizontalPodAutoscaler owns the count (scaleTargetRef kind Rollout).
    A release that stops progressing is aborted, not left half-done."""
    return {
        "selector": {"matchLabels": dict(selector)},
        "template": template,
        "minReadySeconds": 5,
        "progressDeadlineSeconds": 600,
        "progressDeadlineAbort": True,
        "revisionHistoryLimit": 5,
        "strategy": strategy(service),
    }


def scale_target(service: Service) -> tuple[str, str]:
    """(apiVersion, kind) of the workload an autoscaler of ``service`` scales."""
    return (ROLLOUTS_API, "Rollout") if service.rollout is not None else ("apps/v1", "Deployment")
