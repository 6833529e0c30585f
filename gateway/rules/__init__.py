"""Business rules beyond the XSD: the engine's stage after validation.

`gateway.validate` runs the rules in service on every document a schema judged (valid or not:
a document is reported whole, its rule violations beside its XSD ones), wherever the engine
runs: the proxy in both directions and inside SOAP, MTOM and TGZ carriers, `validate` and
`diff --samples`. A schema set carries its rules (`SchemaSet.rules`), loaded and hot-reloaded
with it (`gateway.reload`). One module per rule (`pays`, `pj`), the registry and the stage
(`ruleset`), the country referential (`referential`, `countries`, `normalise`).
"""

from gateway.rules.countries import CountryReferential, CountryVerdict
from gateway.rules.referential import ReferentialError, load_referential
from gateway.rules.ruleset import (
    NO_RULES,
    RULE_ACTIONS,
    RULES,
    RuleSet,
    actions,
    load_rules,
    logged_codes,
    shipped_rules,
)

__all__ = [
    "NO_RULES",
    "RULES",
    "RULE_ACTIONS",
    "CountryReferential",
    "CountryVerdict",
    "ReferentialError",
    "RuleSet",
    "actions",
    "load_referential",
    "load_rules",
    "logged_codes",
    "shipped_rules",
]
