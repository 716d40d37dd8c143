"""Every threshold of the campaign layer, with the reason for its default.

A config file's ``[campaigns]`` section sets these fields (config.py), and
the run manifest records them. The weights of the score are in score.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .score import WEIGHTS


@dataclass(frozen=True)
class CampaignParams:
    """Thresholds for turning clusters and signals into campaigns.

    Who is a campaign:
    - ``min_accounts`` 5: smaller clusters are listed as coordination signals, not campaigns.
    - ``report_score`` 0.5: campaigns at or above it are called likely
      inauthentic (the ``weak`` tier); ``tier_moderate`` 0.65 and
      ``tier_strong`` 0.8 begin the moderate and strong tiers (verdict.py;
      docs/validation.md gives the share of accounts truly in operations
      per score bucket).
    - ``merge_links`` 1.0: two Leiden clusters with at least this many
      significant edges between them per account of the smaller one are one
      campaign (coordination.merge_linked_clusters).
    - ``min_impersonators`` 3: impersonators in no coordination cluster who
      push the same web domains form a campaign of their own from this size.
    - ``periphery_min_links`` 2: an account outside the cluster with this many
      significant links into it is listed as periphery (one link is chance).

    Score parts (score.py weighs them):
    - ``coordination_full`` 1000: co-actions beyond chance (summed over the
      cluster's significant links: distinct co-shared objects less what the
      null model expects) at which the coordination part reaches 1, on a log
      scale (coordination.coordination_strength). About the repeated
      co-actions of the smallest networks in platform takedown reports (a few
      dozen accounts, each repeatedly in step with several others); a
      five-account cluster with a handful of links stays near 0.3.
    - ``sync_seconds`` 10: links whose shares came this close, on average, count as synchronous.
    - ``sync_sentence_share`` 0.5: the explanation says "synchronous" when at
      least half of the links are.
    - ``copy_floor`` 0.25: copy shares up to this are what open newsrooms reach; the part rises to 1 at 0.75.
    - ``office_max_p`` 0.01 and ``office_min_confidence`` 0.8: the rhythm part
      counts an office-hours fit only when the chi-square test against a flat
      day rejects at 1 % and the UTC working window is stable: at least 80 %
      of day-bootstrap resamples start it within an hour (detect/rhythm.py;
      the offset itself is never pinned, 8-17 at UTC+0 and 9-18 at UTC+1
      being the same hours).
    - ``holiday_max_p`` 0.05: a holiday calendar is reported when its
      family-wise p (over all candidate countries) is below this.
    - ``impersonation_gain`` 5: a few impersonators in a cluster already mean a lot.
    - ``organic_min_followers`` 1000 and ``organic_min_age_days`` 730: an established account.
    - ``trace_floor`` 0.05: score parts below this count as "no trace" in the
      explanation, and a copy part below it names no copy-paste DISARM technique.

    Evidence sections:
    - ``max_bursts`` 3: the largest automated-looking bursts shown per campaign.
    - ``max_lead_seconds`` 3600: a hub posts the text minutes before the
      copies elsewhere; a median lead of days is a member posting early, not
      a source. ``hub_min_texts`` 3 and ``hub_min_first_share`` 0.5: a hub
      was first on at least 3 texts and on at least half of the texts it
      posted; ``max_hubs`` 5 are listed.
    - ``shift_alpha`` 0.01, ``shift_min_distance`` 0.45, ``shift_min_new_share``
      0.5, ``shift_min_uses`` 20, ``shift_min_accounts`` 5: a narrative shift
      is a change point (narratives.change_point): a week whose hashtag counts
      differ from all earlier weeks' by a G-test at family-wise p < 0.01, at
      Jensen-Shannon distance >= 0.45 (about the smallest takeover: a hashtag
      going from 5 % to half of the uses), with at least half of its uses on
      hashtags whose share at least doubled, seen in enough uses and accounts
      that one person's new hobby is not a shift.
    - ``notable_followers`` 100000: an outside account this large (or
      verified) amplifying the campaign puts it in breakout category 5.
      ``community_min_reactions`` 5 and ``community_min_share`` 0.05: an
      outside language community counts when it gave this many reactions and
      this share of them.
    - ``network_edge_cap`` 5000 and ``network_edges_per_account`` 3: edges kept
      per campaign for pictures and graph exports (the heaviest, but every
      account keeps its strongest few).
    """

    min_accounts: int = 5
    report_score: float = 0.5
    organic_min_followers: int = 1000
    organic_min_age_days: int = 730
    impersonation_gain: float = 5.0
    min_impersonators: int = 3
    merge_links: float = 1.0
    max_lead_seconds: float = 3600.0
    sync_seconds: float = 10.0
    copy_floor: float = 0.25
    weights: dict[str, float] = field(default_factory=lambda: dict(WEIGHTS))
    sync_sentence_share: float = 0.5
    office_max_p: float = 0.01
    office_min_confidence: float = 0.8
    holiday_max_p: float = 0.05
    trace_floor: float = 0.05
    periphery_min_links: int = 2
    max_bursts: int = 3
    hub_min_texts: int = 3
    hub_min_first_share: float = 0.5
    max_hubs: int = 5
    shift_alpha: float = 0.01
    shift_min_distance: float = 0.45
    shift_min_new_share: float = 0.5
    shift_min_uses: int = 20
    shift_min_accounts: int = 5
    notable_followers: int = 100_000
    community_min_reactions: int = 5
    community_min_share: float = 0.05
    network_edge_cap: int = 5000
    network_edges_per_account: int = 3
    coordination_full: float = 1000.0
    tier_moderate: float = 0.65
    tier_strong: float = 0.8

    def __post_init__(self) -> None:
        if self.min_accounts < 2:
            raise ValueError(f"min_accounts must be >= 2, got {self.min_accounts}")
        if not 0 < self.report_score <= 1:
            raise ValueError(f"report_score must be in (0, 1], got {self.report_score}")
        unknown = set(self.weights) - set(WEIGHTS)
        if unknown:
            raise ValueError(f"unknown score parts {sorted(unknown)}; parts: {', '.join(WEIGHTS)}")
        for name in (
            "office_max_p",
            "holiday_max_p",
            "sync_sentence_share",
            "trace_floor",
            "hub_min_first_share",
            "shift_min_distance",
            "shift_alpha",
            "shift_min_new_share",
            "community_min_share",
            "copy_floor",
        ):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        if not self.report_score <= self.tier_moderate <= self.tier_strong <= 1:
            raise ValueError(
                f"tiers must rise: report_score {self.report_score} <= tier_moderate {self.tier_moderate} "
                f"<= tier_strong {self.tier_strong} <= 1"
            )
        if self.coordination_full <= 1:
            raise ValueError(f"coordination_full must be > 1, got {self.coordination_full}")
        for name in (
            "periphery_min_links",
            "max_bursts",
            "hub_min_texts",
            "max_hubs",
            "shift_min_uses",
            "shift_min_accounts",
            "network_edge_cap",
            "network_edges_per_account",
            "min_impersonators",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
