"""The plan: rules files, the gap table, the indicator table and the register check.

:mod:`~dz_gis.plan.rules` (load and validate a rules file), :mod:`~dz_gis.plan.kinds` (one
registry entry per rule kind: parameters, validation, evaluator), :mod:`~dz_gis.plan.gaps`
(every rule against every unit), :mod:`~dz_gis.plan.indicators` (the plan's indicator table,
read from the rules file) and :mod:`~dz_gis.plan.register` (the community layer against a
statistics register). Shipped rules files live in ``rules_files/``.
"""

from .gaps import GAP_COLUMNS as GAP_COLUMNS
from .gaps import flag_gaps as flag_gaps
from .indicators import INDICATOR_KINDS as INDICATOR_KINDS
from .indicators import indicator_table as indicator_table
from .kinds import RULE_KINDS as RULE_KINDS
from .register import RegisterReport as RegisterReport
from .register import read_register as read_register
from .register import reconcile_register as reconcile_register
from .rules import Rule as Rule
from .rules import RuleSet as RuleSet
from .rules import builtin_rules_path as builtin_rules_path
from .rules import load_rules as load_rules

__all__ = [
    "GAP_COLUMNS",
    "INDICATOR_KINDS",
    "RULE_KINDS",
    "RegisterReport",
    "Rule",
    "RuleSet",
    "builtin_rules_path",
    "flag_gaps",
    "indicator_table",
    "load_rules",
    "read_register",
    "reconcile_register",
]
