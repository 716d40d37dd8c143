"""Config files: every section sets its dataclass, unknown keys and wrong types are clear errors."""

from __future__ import annotations

import pytest

from swarmscope.config import DEFAULT_NETWORKS, ConfigError, DetectParams, NetworkSpec, load_config


def _config(tmp_path, text: str):
    path = tmp_path / "detect.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_section_sets_its_fields(tmp_path):
    p = load_config(
        _config(
            tmp_path,
            """
duplicates = false
duplicate_threshold = 0.7

[significance]
alpha = 0.05

[clusters]
resolution = 2

[campaigns]
min_accounts = 8
office_max_p = 0.001
shift_min_uses = 40
[campaigns.weights]
copypasta = 0.7

[signals]
utc_offset_hours = 4
[signals.runs]
min_run = 7
excluded_kinds = ["repost"]
[signals.holidays]
countries = ["AZ", "TM"]
""",
        )
    )
    assert (p.duplicates, p.duplicate_threshold) == (False, 0.7)
    assert p.significance.alpha == 0.05 and p.clusters.resolution == 2.0
    assert isinstance(p.clusters.resolution, float)
    assert (p.campaigns.min_accounts, p.campaigns.office_max_p, p.campaigns.shift_min_uses) == (8, 0.001, 40)
    # one weight changed, the others kept
    assert p.campaigns.weights["copypasta"] == 0.7 and p.campaigns.weights["coordination"] == 0.4
    assert p.signals.utc_offset_hours == 4.0
    assert p.signals.runs.min_run == 7 and p.signals.runs.excluded_kinds == ("repost",)
    assert p.signals.holidays.countries == ("AZ", "TM")
    # untouched sections keep their defaults
    assert p.signals.rhythm == DetectParams().signals.rhythm and p.networks == DEFAULT_NETWORKS


def test_networks_replace_the_defaults(tmp_path):
    p = load_config(
        _config(
            tmp_path,
            """
[[networks]]
name = "hashtags"
object_types = ["hashtag"]
time_window = 30
null = "uniform"
""",
        )
    )
    assert p.networks == (NetworkSpec("hashtags", ("hashtag",), 30.0, 2, "uniform"),)


@pytest.mark.parametrize(
    "text, words",
    [
        ("colour = 1", ["unknown key 'colour'", "the top level"]),
        ("[signals.rythm]\nmin_posts = 3", ["unknown key 'rythm'", "[signals]", "rhythm"]),
        ("[campaigns]\nmin_acounts = 3", ["unknown key 'min_acounts'", "[campaigns]", "min_accounts"]),
        ("[campaigns]\nmin_accounts = 'five'", ["campaigns.min_accounts", "not a valid int"]),
        ("[campaigns]\nmin_accounts = 2.5", ["campaigns.min_accounts", "not a valid int"]),
        ("[significance]\nalpha = true", ["significance.alpha", "not a valid float"]),
        ("duplicates = 1", ["duplicates = 1", "not a valid bool"]),
        ("[campaigns]\nmin_accounts = 1", ["min_accounts must be >= 2"]),
        ("[campaigns]\noffice_max_p = 2.0", ["office_max_p must be in [0, 1]"]),
        ("[campaigns.weights]\nvibes = 1.0", ["unknown score parts", "vibes"]),
        ("[[networks]]\nname = 'x'", ["needs name, object_types, time_window", "missing object_types, time_window"]),
        ("[[networks]]\nname = 'x'\nobject_types = ['url']\ntime_window = 5\nwindow = 3", ["unknown key 'window'"]),
        ("[signals]\nruns = 3", ["signals.runs must be a table"]),
        ("not toml [", ["cannot read config"]),
    ],
)
def test_bad_configs_name_the_file_and_key(tmp_path, text, words):
    path = _config(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    message = str(e.value)
    assert str(path) in message
    for w in words:
        assert w in message, (w, message)


def test_the_cli_refuses_a_bad_config_with_the_reason(tmp_path):
    from typer.testing import CliRunner

    from swarmscope.cli import app

    case = tmp_path / "case.duckdb"
    case.write_bytes(b"")
    res = CliRunner().invoke(app, ["detect", str(case), "--config", str(_config(tmp_path, "[campaigns]\nx = 1"))])
    assert res.exit_code != 0
    assert "unknown key 'x'" in res.output


def test_translation_selection_bounds_the_embedding_stage(tmp_path):
    p = load_config(_config(tmp_path, "translations = true\n[translation_selection]\nmax_texts = 20000\n"))
    assert p.translation_selection.max_texts == 20_000 and p.translation_selection.min_accounts == 2
    assert (DetectParams().translation_selection.max_texts, DetectParams().translation_selection.max_chars) == (
        2_000,
        300,
    )
    with pytest.raises(ConfigError, match="max_texts"):
        load_config(_config(tmp_path, '[translation_selection]\nmax_texts = "many"\n'))
    with pytest.raises(ConfigError, match="min_accounts"):
        load_config(_config(tmp_path, "[translation_selection]\nmin_accounts = 1\n"))
