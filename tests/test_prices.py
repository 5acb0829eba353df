"""Price indices and settings (issue 31): indexing round-trips over the whole index, a
price year outside it or a setting without a life table stops the run in one line."""

import itertools

import pytest
from helpers import default_raw
from test_bad_input import _write

from trdsim.cli import main
from trdsim.evidence import load_library, price_factor, price_indices, price_years


@pytest.mark.parametrize("setting", ["uk", "us"])
def test_every_price_indexed_forward_and_back_returns_to_itself(setting):
    years = price_years(setting)
    assert years == tuple(range(years[0], years[-1] + 1)), "the index has a gap"
    for a, b in itertools.combinations(years, 2):
        there_and_back = 123.45 * price_factor(setting, a, b) * price_factor(setting, b, a)
        assert abs(there_and_back - 123.45) < 1e-9, (a, b)
        # going through a third year is the same as going straight there
        c = years[len(years) // 2]
        via = price_factor(setting, a, c) * price_factor(setting, c, b)
        assert abs(via - price_factor(setting, a, b)) < 1e-12, (a, b, c)


def test_the_indices_reach_back_to_2008_and_rise():
    t = price_indices()
    for setting in ("uk", "us"):
        years = price_years(setting)
        assert years[0] <= 2008, (setting, years[0])
        idx = t[t.setting == setting].sort_values("year")["index"].to_numpy()
        assert (idx[1:] > idx[:-1]).all(), setting  # health-care prices rose every year
    uk = t[t.setting == "uk"].set_index("year")["index"]
    assert uk[2014] == 100.0  # the HCHS years are chained to the NHSCII at 2014/15
    # every year carries its source and certainty
    assert t.source.str.len().gt(0).all() and t.verified.str.len().gt(0).all()


def test_every_library_cost_has_a_price_year_in_its_index():
    lib = load_library()
    for section in ("unit_costs", "state_costs"):
        for setting, rows in lib[section].items():
            years = price_years(setting)
            for key, row in rows.items():
                assert row["price_year"] in years, f"{section}.{setting}.{key}"


def _refused(tmp_path, capsys, raw) -> str:
    bad = tmp_path / "bad.toml"
    _write(bad, raw)
    out = tmp_path / "out"
    code = main(["compare", str(bad), "--patients", "10", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert not out.exists()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "setting,year,key,span",
    [
        ("uk", 2005, "settings.uk.price_year", "2006-2024"),
        ("uk", 2025, "settings.uk.price_year", "2006-2024"),
        ("us", 2002, "settings.us.price_year", "2003-2025"),
    ],
)
def test_a_setting_price_year_outside_the_index_is_one_line(
    tmp_path, capsys, setting, year, key, span
):
    raw = default_raw()
    raw["scenario"]["setting"] = setting
    cur = {"uk": "GBP", "us": "USD"}[setting]
    raw["settings"] = {setting: {"currency": cur, "price_year": year}}
    err = _refused(tmp_path, capsys, raw)
    assert key in err and str(year) in err and span in err, err


def test_a_unit_cost_price_year_outside_the_index_is_one_line(tmp_path, capsys):
    raw = default_raw()
    raw["unit_costs"] = {"uk": {"ect_session": {"value": 500.0, "price_year": 1999}}}
    err = _refused(tmp_path, capsys, raw)
    assert "unit_costs.uk.ect_session.price_year" in err and "1999" in err, err
    assert "2006-2024" in err, err


def test_a_setting_without_a_life_table_is_refused_in_one_line(tmp_path, capsys):
    raw = default_raw()
    raw["settings"] = {"de": {"currency": "EUR", "price_year": 2023}}
    raw["scenario"]["setting"] = "de"
    err = _refused(tmp_path, capsys, raw)
    assert "settings.de.life_table" in err and "required" in err, err


def test_a_setting_with_an_unknown_life_table_is_refused_in_one_line(tmp_path, capsys):
    raw = default_raw()
    raw["settings"] = {"uk": {"life_table": "de_destatis_2021"}}
    err = _refused(tmp_path, capsys, raw)
    assert "settings.uk.life_table" in err and "de_destatis_2021" in err, err
