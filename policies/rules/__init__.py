"""One rule per module, in one package per category (kubernetes, aws, cost, reliability).

Each category's ``__init__`` is its index: it imports its rule modules explicitly and lists
them in ``RULES``; ``policies/registry.py`` lists the categories. Helpers that several rules
share live in their own modules, never in a rule file: ``aws/aws_common.py``,
``cost/budget.py``, and :mod:`paved.resources` for what components or the cost estimate
read too (type tokens, workloads, image references).
"""
