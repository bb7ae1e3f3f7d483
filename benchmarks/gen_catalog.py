"""Synthetic services catalog for benchmarks: N services, a realistic mix, deterministic.

    python benchmarks/gen_catalog.py 1000 > /tmp/catalog-1000.yaml
    python benchmarks/gen_catalog.py 1000 --seed 7 > /tmp/catalog-1000.yaml

The mix, per service (seeded, so the same N and seed give the same file):

* about N/8 teams; each team's quota covers its services at max replicas plus a surge pod each in every stack,
  with headroom;
* varied requests/limits inside the LimitRange ratios (cpu ≤ 4×, memory ≤ 2×);
* scaling: ~20 % min 1 (no PodDisruptionBudget where that holds), the rest min 2-3;
* custom probes, a separate metrics port, SLOs and public exposure for some services;
* 0-4 plain environment variables, 0-3 secrets;
* Kafka: 0-2 produced topics, 0-3 consumed ones (each consumed topic has exactly one
  producer, never the consumer itself);
* 0-3 synchronous calls to other services (never to itself);
* per-environment overrides only for the stacks in ``stacks/`` and always inside each
  stack's ``paved:minReplicas`` floor and ``paved:maxReplicas`` cap (read from the files).

The output passes ``paved validate --catalog FILE``.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

ADJECTIVES = ["order", "cart", "price", "stock", "user", "search", "promo", "ledger", "media", "route",
              "fraud", "review", "tax", "quote", "loyalty", "invoice", "profile", "catalog", "session", "event"]
NOUNS = ["api", "worker", "sync", "gateway", "indexer", "scheduler", "router", "store", "feed", "engine",
         "reporter", "notifier", "resolver", "ingest", "export"]
TEAM_WORDS = ["checkout", "fulfillment", "growth", "identity", "payments", "logistics", "platform", "data",
              "search", "mobile", "web", "billing", "support", "partners", "risk", "content"]
EVENTS = ["created", "updated", "deleted", "completed", "failed", "requested", "expired", "scored"]
SECRET_NAMES = ["db-password", "api-token", "signing-key", "smtp-password", "webhook-secret", "oauth-client"]
ENV_VARS = {
    "LOG_LEVEL": ["info", "warn", "debug"],
    "REQUEST_TIMEOUT_MS": ["500", "1000", "3000"],
    "WORKER_THREADS": ["2", "4", "8"],
    "CACHE_TTL_SECONDS": ["60", "300", "900"],
    "FEATURE_NEW_CHECKOUT": ["true", "false"],
    "UPSTREAM_URL": ["https://api.partner.example.net/v1", "https://api.partner.example.net/v2"],
    "BATCH_SIZE": ["50", "100", "500"],
}
CPU_REQUESTS = ["50m", "100m", "200m", "250m", "500m", "1"]
MEM_REQUESTS_MI = [64, 128, 192, 256, 384, 512, 1024]


def stack_limits(root: Path = ROOT) -> dict[str, tuple[int, int]]:
    """Stack name → (paved:minReplicas, paved:maxReplicas), read from ``stacks/Pulumi.*.yaml``."""
    limits = {}
    for path in sorted((root / "stacks").glob("Pulumi.*.yaml")):
        config = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("config") or {}
        env = path.name[len("Pulumi."):-len(".yaml")]
        limits[env] = (int(config.get("paved:minReplicas", 1)), int(config.get("paved:maxReplicas", 1000)))
    if not limits:
        raise SystemExit(f"no stacks/Pulumi.*.yaml under {root}")
    return limits


def _cpu_millis(q: str) -> int:
    return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)


def _cpu_text(millis: int) -> str:
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def _mem_text(mi: int) -> str:
    return f"{mi // 1024}Gi" if mi % 1024 == 0 else f"{mi}Mi"


def _service_names(n: int, rng: random.Random) -> list[str]:
    names, seen = [], set()
    for i in range(n):
        base = f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}"
        name = base if base not in seen else f"{base}-{i}"
        seen.add(name)
        names.append(name)
    return names


def _clamp(lo: int, hi: int, floor: int, cap: int) -> tuple[int, int]:
    lo = min(max(lo, floor), cap)
    hi = min(max(hi, lo), cap)
    return lo, hi


def generate(n: int, seed: int = 0, root: Path = ROOT) -> str:
    """The YAML text of a valid catalog with ``n`` services (and about n/8 teams)."""
    if n < 1:
        raise ValueError("n must be >= 1")
    rng = random.Random(seed)
    limits = stack_limits(root)
    n_teams = max(1, round(n / 8))
    team_names = [
        f"{TEAM_WORDS[i % len(TEAM_WORDS)]}-{i // len(TEAM_WORDS)}" if i >= len(TEAM_WORDS) else TEAM_WORDS[i]
        for i in range(n_teams)
    ]
    names = _service_names(n, rng)
    # Base scaling must hold where no override applies; overrides fix the rest per stack.
    base_cap = min(cap for _, cap in limits.values())

    produced: list[tuple[str, str]] = []  # (topic, producer)
    services = []
    for i, name in enumerate(names):
        team = team_names[i % n_teams] if i < n_teams else rng.choice(team_names)
        cpu_req = rng.choice(CPU_REQUESTS)
        cpu_lim = _cpu_text(_cpu_millis(cpu_req) * rng.choice([1, 2, 2, 4]))
        mem_req = rng.choice(MEM_REQUESTS_MI)
        mem_lim = mem_req * rng.choice([1, 2, 2])
        lo = 1 if rng.random() < 0.2 else rng.choice([2, 2, 3])
        hi = min(base_cap, lo + rng.choice([0, 1, 2, 3]))
        lo = min(lo, hi)
        svc: dict = {
            "name": name,
            "team": team,
            "description": f"Synthetic {name.replace('-', ' ')} service #{i} for benchmarks.",
            "image": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{team}/{name}:{rng.randint(0, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
            "port": rng.choice([8080, 8080, 8080, 9000, 3000]),
            "resources": {
                "requests": {"cpu": cpu_req, "memory": _mem_text(mem_req)},
                "limits": {"cpu": cpu_lim, "memory": _mem_text(mem_lim)},
            },
            "scaling": {"min": lo, "max": hi},
        }
        if rng.random() < 0.3:
            svc["scaling"]["targetCpuPercent"] = rng.choice([50, 60, 75, 80])
        if rng.random() < 0.4:
            svc["probes"] = {
                "liveness": {"path": "/healthz", "periodSeconds": rng.choice([5, 10, 15])},
                "readiness": {"path": "/ready", "periodSeconds": 5, "failureThreshold": rng.choice([3, 6])},
            }
            if rng.random() < 0.3:
                svc["probes"]["startup"] = {"path": "/healthz", "periodSeconds": 2, "failureThreshold": 60}
        if rng.random() < 0.15:
            svc["metrics"] = {"path": "/metrics", "port": 9102}
        env_keys = rng.sample(sorted(ENV_VARS), rng.randint(0, 4))
        if env_keys:
            svc["env"] = {k: rng.choice(ENV_VARS[k]) for k in env_keys}
        secrets = rng.sample(SECRET_NAMES, rng.choice([0, 1, 1, 2, 3]))
        if secrets:
            svc["secrets"] = [
                s if rng.random() < 0.6 else {"name": s, "description": f"{s} of {name}", "rotationDays": rng.choice([30, 90])}
                for s in secrets
            ]
        kafka: dict = {}
        own = [f"{name}.{e}" for e in rng.sample(EVENTS, rng.choice([0, 0, 1, 1, 2]))]
        if own:
            kafka["produces"] = [
                {"name": t, "partitions": rng.choice([3, 6, 12])} | ({"retentionHours": 336} if rng.random() < 0.2 else {})
                for t in own
            ]
        svc["kafka"] = kafka
        services.append(svc)
        produced += [(t, name) for t in own]
        if rng.random() < 0.2:
            svc["slo"] = {"availability": rng.choice([99.0, 99.5, 99.9, 99.95]), "latencyP99Ms": rng.choice([100, 300, 1000])}
        if rng.random() < 0.1:
            svc["public"] = {"host": f"{name}.shop.example.com", "path": "/"}

    for svc in services:
        others = [t for t, p in produced if p != svc["name"]]
        consumes = rng.sample(others, min(len(others), rng.choice([0, 1, 1, 2, 3])))
        if consumes:
            svc["kafka"]["consumes"] = consumes
        if not svc["kafka"]:
            del svc["kafka"]
        callees = [s for s in rng.sample(names, min(n, 4)) if s != svc["name"]][: rng.choice([0, 0, 1, 1, 2, 3])]
        if callees:
            svc["calls"] = callees

    # Per-stack overrides: where the base falls outside a stack's floor/cap, plus the usual
    # "smaller in dev, bigger in prod" and a few env/resource tweaks.
    for svc in services:
        overrides: dict = {}
        lo, hi = svc["scaling"]["min"], svc["scaling"]["max"]
        for env, (floor, cap) in limits.items():
            want_lo, want_hi = lo, hi
            if env == "prod" and rng.random() < 0.5:
                want_lo, want_hi = lo + 1, hi * 3
            elif env == "dev" and rng.random() < 0.4:
                want_lo, want_hi = 1, 2
            e_lo, e_hi = _clamp(want_lo, want_hi, floor, cap)
            o: dict = {}
            if (e_lo, e_hi) != (lo, hi):
                o["scaling"] = {"min": e_lo, "max": e_hi}
            if env == "dev" and "env" in svc and "LOG_LEVEL" in svc["env"] and rng.random() < 0.5:
                o["env"] = {"LOG_LEVEL": "debug"}
            if env == "prod" and rng.random() < 0.15:
                req = _cpu_millis(svc["resources"]["requests"]["cpu"]) * 2
                lim = max(req, _cpu_millis(svc["resources"]["limits"]["cpu"]))
                o["resources"] = {"requests": {"cpu": _cpu_text(req)}, "limits": {"cpu": _cpu_text(lim)}}
            if o:
                overrides[env] = o
        if overrides:
            svc["overrides"] = overrides

    teams = []
    for t in team_names:
        need_cpu = need_mem = need_pods = 0
        for env in limits:
            cpu = mem = pods = 0
            for svc in services:
                if svc["team"] != t:
                    continue
                o = svc.get("overrides", {}).get(env, {})
                mx = o.get("scaling", {}).get("max", svc["scaling"]["max"])
                req_cpu = o.get("resources", {}).get("requests", {}).get("cpu", svc["resources"]["requests"]["cpu"])
                mem_text = svc["resources"]["requests"]["memory"]
                mem_mi = int(mem_text[:-2]) * (1024 if mem_text.endswith("Gi") else 1)
                # Every service at max replicas plus its one rolling-update surge pod (maxSurge 1),
                # what `paved validate` requires of a quota.
                cpu += _cpu_millis(req_cpu) * (mx + 1)
                mem += mem_mi * (mx + 1)
                pods += mx + 1
            need_cpu, need_mem, need_pods = max(need_cpu, cpu), max(need_mem, mem), max(need_pods, pods)
        # 10 % headroom on top, rounded up to whole cores / GiB.
        teams.append({
            "name": t,
            "owner": f"{t}-team@shop.example.com",
            "costCenter": f"cc-{1000 + team_names.index(t)}",
            # Protected stacks (prod) require a receiver per team (docs/alerting.md).
            "alerts": {"slack": {"channel": f"#{t}-alerts"}},
            "quota": {
                "cpu": str(max(1, math.ceil(need_cpu * 1.1 / 1000))),
                "memory": f"{max(1, math.ceil(need_mem * 1.1 / 1024))}Gi",
                "pods": max(10, math.ceil(need_pods * 1.1) + 5),
            },
        })

    header = f"# Synthetic catalog: {n} services, {n_teams} teams, seed {seed} (benchmarks/gen_catalog.py)\n"
    return header + yaml.safe_dump({"teams": teams, "services": services}, sort_keys=False, width=120)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("n", type=int, help="number of services")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    sys.stdout.write(generate(args.n, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
