"""The paved Pulumi program: stack config + catalog → Platform → outputs.

Run by ``pulumi up`` (with the real engine) and by ``paved plan`` (under Pulumi's mocks);
one code path. No ``__init__.py`` here: a package named ``platform`` would shadow Python's
own ``platform`` module.
"""

import os
import sys
from pathlib import Path

import pulumi

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `pulumi up` runs this file by path; find paved/ beside it
    sys.path.insert(0, str(ROOT))

from components.platform import Platform, PlatformArgs  # noqa: E402
from components.safety import protect_stateful  # noqa: E402
from paved.catalog import load_catalog  # noqa: E402
from paved.layers import layer_of, split_stack  # noqa: E402
from paved.stack import list_stacks, pulumi_config, settings_from_config  # noqa: E402

# A team stack (ENV.TEAM) inherits the environment's settings (stacks/Pulumi.ENV.yaml) under
# its own; the offline engine hands the program the same merged config (paved.stack.layer_config).
environment, team = split_stack(pulumi.get_stack())
inherited = pulumi_config(ROOT, environment) if team is not None else {}


def _config_value(key: str) -> str | None:
    namespace, _, name = key.partition(":")
    own = pulumi.Config(namespace).get(name)
    return own if own is not None else inherited.get(key)


settings = settings_from_config(_config_value)
catalog_path = os.environ.get("PAVED_CATALOG") or str(ROOT / "services_catalog.yaml")
environments = {env: None for env in list_stacks(ROOT)}
environments[settings.environment] = settings
catalog = load_catalog(catalog_path, environments).for_environment(settings.environment)
layer = layer_of(pulumi.get_stack(), settings.layout, catalog)

pulumi.runtime.register_stack_transformation(protect_stateful(settings.protect_stateful))
platform = Platform("paved", PlatformArgs(catalog=catalog, settings=settings, layer=layer))

pulumi.export("environment", settings.environment)
pulumi.export("layer", layer.kind)
pulumi.export("cluster", platform.cluster_name)
pulumi.export("kafkaBootstrapServers", platform.kafka_bootstrap)
pulumi.export("namespaces", platform.namespaces)
pulumi.export("services", platform.services)
if layer.kind == "platform":  # what the team stacks read (paved.layers.CONTRACT)
    for key, value in platform.contract.items():
        pulumi.export(key, value)
