"""The policy pack Pulumi loads: ``pulumi preview --policy-pack policies``.

Builds the PolicyPack from the registry and nothing else. Constructing PolicyPack starts
the analyzer's gRPC server and blocks, so no test or other module imports this file.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # Pulumi runs this file by path; find the policies package
    sys.path.insert(0, str(ROOT))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.registry import RULES  # noqa: E402

PolicyPack(
    name="paved",
    description="paved security, cost and reliability rules",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[rule.policy() for rule in RULES],
)
