"""Monthly cost estimate of a plan, in three modules that import downwards:

- :mod:`paved.cost.prices`: the price file (Price, Prices, load_prices, CostError);
- :mod:`paved.cost.estimate`: the priced lines and pod shares (Line, Share, Estimate, estimate());
- :mod:`paved.cost.output`: text and JSON rendering (money, cents, text, as_json).

The package re-exports only what the commands call (``paved cost`` and ``paved diff`` use
``cost.estimate``, ``cost.table_requests``, ``cost.text``, ``cost.as_json`` and ``cost.CostError``). Everything else
is imported from its module. ``paved.cost.estimate`` as an attribute is therefore the
function; ``from paved.cost.estimate import Estimate`` still reaches the module.
"""

from paved.cost.datastores import table_requests
from paved.cost.estimate import estimate
from paved.cost.output import as_json, text
from paved.cost.prices import CostError

__all__ = ["CostError", "as_json", "estimate", "table_requests", "text"]
