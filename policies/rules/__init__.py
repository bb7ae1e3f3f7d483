"""One rule per module, in one package per category (kubernetes, aws, cost, reliability).

Each category's ``__init__`` is its index: it imports its rule modules explicitly and lists
them in ``RULES``; ``policies/registry.py`` lists the categories. Helpers that several rules
share live next to them in their own modules (``kubernetes/images.py``, ``aws/aws_common.py``,
``cost/budget.py``), never in a rule file.
"""
