"""Reading the live cluster with the ``kubernetes`` client, for ``paved status`` and ``paved verify``.

The kubeconfig context is the one ``aws eks update-kubeconfig --name <clusterName> --region
<region>`` writes (named after the cluster's ARN, or its ``--alias``), unless ``--context``
names another. Every failure to reach or use the API becomes one :class:`PavedError` line that
says what to fix: no kubeconfig, no matching context, an unreachable server (bounded connect
timeout), 401 (expired or invalid credentials) and 403 (no read access).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

from paved.errors import PavedError

# (connect, read) seconds: an unreachable endpoint (private API, wrong network) fails fast.
TIMEOUT = (5, 30)

# Kind → (API group or "" for core, plural). The version comes from the object (rendered) or
# from discovery (custom resources, whose served version changes across releases).
PLURALS = {
    "Deployment": ("apps", "deployments"), "StatefulSet": ("apps", "statefulsets"),
    "DaemonSet": ("apps", "daemonsets"), "ReplicaSet": ("apps", "replicasets"),
    "Pod": ("", "pods"), "Event": ("", "events"), "Service": ("", "services"),
    "HorizontalPodAutoscaler": ("autoscaling", "horizontalpodautoscalers"),
    "PodDisruptionBudget": ("policy", "poddisruptionbudgets"),
    "Ingress": ("networking.k8s.io", "ingresses"),
    "ExternalSecret": ("external-secrets.io", "externalsecrets"),
    "ServiceMonitor": ("monitoring.coreos.com", "servicemonitors"),
    "Rollout": ("argoproj.io", "rollouts"),
    "EndpointSlice": ("discovery.k8s.io", "endpointslices"),
    "CustomResourceDefinition": ("apiextensions.k8s.io", "customresourcedefinitions"),
}
DEFAULT_VERSIONS = {"": "v1", "apps": "v1", "autoscaling": "v2", "policy": "v1", "networking.k8s.io": "v1",
                    "discovery.k8s.io": "v1",
                    "apiextensions.k8s.io": "v1"}


class _Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def kubeconfig_path(explicit: str | None) -> str:
    """The kubeconfig file: ``--kubeconfig``, else the first file of ``$KUBECONFIG``, else ~/.kube/config."""
    if explicit:
        return explicit
    env = os.environ.get("KUBECONFIG", "")
    first = next((p for p in env.split(os.pathsep) if p), None)
    return first or os.path.expanduser("~/.kube/config")


def eks_context(contexts: list[dict[str, Any]], cluster_name: str, region: str) -> str | None:
    """The context ``aws eks update-kubeconfig`` made for this cluster: named after its ARN
    (``arn:aws:eks:<region>:<account>:cluster/<name>``), or with ``--alias``, whose cluster
    entry still is that ARN."""
    arn = re.compile(rf"^arn:aws[a-z-]*:eks:{re.escape(region)}:\d{{12}}:cluster/{re.escape(cluster_name)}$")
    for ctx in contexts:
        if arn.match(ctx.get("name", "")) or arn.match((ctx.get("context") or {}).get("cluster", "")):
            return ctx["name"]
    return None


class Cluster:
    """One live cluster, read through the ``kubernetes`` client's ApiClient."""

    def __init__(self, api_client: Any, context: str):
        self.api = api_client
        self.context = context
        self.server = api_client.configuration.host
        self._groups: dict[str, str] | None = None

    @classmethod
    def connect(cls, cluster_name: str, region: str, context: str | None = None,
                kubeconfig: str | None = None) -> "Cluster":
        """A client for the stack's cluster; PavedError naming what to fix when there is none."""
        from kubernetes import config
        from kubernetes.config.config_exception import ConfigException

        path = kubeconfig_path(kubeconfig)
        update = f"aws eks update-kubeconfig --name {cluster_name} --region {region}"
        if not os.path.isfile(path):
            raise PavedError(f"no kubeconfig at {path}: run `{update}` (or pass --kubeconfig FILE)")
        try:
            contexts, _ = config.list_kube_config_contexts(config_file=path)
        except ConfigException as exc:
            raise PavedError(f"{path}: not a usable kubeconfig ({exc}): run `{update}`") from None
        contexts = contexts or []
        if context is None:
            context = eks_context(contexts, cluster_name, region)
            if context is None:
                raise PavedError(f"{path} has no context for EKS cluster {cluster_name} in {region}: "
                                 f"run `{update}`, or pass --context NAME")
        elif context not in {c.get("name") for c in contexts}:
            raise PavedError(f"{path} has no context named {context!r}: pass one of "
                             f"{', '.join(sorted(c.get('name', '') for c in contexts)) or '(none)'}")
        from kubernetes import client

        cfg = client.Configuration()
        # A failing credential plugin (`aws eks get-token` without valid AWS credentials) is only
        # logged by the client, which then goes on without a token; catch it to say so in one line.
        failures = _Failures()
        logging.getLogger().addHandler(failures)
        try:
            config.load_kube_config(config_file=path, context=context, client_configuration=cfg, persist_config=False)
        except ConfigException as exc:
            raise PavedError(f"kubeconfig context {context!r} cannot be used ({exc}): run `{update}`") from None
        finally:
            logging.getLogger().removeHandler(failures)
        if failures.messages:
            message = " ".join(failures.messages[-1].split())
            raise PavedError(f"the credential plugin of kubeconfig context {context!r} failed ({message[:300]}): "
                             "renew your AWS credentials (for example `aws sso login`), then retry")
        # One try per request: urllib3's default retries would multiply the connect timeout.
        # Set before the ApiClient exists, since its connection pool is built from it.
        cfg.retries = 0
        return cls(client.ApiClient(configuration=cfg), context)

    # -- reading ---------------------------------------------------------------------------------

    def get(self, path: str, query: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The JSON object at ``path``, or None when the server answers 404."""
        resp = self._call(path, query)
        if resp is None:
            return None
        return json.loads(resp.data)

    def _call(self, path: str, query: dict[str, Any] | None = None, stream: bool = False) -> Any:
        import urllib3
        from kubernetes.client.exceptions import ApiException

        try:
            return self.api.call_api(
                path, "GET", query_params=list((query or {}).items()),
                header_params={"Accept": "application/json"}, auth_settings=["BearerToken"],
                _return_http_data_only=True, _preload_content=False,
                _request_timeout=None if stream else TIMEOUT)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise self._api_error(exc, path) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            # urllib3 puts the connection object first and the sentence last.
            reason = reason.args[-1] if getattr(reason, "args", None) else reason
            raise PavedError(f"cannot reach the Kubernetes API at {self.server} (context {self.context}): {reason}; "
                             "run from a network that reaches the cluster endpoint (the deploy runner in its VPC) "
                             "or check the endpoint's allowed CIDRs") from None

    def _api_error(self, exc: Any, path: str) -> PavedError:
        if exc.status == 401:
            return PavedError(f"the Kubernetes API at {self.server} rejected the credentials (401 Unauthorized): "
                              "the token expired or is not valid; renew your AWS credentials and run "
                              "`aws eks update-kubeconfig` again")
        if exc.status == 403:
            try:
                message = json.loads(exc.body).get("message", "")
            except (TypeError, ValueError):
                message = ""
            return PavedError(f"forbidden (403) reading {path}: {message or exc.reason}; give this identity read "
                              "access (the stack's cluster.access.viewers or admins)")
        return PavedError(f"the Kubernetes API answered {exc.status} {exc.reason} for GET {path}")

    def groups(self) -> dict[str, str]:
        """Discovery: API group → its preferred version (``/apis``)."""
        if self._groups is None:
            doc = self.get("/apis") or {}
            self._groups = {g["name"]: g.get("preferredVersion", {}).get("version") or g["versions"][0]["version"]
                            for g in doc.get("groups", [])}
        return self._groups

    def _path(self, kind: str, namespace: str | None, api_version: str | None) -> str | None:
        group, plural = PLURALS[kind]
        version = api_version.rpartition("/")[2] if api_version else DEFAULT_VERSIONS.get(group)
        if version is None:
            version = self.groups().get(group)
            if version is None:
                return None
        base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
        return f"{base}/namespaces/{namespace}/{plural}" if namespace else f"{base}/{plural}"

    def list(self, kind: str, namespace: str | None = None, api_version: str | None = None,
             selector: str | None = None) -> list[dict[str, Any]]:
        """Objects of ``kind`` (in ``namespace``, or cluster-wide); [] when the server does not serve the kind."""
        path = self._path(kind, namespace, api_version)
        doc = self.get(path, {"labelSelector": selector} if selector else None) if path else None
        return list((doc or {}).get("items") or [])

    def read(self, kind: str, name: str, namespace: str | None = None,
             api_version: str | None = None) -> dict[str, Any] | None:
        """One object by name; None when it (or its kind) is not in the cluster."""
        path = self._path(kind, namespace, api_version)
        return self.get(f"{path}/{name}") if path else None

    def watch_deployments(self, seconds: int) -> Iterator[dict[str, Any]]:
        """Deployment changes anywhere in the cluster for up to ``seconds`` (the API's watch):
        ``--wait`` wakes up on the next change instead of polling blindly."""
        from kubernetes import client, watch

        # From the list's resourceVersion: a watch without one starts with an ADDED event per
        # existing object, which would wake the caller at once, every time.
        version = ((self.get("/apis/apps/v1/deployments", {"limit": 1}) or {}).get("metadata") or {}).get("resourceVersion")
        apps = client.AppsV1Api(self.api)
        w = watch.Watch()
        try:
            for event in w.stream(apps.list_deployment_for_all_namespaces, timeout_seconds=max(1, int(seconds)),
                                  resource_version=version, _request_timeout=(TIMEOUT[0], seconds + 5)):
                yield event
        except Exception as exc:  # noqa: BLE001 - the client raises ApiException or urllib3/OS errors
            from kubernetes.client.exceptions import ApiException

            if isinstance(exc, ApiException):
                raise self._api_error(exc, "/apis/apps/v1/deployments?watch=true") from None
            raise PavedError(f"cannot reach the Kubernetes API at {self.server} (context {self.context}): {exc}") from None
        finally:
            w.stop()
