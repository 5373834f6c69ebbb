"""What a run adds to a dataset beside the 2.2.1 Data Links: the OCPI 2.1.1 rendition (and its
notices) and the eMSP profile checks. Shared by ``validate``, ``build`` and ``publish`` so that
the three report the same things."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pcpr_publish.config import Config
from pcpr_publish.pipeline.v211 import V211State, rendition_211, summary_notices
from pcpr_publish.profiles import Profile, check_profile, load_profile


def load_profiles(config: Config) -> list[Profile]:
    """The profiles named in ``[ocpi] profiles`` / ``--profile`` (a bad one: exit 2, at once)."""
    return [load_profile(name) for name in config.ocpi.profiles]


def attach_extras(dataset: Any, config: Config, profiles: Sequence[Profile],
                  v211_state: V211State | None = None) -> None:
    """Set ``dataset.v211`` when 2.1.1 is published (or a profile needs its gaps) and add the
    rendition's and the profiles' notices to the report."""
    versions = list(config.ocpi.versions)
    rendition = None
    if "2.1.1" in versions or any("2.1.1" in p.ocpi_versions for p in profiles):
        rendition = rendition_211(dataset, v211_state)
    if "2.1.1" in versions and rendition is not None:
        dataset.v211 = rendition
        dataset.report.notices += summary_notices(rendition.gaps)
    for profile in profiles:
        gaps = rendition.not_carried if rendition and "2.1.1" in profile.ocpi_versions else ()
        dataset.report.notices += check_profile(profile, dataset, versions, gaps)
