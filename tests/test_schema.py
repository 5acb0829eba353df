"""trdsim.schema is the one declaration of the input fields: everything else derives."""

import pytest

import trdsim
from trdsim import schema
from trdsim.engine import layout as L
from trdsim.evidence import flatten, parameter_table
from trdsim.inputs.arrays import compile_inputs
from trdsim.scenario import FIXED_SECTIONS, TREATMENT_OPTIONAL_PARAMS, TREATMENT_PARAMS


@pytest.fixture(scope="module", params=["uk_nhs", "us_payer"])
def scenario(request):
    return trdsim.load_scenario(request.param)


def test_every_parameter_of_a_scenario_is_declared(scenario):
    keys = [k for k in flatten(scenario.params) if not k.startswith("unit_costs.")]
    assert keys and [k for k in keys if schema.field_of(k) is None] == []


def test_validation_reads_the_declarations():
    assert FIXED_SECTIONS["utilities"] == {"depressed": "utility", "response": "utility",
                                           "remission": "utility"}  # fmt: skip
    assert set(TREATMENT_PARAMS) | set(TREATMENT_OPTIONAL_PARAMS) == {
        f.key for f in schema.TREATMENT
    }


def test_labels_are_unique_and_units_known(scenario):
    t = parameter_table(scenario.params, scenario.currency)
    assert t.label.is_unique
    costs = t[t.key.str.startswith(("unit_costs.", "state_costs."))]
    assert (costs.unit.str.startswith(scenario.currency)).all()
    assert schema.label("treatments.cbt_augmentation.dropout", scenario.params).startswith(
        scenario.params["treatments"]["cbt_augmentation"]["label"]
    )


def test_declared_kernel_columns_carry_the_fields_values(scenario):
    x = compile_inputs(scenario)
    copied = [f for f in schema.TREATMENT if f.column]
    assert len({f.column for f in copied}) == len(copied)
    for k, name in enumerate(x.treatments):
        t = scenario.params["treatments"][name]
        for f in copied:
            assert x.tx[k, getattr(L, f.column)] == t[f.key]["value"], (name, f.key)


def test_distribution_families_fit_their_kind():
    for kind in schema.KINDS.values():
        assert "fixed" in kind.families
        if kind.integer:
            assert kind.families == ("fixed",)


def test_a_declared_resource_is_labelled_as_declared():
    from helpers import scenario_with

    sc = scenario_with(
        resources={"vns_programming": {"label": "VNS programming session"}},
        unit_costs={"uk": {"vns_programming": 100.0}},
    )
    t = parameter_table(sc.params, sc.currency, sc.raw.get("resources")).set_index("key")
    assert t.label["unit_costs.uk.vns_programming"] == "Unit cost: VNS programming session"
    assert t.unit["unit_costs.uk.vns_programming"] == "GBP"


def test_severity_is_labelled_on_the_scale_the_library_carries_it_on():
    """The cohort's severity is HRSD-17 (the library's sources and its 0-52 range, the
    HRSD-17's): every severity field's unit says so, none says another scale."""
    lib = trdsim.load_scenario("uk_nhs").params["cohort"]
    assert lib["severity_max"]["value"] == 52.0  # the HRSD-17's ceiling (MADRS: 60)
    assert "HRSD-17" in lib["severity_mean"]["source"]
    fields = [f for f in schema.SECTIONS["cohort"] if f.key.startswith("severity")]
    assert len(fields) == 4
    for f in fields:
        assert f.unit == "HRSD-17 points", f
