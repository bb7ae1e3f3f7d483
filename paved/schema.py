"""The catalog's JSON Schema, generated from the model (``paved schema``)."""

from __future__ import annotations

from typing import Any

from paved.model import CatalogDoc

SCHEMA_ID = "https://paved.dev/schemas/services_catalog.schema.json"
# JSON Schema patterns are ECMA-262, where `$` is the end of the text; many validators
# (Python's jsonschema among them) use their host's regex, where `$` also matches before a
# final newline. `(?!\n)` after it means the same in both.
END_OF_TEXT = "$(?!\\n)"


def _end(pattern: str) -> str:
    return pattern[:-1] + END_OF_TEXT if pattern.endswith("$") else pattern


def _strict(node: Any) -> Any:
    """Full-string patterns everywhere, and mappings keyed by a pattern (``env``) take no
    other keys, as the model's key validator refuses them."""
    if isinstance(node, list):
        return [_strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == "pattern" and isinstance(v, str):
            out[k] = _end(v)
        elif k == "patternProperties" and isinstance(v, dict):
            out[k] = {_end(p): _strict(sub) for p, sub in v.items()}
            out.setdefault("additionalProperties", False)
        else:
            out[k] = _strict(v)
    return out


# Descriptions and examples of the catalog's fields where the model gives none, by
# (definition, property). Kept here, beside the schema, so the model stays about validation.
# A description the model already has wins; examples are added where it has none.
FIELD_DOCS: dict[tuple[str, str], tuple[str, list[Any]]] = {
    ("CatalogDoc", "teams"): ("The teams: each owns services and gets one namespace.",
                              [[{"name": "checkout", "owner": "checkout-team@shop.example.com", "costCenter": "cc-1001",
                                 "quota": {"cpu": "10", "memory": "16Gi", "pods": 60}}]]),
    ("CatalogDoc", "services"): ("The services: one entry per microservice.",
                                 [[{"name": "orders", "team": "checkout", "description": "Accepts orders.",
                                    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/orders:1.8.2",
                                    "port": 8080, "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                                                                "limits": {"cpu": "1", "memory": "512Mi"}},
                                    "scaling": {"min": 2, "max": 4}}]]),
    ("Alerts", "slack"): ("A Slack channel the team's alerts go to (the webhook URL is a secret, <env>/_alerts/<team>/slack).",
                          [{"channel": "#checkout-alerts"}]),
    ("Alerts", "email"): ("An address the team's alerts are e-mailed to, through the stack's SMTP relay.",
                          [{"to": "checkout-oncall@shop.example.com"}]),
    ("Alerts", "pagerduty"): ("A PagerDuty service paged for the team's critical alerts (the routing key is a secret).",
                              [{"service": "Checkout"}]),
    ("Api", "type"): ("", ["openapi"]),
    ("Api", "definition"): ("", ["sample_services/orders/openapi.yaml"]),
    ("CpuMemory", "cpu"): ("CPU as a Kubernetes quantity: cores or millicores, more than zero.", ["250m", "1", 0.5]),
    ("CpuMemory", "memory"): ("Memory as a Kubernetes quantity (bytes, or with Ki/Mi/Gi), more than zero.",
                              ["256Mi", "1Gi"]),
    ("CpuMemoryOverride", "cpu"): ("CPU for this environment, replacing the base entry's.", ["500m"]),
    ("CpuMemoryOverride", "memory"): ("Memory for this environment, replacing the base entry's.", ["768Mi"]),
    ("Egress", "cidr"): ("", ["198.51.100.0/24"]),
    ("Egress", "ports"): ("", [[443]]),
    ("Egress", "description"): ("", ["Payment provider API (api.payments.example.net)"]),
    ("Kafka", "produces"): ("Topics the service writes to; it owns them (partitions, retention).",
                            [[{"name": "order-placed", "partitions": 6}]]),
    ("Kafka", "consumes"): ("Topics the service reads, by name; another service (or this one) produces each.",
                            [["payment-completed", "payment-failed"]]),
    ("Metrics", "path"): ("HTTP path Prometheus scrapes, starting with '/'.", ["/metrics"]),
    ("Metrics", "port"): ("", [9090]),
    ("Probe", "path"): ("", ["/healthz", "/readyz"]),
    ("Probe", "initialDelaySeconds"): ("Seconds after the container starts before the first probe.", [0, 5]),
    ("Probe", "periodSeconds"): ("Seconds between probes.", [10, 5]),
    ("Probe", "timeoutSeconds"): ("Seconds a probe may take before it counts as failed.", [2]),
    ("Probe", "failureThreshold"): ("Failed probes in a row before the kubelet acts (restart, or out of the Service).",
                                    [3, 30]),
    ("Probes", "startup"): ("Held until the app has started; liveness and readiness wait for it.", [{"path": "/healthz"}]),
    ("Probes", "liveness"): ("Restarts the container when it fails.", [{"path": "/healthz"}]),
    ("Probes", "readiness"): ("Takes the pod out of the Service while it fails.", [{"path": "/readyz", "periodSeconds": 5}]),
    ("Public", "host"): ("Public DNS name on the shared ALB; labels of at most 63 characters.", ["api.shop.example.com"]),
    ("Public", "path"): ("Path prefix routed to the service on that host.", ["/orders", "/"]),
    ("Quota", "cpu"): ("", ["10", "8"]),
    ("Quota", "memory"): ("", ["16Gi"]),
    ("Quota", "pods"): ("", [60]),
    ("Resources", "requests"): ("What the scheduler reserves for each replica.", [{"cpu": "250m", "memory": "256Mi"}]),
    ("Resources", "limits"): ("The most each replica may use; memory above it is killed.", [{"cpu": "1", "memory": "512Mi"}]),
    ("ResourcesOverride", "requests"): ("Requests for this environment, key by key.", [{"cpu": "500m"}]),
    ("ResourcesOverride", "limits"): ("Limits for this environment, key by key.", [{"cpu": "1"}]),
    ("Scaling", "min"): ("", [2]),
    ("Scaling", "max"): ("", [4, 12]),
    ("Scaling", "targetCpuPercent"): ("Average CPU use, as a percentage of requests, the autoscaler aims for.", [70]),
    ("Scaling", "targetMemoryPercent"): ("Average memory use, as a percentage of requests, the autoscaler aims for.", [80]),
    ("Scaling", "scaleDownStabilizationSeconds"): ("Seconds the autoscaler waits before removing replicas.", [300]),
    ("ScalingOverride", "min"): ("Minimum replicas in this environment.", [1, 3]),
    ("ScalingOverride", "max"): ("Maximum replicas in this environment.", [2, 12]),
    ("ScalingOverride", "targetCpuPercent"): ("CPU target in this environment.", [60]),
    ("ScalingOverride", "targetMemoryPercent"): ("Memory target in this environment.", [75]),
    ("ScalingOverride", "scaleDownStabilizationSeconds"): ("Scale-down wait in this environment.", [600]),
    ("Secret", "name"): ("The secret's name within the service (a DNS label); Secrets Manager's is "
                         "<env>/<team>/<service>/<name>.", ["db-password"]),
    ("Secret", "description"): ("What the value is, for the people who set it (Secrets Manager's Description).",
                                ["Password of the orders database user."]),
    ("Secret", "rotation"): ("managed: the platform generates and rotates the value; third-party: a vendor issues it "
                             "and it is set with `paved secrets put`.", ["managed", "third-party"]),
    ("Secret", "rotationDays"): ("Days between rotations of a managed secret.", [30]),
    ("Service", "name"): ("DNS-1035 label: lower case, starts with a letter, at most 63 characters; names the "
                          "Deployment, Service and more.", ["orders"]),
    ("Service", "team"): ("Name of the owning team in teams.", ["checkout"]),
    ("Service", "description"): ("One sentence on what the service does.", ["Accepts orders and runs the order saga."]),
    ("Service", "formerNames"): ("", [["orders-v1"]]),
    ("Service", "image"): ("Container image with a tag other than latest, or a digest.",
                           ["123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/orders:1.8.2"]),
    ("Service", "port"): ("The port the container serves HTTP on; probes and the Service use it.", [8080]),
    ("Service", "resources"): ("CPU and memory requests and limits per replica.",
                               [{"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}]),
    ("Service", "scaling"): ("Replicas and the autoscaler's targets.", [{"min": 2, "max": 4, "targetCpuPercent": 70}]),
    ("Service", "probes"): ("HTTP startup, liveness and readiness probes on the service port.",
                            [{"liveness": {"path": "/healthz"}, "readiness": {"path": "/readyz", "periodSeconds": 5}}]),
    ("Service", "metrics"): ("Where Prometheus scrapes the service's metrics.", [{"path": "/metrics"}]),
    ("Service", "env"): ("Environment variables (strings). Names the platform sets (PORT, PAVED_*, OTEL_*, KAFKA_*, "
                         "AWS_*, ...) are refused, and so are values that look like credentials: use secrets.",
                         [{"LOG_LEVEL": "info"}]),
    ("Service", "secrets"): ("Secrets the service reads, mounted as files; a name alone is a managed secret.",
                             [["db-password", {"name": "provider-api-key", "rotation": "third-party"}]]),
    ("Service", "kafka"): ("Kafka topics the service produces and consumes.",
                           [{"produces": [{"name": "order-placed", "partitions": 6}], "consumes": ["payment-completed"]}]),
    ("Service", "calls"): ("Services this one calls over HTTP; NetworkPolicies let it reach exactly those.", [["inventory"]]),
    ("Service", "egress"): ("", [[{"cidr": "198.51.100.0/24", "ports": [443], "description": "Payment provider API"}]]),
    ("Service", "slo"): ("Service-level objectives; the alert rules are derived from them.",
                         [{"availability": 99.9, "latencyP99Ms": 300}]),
    ("Service", "public"): ("Exposes the service on the shared internet-facing ALB.",
                            [{"host": "api.shop.example.com", "path": "/orders"}]),
    ("Service", "api"): ("", [{"type": "openapi", "definition": "sample_services/orders/openapi.yaml"}]),
    ("Service", "overrides"): ("Per-environment changes, keyed by an existing stack name (stacks/Pulumi.<env>.yaml).",
                               [{"dev": {"scaling": {"min": 1, "max": 2}}, "prod": {"scaling": {"min": 3, "max": 12}}}]),
    ("ServiceOverride", "image"): ("The image in this environment.",
                                   ["123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/orders:1.9.0-rc1"]),
    ("ServiceOverride", "resources"): ("Requests and limits in this environment, key by key.",
                                       [{"requests": {"cpu": "500m"}}]),
    ("ServiceOverride", "scaling"): ("Scaling in this environment, key by key.", [{"min": 1, "max": 2}]),
    ("ServiceOverride", "env"): ("Variables added or replaced in this environment (same rules as env).",
                                 [{"LOG_LEVEL": "debug"}]),
    ("ServiceOverride", "public"): ("The public host and path in this environment.",
                                    [{"host": "api.staging.shop.example.com", "path": "/orders"}]),
    ("Slo", "availability"): ("", [99.9]),
    ("Slo", "latencyP99Ms"): ("", [300]),
    ("Team", "name"): ("", ["checkout"]),
    ("Team", "owner"): ("", ["checkout-team@shop.example.com"]),
    ("Team", "costCenter"): ("", ["cc-1001"]),
    ("Team", "namespace"): ("", ["checkout"]),
    ("Team", "quota"): ("The team namespace's ResourceQuota: it must hold the services at max replicas plus a "
                        "rolling-update surge pod.", [{"cpu": "10", "memory": "16Gi", "pods": 60}]),
    ("Topic", "name"): ("Kafka topic name: letters, digits, '.', '_' and '-'; not '.', '..' or starting with '__'.",
                        ["order-placed"]),
    ("Topic", "partitions"): ("Number of partitions.", [6]),
    ("Topic", "retentionHours"): ("Hours Kafka keeps messages.", [168]),
    # The data block (paved/model_data.py, docs/data.md).
    ("Cache", "maxStorageGb"): ("", [1, 5]),
    ("Cache", "maxEcpuPerSecond"): ("", [5000]),
    ("CacheOverride", "maxStorageGb"): ("Serverless data storage limit in GB in this environment.", [5]),
    ("CacheOverride", "maxEcpuPerSecond"): ("Serverless compute limit (ECPU per second) in this environment.", [10000]),
    ("Capacity", "read"): ("", [5]),
    ("Capacity", "write"): ("Write capacity units.", [5]),
    ("Data", "postgres"): ("A dedicated RDS for PostgreSQL instance for the service.",
                           [{"instanceClass": "db.t4g.micro", "storageGb": 20, "engineVersion": "17"}]),
    ("Data", "tables"): ("DynamoDB tables the service owns (on-demand unless capacity is given).",
                         [[{"name": "stock", "hashKey": {"name": "sku", "type": "S"}}]]),
    ("Data", "cache"): ("An ElastiCache Serverless cache (Valkey or Redis OSS) for the service.",
                        [{"engine": "valkey", "maxStorageGb": 1}]),
    ("DataOverride", "postgres"): ("The database's size in this environment, key by key.",
                                   [{"instanceClass": "db.t4g.medium", "storageGb": 50}]),
    ("DataOverride", "cache"): ("The cache's limits in this environment, key by key.", [{"maxStorageGb": 5}]),
    ("KeyAttribute", "type"): ("", ["S"]),
    ("Migrate", "timeoutSeconds"): ("", [600]),
    ("Postgres", "migrate"): ("", [{"command": ["python", "/app/service/app.py", "migrate"]}]),
    ("PostgresOverride", "instanceClass"): ("The DB instance class in this environment (within the stack's caps).",
                                            ["db.t4g.medium"]),
    ("PostgresOverride", "storageGb"): ("Allocated gp3 storage in GB in this environment.", [50]),
    ("PostgresOverride", "maxStorageGb"): ("Storage autoscaling ceiling in GB in this environment.", [200]),
    ("PostgresOverride", "engineVersion"): ("PostgreSQL major (or major.minor) version in this environment.", ["17"]),
    ("Public", "auth"): ("OpenID Connect sign-in at the load balancer before requests reach the service.",
                         [{"type": "oidc", "issuer": "https://login.example.com",
                           "authorizationEndpoint": "https://login.example.com/oauth2/authorize",
                           "tokenEndpoint": "https://login.example.com/oauth2/token",
                           "userInfoEndpoint": "https://login.example.com/oauth2/userinfo",
                           "clientSecret": "oidc-client"}]),
    ("PublicAuth", "authorizationEndpoint"): ("The provider's authorization endpoint (HTTPS).", []),
    ("PublicAuth", "tokenEndpoint"): ("The provider's token endpoint (HTTPS).", []),
    ("PublicAuth", "userInfoEndpoint"): ("The provider's user info endpoint (HTTPS).", []),
    ("PublicAuth", "onUnauthenticatedRequest"): ("", ["authenticate", "deny"]),
    ("SecondaryIndex", "name"): ("The global secondary index's name.", []),
    ("SecondaryIndex", "hashKey"): ("The index's partition key.", [{"name": "warehouse", "type": "S"}]),
    ("SecondaryIndex", "rangeKey"): ("The index's sort key.", [{"name": "sku", "type": "S"}]),
    ("SecondaryIndex", "projection"): ("", ["ALL", "KEYS_ONLY"]),
    ("ServiceOverride", "data"): ("The datastores' sizes in this environment, key by key.",
                                  [{"postgres": {"instanceClass": "db.t4g.medium", "storageGb": 50}}]),
    ("Table", "hashKey"): ("The table's partition key.", [{"name": "sku", "type": "S"}]),
    ("Table", "rangeKey"): ("The table's sort key.", [{"name": "warehouse", "type": "S"}]),
    ("Table", "gsis"): ("Global secondary indexes.",
                        [[{"name": "by-warehouse", "hashKey": {"name": "warehouse", "type": "S"}}]]),
    ("Table", "capacity"): ("", [{"read": 5, "write": 5}]),
}


def _title(name: str) -> str:
    """``formerNames`` → ``Former names``, ``latencyP99Ms`` → ``Latency p99 ms``."""
    import re

    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()
    return text[:1].upper() + text[1:]


def _document(schema: dict[str, Any]) -> dict[str, Any]:
    """Every property described, with examples, and a readable title."""
    nodes = [("CatalogDoc", schema), *schema.get("$defs", {}).items()]
    for def_name, node in schema.get("$defs", {}).items():
        node["title"] = _title(def_name)  # CpuMemoryOverride → Cpu memory override
    for def_name, node in nodes:
        for prop, sub in node.get("properties", {}).items():
            description, examples = FIELD_DOCS.get((def_name, prop), ("", []))
            if description and "description" not in sub:
                sub["description"] = description
            if examples and "examples" not in sub:
                sub["examples"] = examples
            sub["title"] = _title(prop)
    return schema


def catalog_schema(stacks: list[str] | None = None) -> dict[str, Any]:
    """JSON Schema (2020-12) of ``services_catalog.yaml`` for editors and CI.

    With ``stacks`` (the project's stack names), ``overrides`` may only name those, as
    `paved validate` requires.
    """
    schema = CatalogDoc.model_json_schema(by_alias=True, mode="validation")
    if stacks is not None:
        schema["$defs"]["Service"]["properties"]["overrides"]["propertyNames"] = {"enum": list(stacks)}
    schema = _document(_strict(schema))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "paved services catalog",
        **{k: v for k, v in schema.items() if k != "title"},
    }
