"""WearerConfig: strict validation of what the host pushes, and a lossless JSON round trip."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.config import ConfigError, PlanWeek, WearerConfig

FULL = {
    "threshold_spm": 105.5,
    "plan": [
        {"week_start": "2026-03-09", "goal_minutes": 70},
        {"week_start": "2026-03-02", "goal_minutes": 60},
    ],
    "wearer_label": "Mrs Ada L.",
    "week_start_day": 6,
    "timezone": "Europe/London",
}


def test_defaults_match_design():
    cfg = WearerConfig()
    assert (cfg.threshold_spm, cfg.plan, cfg.wearer_label, cfg.week_start_day, cfg.timezone) == (
        100.0,
        (),
        "",
        0,
        "UTC",
    )
    assert WearerConfig.from_json({}) == cfg


def test_full_config_parses_sorted_and_round_trips_through_json_text():
    cfg = WearerConfig.from_json(FULL)
    assert [p.week_start for p in cfg.plan] == [dt.date(2026, 3, 2), dt.date(2026, 3, 9)]
    assert cfg.plan[1] == PlanWeek(dt.date(2026, 3, 9), 70)
    assert cfg.week_start_day == 6 and cfg.timezone == "Europe/London"
    again = WearerConfig.from_json(json.loads(json.dumps(cfg.to_json())))
    assert again == cfg


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"threshold_spm": 39.9}, "threshold_spm"),
        ({"threshold_spm": 200.1}, "threshold_spm"),
        ({"threshold_spm": float("nan")}, "threshold_spm"),
        ({"threshold_spm": True}, "threshold_spm"),
        ({"threshold_spm": "100"}, "threshold_spm"),
        ({"threshold_spm": 10**400}, "threshold_spm"),
        ({"week_start_day": 7}, "week_start_day"),
        ({"week_start_day": -1}, "week_start_day"),
        ({"week_start_day": 1.0}, "week_start_day"),
        ({"wearer_label": "x" * 33}, "wearer_label"),
        ({"wearer_label": "two\nlines"}, "wearer_label"),
        ({"wearer_label": 5}, "wearer_label"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"timezone": None}, "timezone"),
        ({"plan": {"week_start": "2026-03-02"}}, "plan"),
        ({"plan": [{"week_start": "2026-03-02", "goal_minutes": -1}]}, "plan[0].goal_minutes"),
        ({"plan": [{"week_start": "2026-03-02", "goal_minutes": 10081}]}, "plan[0].goal_minutes"),
        ({"plan": [{"week_start": "2026-03-02", "goal_minutes": 60.5}]}, "plan[0].goal_minutes"),
        ({"plan": [{"week_start": "2026-13-02", "goal_minutes": 60}]}, "plan[0].week_start"),
        ({"plan": [{"week_start": "20260302", "goal_minutes": 60}]}, "plan[0].week_start"),
        ({"plan": [{"week_start": 20260302, "goal_minutes": 60}]}, "plan[0].week_start"),
        ({"plan": [{"week_start": "2026-03-02"}]}, "plan[0]"),
        ({"plan": [{"week_start": "2026-03-02", "goal_minutes": 6, "x": 1}]}, "plan[0]"),
        (
            {
                "plan": [
                    {"week_start": "2026-03-02", "goal_minutes": 60},
                    {"week_start": "2026-03-02", "goal_minutes": 70},
                ]
            },
            "2026-03-02 appears twice",
        ),
        ({"goal": 130}, "unknown config key: 'goal'"),
    ],
)
def test_malformed_values_are_refused_with_one_line_naming_the_field(patch, field):
    with pytest.raises(ConfigError) as err:
        WearerConfig.from_json({**FULL, **patch})
    msg = str(err.value)
    assert field in msg
    assert "\n" not in msg and len(msg) < 200


def test_non_object_is_refused():
    for obj in (None, [], "x", 3):
        with pytest.raises(ConfigError, match="JSON object"):
            WearerConfig.from_json(obj)


def test_direct_construction_is_validated_too():
    with pytest.raises(ConfigError):
        WearerConfig(threshold_spm=20)
    with pytest.raises(ConfigError):
        PlanWeek(dt.date(2026, 1, 5), -5)
    with pytest.raises(ConfigError):
        WearerConfig(plan=(("2026-01-05", 60),))  # type: ignore[arg-type]


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["2026-03-02", "Europe/London", "America/New_York", "UTC"])
)
json_like = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
plan_entry_like = st.dictionaries(
    st.sampled_from(["week_start", "goal_minutes", "extra"]),
    json_like | st.dates().map(dt.date.isoformat) | st.integers(-5, 20000),
    max_size=3,
)
config_like = st.dictionaries(
    st.sampled_from(
        ["threshold_spm", "plan", "wearer_label", "week_start_day", "timezone", "other"]
    ),
    json_like | st.lists(plan_entry_like, max_size=4) | st.integers(-10, 300),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_like, config_like))
def test_from_json_raises_only_config_error_on_arbitrary_input(obj):
    try:
        cfg = WearerConfig.from_json(obj)
    except ConfigError as e:
        assert "\n" not in str(e)
    else:
        assert WearerConfig.from_json(cfg.to_json()) == cfg


valid_configs = st.builds(
    WearerConfig,
    threshold_spm=st.floats(40, 200),
    plan=st.lists(
        st.builds(PlanWeek, st.dates(), st.integers(0, 10080)),
        max_size=8,
        unique_by=lambda p: p.week_start,
    ).map(tuple),
    wearer_label=st.text(st.characters(codec="utf-8"), max_size=32).filter(str.isprintable),
    week_start_day=st.integers(0, 6),
    timezone=st.sampled_from(["UTC", "Europe/London", "America/New_York", "Asia/Kathmandu"]),
)


@settings(max_examples=200, deadline=None)
@given(valid_configs)
def test_to_json_from_json_round_trips_through_json_text(cfg):
    text = json.dumps(cfg.to_json())
    assert WearerConfig.from_json(json.loads(text)) == cfg


def _nested(depth: int, leaf: object, wrap) -> object:
    for _ in range(depth):
        leaf = wrap(leaf)
    return leaf


@pytest.mark.parametrize("key", ["threshold_spm", "plan", "wearer_label", "week_start_day",
                                 "timezone"])
@pytest.mark.parametrize("wrap", [lambda x: [x], lambda x: {"a": x}], ids=["lists", "objects"])
def test_a_value_nested_5000_levels_deep_is_one_config_error(key, wrap):
    with pytest.raises(ConfigError) as err:
        WearerConfig.from_json({key: _nested(5000, 1, wrap)})
    assert "\n" not in str(err.value) and len(str(err.value)) < 200
    with pytest.raises(ConfigError):
        WearerConfig.from_json({"plan": [{"week_start": _nested(5000, "x", wrap),
                                          "goal_minutes": 1}]})
