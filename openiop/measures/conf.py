"""Scoring thresholds from settings (the scoring module itself has no Django)."""

from __future__ import annotations

from types import MappingProxyType

from django.conf import settings

from openiop.measures.scoring import Thresholds


def thresholds() -> Thresholds:
    return Thresholds(
        reliable_change=MappingProxyType(dict(settings.MEASURES_RELIABLE_CHANGE)),
        response_drop_percent=settings.MEASURES_RESPONSE_DROP_PERCENT,
        phq9_remission_below=settings.MEASURES_PHQ9_REMISSION_BELOW,
        pcl5_probable_ptsd=settings.MEASURES_PCL5_PROBABLE_PTSD,
    )
