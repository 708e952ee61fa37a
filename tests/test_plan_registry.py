"""The plan's registries: a new rule kind is one entry; indicators and the register come from the rules file."""

import textwrap

import pytest
from test_gaps import rule, run, status, world  # noqa: F401 - the world fixture

import dz_gis
from dz_gis import RulesError
from dz_gis.plan import RULE_KINDS, load_rules
from dz_gis.plan.kinds import Param, RuleKind, Verdict

ONE_RULE = (
    "rules:\n  - {id: k, title_zh: a, title_en: b, scope: community, kind: presence,"
    " params: {category: kindergarten}, clause: c}\n"
)


def _max_households(params, unit, evidence, scope):
    """The example of the README's how-to: a unit may hold at most ``max`` households."""
    most = params["max"]
    hh = unit["households"]
    status = "met" if hh <= most else "gap"
    return Verdict(status, f"≤ {most:,} households", f"{hh:,.0f}", most, hh, max(hh - most, 0), "households")


def test_a_new_rule_kind_is_one_registry_entry(tmp_path, world, monkeypatch):  # noqa: F811
    entry = RuleKind(
        "max_households",
        "at most max households in the unit",
        {"max": Param((int,), True, "largest number of households", lambda v: None if v > 0 else "must be positive")},
        _max_households,
    )
    monkeypatch.setitem(RULE_KINDS, "max_households", entry)
    table = run(tmp_path, world, rule("small", "community", "max_households", "{max: 1500}"))
    assert status(table, "small", "A")["status"] == "gap"  # 2,000 households
    assert status(table, "small", "A")["shortfall"] == 500
    assert status(table, "small", "B")["status"] == "met"  # 1,000
    # the loader checks its parameters from the same entry
    with pytest.raises(RulesError, match="'max' must be positive, not 0"):
        run(tmp_path, world, rule("small", "community", "max_households", "{max: 0}"))


def test_every_kind_has_a_summary_and_described_parameters():
    for name, kind in RULE_KINDS.items():
        assert kind.name == name and kind.summary
        assert all(p.description for p in kind.params.values())


def test_dazhou_file_carries_table_2_and_its_register():
    rules = load_rules()
    assert len(rules.indicators) == 19
    assert rules.indicators[0].title_zh == "城乡社区综合服务设施覆盖率100%"  # taken from its rule
    assert rules.indicators[0].target == "≥ 100%"
    party = next(i for i in rules.indicators if i.id == "compounds_with_party_org")
    assert party.target == "≥ 67%"
    assert rules.register is not None and rules.register.name == "dazhou_register_2023.csv"


def test_gb50180_reports_only_its_own_indicators_and_no_register(sample):
    run_ = dz_gis.run_coverage(
        sample.graph, sample.communities, sample.compounds, sample.facilities, with_isochrones=False
    )
    gb = dz_gis.check_plan(run_, load_rules("gb50180_2018"))
    assert gb.indicators.empty and gb.register is None
    assert set(gb.gaps["rule_id"]) <= set(load_rules("gb50180_2018").ids)
    dazhou = dz_gis.check_plan(run_, load_rules())
    assert len(dazhou.indicators) == 19 and dazhou.register is not None


def test_compound_share_compares_exact_fractions(tmp_path, sample):
    # 2 of 3 compounds is exactly the plan's two thirds: met, not short by a rounding error
    path = tmp_path / "rules.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            name: t
            rules:
              - {id: k, title_zh: a, title_en: b, scope: community, kind: presence,
                 params: {category: kindergarten}, clause: c}
            indicators:
              - {id: party, title_zh: 党组织, title_en: party, kind: compound_share,
                 params: {column: has_party_org, target: 2/3}, clause: 表2}
            """
        ),
        encoding="utf-8",
    )
    rules = load_rules(path)
    compounds = sample.compounds.head(3).assign(has_party_org=["是", "是", "否"])
    table = dz_gis.plan.indicator_table(
        rules.indicators, dz_gis.plan.flag_gaps(rules, sample.communities, sample.facilities), compounds=compounds
    )
    assert table.loc[0, "status"] == "met" and table.loc[0, "actual"] == "67%"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("indicators:\n  - {id: x, kind: nope, params: {}}\n", "kind 'nope' is not one of"),
        ("indicators:\n  - {id: x, kind: rule, params: {rule: missing}}\n", "rule 'missing' is not a rule"),
        ("indicators:\n  - {id: x, kind: rule, params: {rule: k}}\n", "scoped to community"),
        (
            "indicators:\n  - {id: x, title_zh: a, title_en: b, clause: c, kind: compound_share,"
            " params: {column: c, target: 3/2}}\n",
            "'target' is a share between 0 and 1",
        ),
        ("indicators:\n  - {id: x, kind: not_spatial, params: {needs: staff}}\n", "missing key(s)"),
    ],
)
def test_bad_indicators_and_register_name_file_line_and_fix(tmp_path, body, words):
    path = tmp_path / "rules.yaml"
    head = (
        "name: t\nrules:\n  - {id: k, title_zh: a, title_en: b, scope: community, kind: presence,"
        " params: {category: kindergarten}, clause: c}\n"
    )
    path.write_text(head + body, encoding="utf-8")
    with pytest.raises(RulesError, match=r", line \d+") as info:
        load_rules(path)
    assert str(info.value).startswith(str(path)) and words in str(info.value), str(info.value)


def test_a_missing_register_skips_the_check_with_a_warning(tmp_path, sample):
    path = tmp_path / "rules.yaml"
    path.write_text("name: t\n" + ONE_RULE + "register: no_such_register.csv\n", encoding="utf-8")
    rules = load_rules(path)  # loading does not need the register
    assert rules.register == tmp_path / "no_such_register.csv"
    run_ = dz_gis.run_coverage(
        sample.graph, sample.communities, sample.compounds, sample.facilities, with_isochrones=False
    )
    with pytest.warns(UserWarning, match=r"register check was skipped: Register file not found: .*no_such_register"):
        check = dz_gis.check_plan(run_, rules)
    assert check.register is None
