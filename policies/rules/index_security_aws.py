"""The security aws rules, listed explicitly."""

from __future__ import annotations

from policies.framework import Rule

RULES: tuple[Rule, ...] = ()
