"""The parameters of ``detect``, and reading them from a TOML config file.

``DetectParams`` gathers every parameter of a detection run: the co-action
networks, significance, clustering, the behavioural signals and the
campaign layer. Each is a frozen dataclass with documented defaults, in the
module that uses it. A config file sets any of them; unknown sections or
keys, and values of the wrong type, are errors that name the file and key.

```toml
duplicates = true
duplicate_threshold = 0.8
translations = true          # cross-lingual copies (built-in encoder); false: off

[translation_selection]      # duplicates.py EmbedSelection: which texts are embedded
max_texts = 2000             # the cost bound (with max_chars = 300): 1-3 minutes on two cores, cached

[[networks]]                 # replaces the default networks when present
name = "reposts"
object_types = ["repost_of"]
time_window = 60
min_participation = 2       # optional
null = "pooled_delays"      # optional; default: [significance] null

[significance]               # detect/significance.py SignificanceParams
alpha = 0.01

[clusters]                   # graph.py ClusterParams
resolution = 1.0

[campaigns]                  # campaigns/params.py CampaignParams
min_accounts = 5
[campaigns.weights]          # campaigns/score.py
copypasta = 0.6

[signals.runs]               # signals.py SignalsParams and the detect/ params it holds
min_run = 5
[signals.rhythm]
min_posts = 50
```

The run manifest in findings.json records the parameters used.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from . import graph
from .campaigns.params import CampaignParams
from .detect.significance import SignificanceParams
from .duplicates import EmbedSelection
from .signals import SignalsParams


@dataclass(frozen=True)
class NetworkSpec:
    """One co-action network: which objects, within how many seconds, how much repetition.

    Defaults (``DetectParams.networks``) and why:
    - reposts within 60 s (CooRTweet's and CooRnet's common setting; the fast
      amplifier networks of takedown reports act within seconds);
    - the same text (exact fingerprint or near-duplicate cluster) within
      15 minutes: copy-paste crews post a message over minutes, not seconds;
    - the same canonical URL within 5 minutes.
    - the same TikTok sound within 10 minutes.
    Hashtags, domains and mentions are left out by default: a crowd at a match
    co-uses a hashtag within seconds by the thousand, and a domain joins every
    reader of one news site. Add them in a config file when the case needs it.
    """

    name: str
    object_types: tuple[str, ...]
    time_window: float
    min_participation: int = 2
    null: str | None = None  # significance null for this network; None = SignificanceParams.null


DEFAULT_NETWORKS = (
    NetworkSpec("reposts", ("repost_of",), 60.0),
    # Independent authors rarely write the same text at all, and a copy-paste
    # crew is most of a case's duplicate texts, so their pooled timing would
    # be the crew's own: judge text against uniform timing (significance.py).
    NetworkSpec("same_text", ("text_fingerprint", "near_dup_cluster"), 900.0, null="uniform"),
    NetworkSpec("links", ("url",), 300.0),
    # TikTok: the same sound used within minutes by the same accounts, again and
    # again, is a known coordination trace; a viral sound used by many over
    # days is not (pooled null, and repetition is required).
    NetworkSpec("sounds", ("sound",), 600.0),
    # CooRTweet's one-object layout (ingest/coortweet_csv.py): objects whose kind the file does not say
    # (retweeted tweets, URLs, ...), compared as CooRTweet does, within 60 s, against the pooled null.
    NetworkSpec("objects", ("object",), 60.0),
)


@dataclass(frozen=True)
class DetectParams:
    """Everything ``detect`` uses. ``duplicate_threshold`` 0.8: the Jaccard index of near-duplicate texts
    (detect/duplicates.py explains the choice). ``translations``: a message and its translations form one
    cluster, found by the built-in multilingual encoder on the texts that can matter (duplicates.py
    ``EmbedSelection``, docs/methods/duplicates.md 4b); ``translations = false`` turns it off, and
    ``translation_selection`` says which texts are embedded (``max_texts``: the stage's cost bound)."""

    networks: tuple[NetworkSpec, ...] = DEFAULT_NETWORKS
    significance: SignificanceParams = field(default_factory=SignificanceParams)
    clusters: graph.ClusterParams = field(default_factory=graph.ClusterParams)
    campaigns: CampaignParams = field(default_factory=CampaignParams)
    signals: SignalsParams = field(default_factory=SignalsParams)
    duplicates: bool = True
    duplicate_threshold: float = 0.8
    translations: bool = True
    translation_selection: EmbedSelection = field(default_factory=EmbedSelection)


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, the key and what is expected."""


def load_config(path: str | Path) -> DetectParams:
    """DetectParams from a TOML file (see the module docstring for the sections)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: cannot read config ({e})") from e
    networks = data.pop("networks", None)
    params = _apply(DetectParams(), data, path, "")
    if networks is not None:
        params = replace(params, networks=_networks(networks, path))
    return params


def _networks(value: Any, path: Path) -> tuple[NetworkSpec, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{path}: networks must be one or more [[networks]] tables")
    out = []
    for i, table in enumerate(value, 1):
        where = f"[[networks]] #{i}"
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {where} must be a table")
        missing = [k for k in ("name", "object_types", "time_window") if k not in table]
        if missing:
            raise ConfigError(f"{path}: {where} needs name, object_types, time_window (missing {', '.join(missing)})")
        spec = NetworkSpec(table["name"], ("repost_of",), 60.0)
        out.append(_apply(spec, table, path, where))
    return tuple(out)


def _apply(current: Any, table: dict, path: Path, where: str) -> Any:
    """``current`` (a frozen dataclass) with the keys of ``table`` set, each checked against its field's type."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where or 'the file'} must be a table")
    known = {f.name: f for f in fields(current)}
    hints = typing.get_type_hints(type(current))
    changes = {}
    for key, value in table.items():
        name = f"{where}.{key}" if where else key
        if key not in known:
            section = f"[{where}]" if where else "the top level"
            raise ConfigError(f"{path}: unknown key {key!r} in {section}; allowed: {', '.join(sorted(known))}")
        old = getattr(current, key)
        if dataclasses.is_dataclass(old):
            changes[key] = _apply(old, value, path, name)
        else:
            changes[key] = _convert(value, hints[key], old, path, name)
    try:
        return replace(current, **changes)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{path}: [{where or 'top level'}] {e}") from e


def _convert(value: Any, hint: Any, old: Any, path: Path, name: str) -> Any:
    """``value`` as the field's type: ints become floats where a float is wanted, lists become tuples."""

    def bad() -> ConfigError:
        return ConfigError(f"{path}: {name} = {value!r} is not a valid {_type_name(hint)}")

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return _convert(value, options[0], old, path, name)
        raise bad()
    if hint is bool:
        if not isinstance(value, bool):
            raise bad()
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad()
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad()
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise bad()
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise bad()
        inner = typing.get_args(hint)[0] if typing.get_args(hint) else Any
        return tuple(v if inner is Any else _convert(v, inner, None, path, f"{name}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise bad()
        key_t, val_t = typing.get_args(hint)
        merged = dict(old or {})
        for k, v in value.items():
            merged[_convert(k, key_t, None, path, name)] = _convert(v, val_t, None, path, f"{name}.{k}")
        return merged
    raise bad()


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
