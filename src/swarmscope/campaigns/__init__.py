"""The campaign layer: clusters and signals in, scored and explained campaigns out.

One module per kind of campaign evidence, each a function
``(view, members, log, params) -> Evidence`` (view.py), testable on its own:

| module | evidence |
|---|---|
| coordination.py | significant co-action links inside the cluster; cluster merging; the network picture; periphery |
| copies.py | members' own posts that repeat a text another member posted |
| automation.py | machine-like cadence, runs of one text, automated-looking bursts |
| rhythm.py | working hours and time zone; public-holiday calendar |
| accounts.py | creation batches, templated handles, tiny audiences, impersonation, established accounts |
| narratives.py | hashtags, domains, weekly keywords and the narrative shift |
| lead.py | the cross-platform hub that posts the texts first |
| reach.py | scale, personas, timeline, reactions and the Breakout Scale |

assemble.py runs them in order for each cluster; score.py turns the parts
into the score; verdict.py turns the score into a tier and its words;
params.py holds every threshold; disarm.py maps signal types to DISARM
techniques; evaluate.py compares campaigns with a ground truth.
A new kind of evidence is a new module here, called from assemble.py.
"""

from .evaluate import evaluate
from .params import CampaignParams
from .score import HOW_PARTS, ORGANIC_DAMPING, WEIGHTS, score

__all__ = ["HOW_PARTS", "ORGANIC_DAMPING", "WEIGHTS", "CampaignParams", "evaluate", "score"]
