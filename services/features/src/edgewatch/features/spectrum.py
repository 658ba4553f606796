"""Re-export: the spectrum and envelope code lives in :mod:`edgewatch.bearing.spectrum` (shared with the CWRU eval)."""

from __future__ import annotations

from edgewatch.bearing.spectrum import EnvelopePlan, SpectrumPlan, band_name, envelope_names, spectrum_names

__all__ = ["EnvelopePlan", "SpectrumPlan", "band_name", "envelope_names", "spectrum_names"]
