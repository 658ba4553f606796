"""FeaturePipeline: per-device window state; samples in, FeatureVectors out (no I/O, no bus)."""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import ValidationError

from edgewatch.common.contracts.feature import FeatureVector
from edgewatch.features.extractor import ScalarExtractor, WaveformExtractor
from edgewatch.features.spec import MAX_WINDOW_SAMPLES, FeatureConfig, WaveformSpec
from edgewatch.features.store import DEFAULT_VERSION, ConfigStore
from edgewatch.features.window import ScalarWindow, ScalarWindower, WaveformWindower, ns

__all__ = ["MAX_FUTURE_NS", "FeaturePipeline"]

log = logging.getLogger(__name__)

_DEFAULT_WAVEFORM = WaveformSpec(resource="default")
_MIN_WINDOW = 8  # samples; a time window at a tagged sample rate can be shorter than that
MAX_FUTURE_NS = 300 * 1_000_000_000
"""Samples stamped more than this ahead of the local clock are dropped (``future``): one bogus timestamp must
not drag a device's event-time windows ahead of every correctly stamped sample."""


@dataclass(slots=True)
class _Waveform:
    spec: WaveformSpec
    fs: float
    windower: WaveformWindower
    extractor: WaveformExtractor
    version: str
    profile_spec: Any = None


@dataclass(slots=True)
class _Device:
    name: str
    profile: str
    config: FeatureConfig
    version: str
    scalar: ScalarWindower | None
    scalar_ext: ScalarExtractor | None
    waveform_specs: dict[str, WaveformSpec]
    waveforms: dict[str, _Waveform] = field(default_factory=dict)
    latest: dict[str, float] = field(default_factory=dict)
    sequence: int = 0


class FeaturePipeline:
    """Routes samples of each device into its windows and turns closed windows into FeatureVectors.

    Configuration comes from the :class:`ConfigStore`; a change resets that device's windows (applied live).
    ``stats`` counts per kind: vectors, windows, duplicate, out_of_order, late, reordered, gap, incomplete,
    no_sample_rate.
    """

    def __init__(self, store: ConfigStore, *, clock: Callable[[], int] = time.time_ns) -> None:
        self.store = store
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._devices: dict[str, _Device] = {}
        # EdgeX correlation id of the event being fed (messaging sets it): the vectors it closes carry it
        self.correlation_id = ""
        store.on_change(self.reset_device)

    def reset_device(self, device: str) -> None:
        """Forget a device's windows (its configuration changed)."""
        self._devices.pop(device, None)

    def _device(self, device: str, profile: str) -> _Device:
        st = self._devices.get(device)
        if st is None:
            item = self.store.get(device)
            cfg = item.config
            scalar = cfg.scalar
            windower = ext = None
            if scalar is not None:
                w = scalar.window
                time_basis = w.basis == "time"
                windower = ScalarWindower(
                    basis=w.basis,
                    size=ns(w.size) if time_basis else w.size,
                    hop=ns(w.step) if time_basis else w.step,
                    lateness_ns=ns(scalar.lateness_ms),
                    max_gap_ns=ns(scalar.max_gap_ms),
                    min_samples=scalar.min_samples,
                    resources=list(scalar.resources) if scalar.resources is not None else None,
                    clock=scalar.clock,
                    stats=self.stats,
                )
                ext = ScalarExtractor(scalar)
            specs = {s.resource: s for s in cfg.waveforms}
            st = _Device(device, profile, cfg, item.version, windower, ext, specs)
            self._devices[device] = st
        elif profile and st.profile != profile:
            st.profile = profile
        return st

    def scalar(self, device: str, profile: str, resource: str, origin: int, value: float) -> list[FeatureVector]:
        """One slow sample; returns the FeatureVectors of the windows it closed."""
        if origin > self.clock() + MAX_FUTURE_NS:
            self.stats["future"] += 1
            return []
        st = self._device(device, profile)
        st.latest[resource] = value
        if st.scalar is None or st.scalar_ext is None or resource in st.waveform_specs:
            return []
        closed = st.scalar.push(resource, origin, value)
        return [self._scalar_vector(st, w) for w in closed]

    def _scalar_vector(self, st: _Device, w: ScalarWindow) -> FeatureVector:
        ext = st.scalar_ext
        assert ext is not None and st.config.scalar is not None
        if "gap" in w.flags:
            ext.reset_history()
        values = ext.compute(w.resources, w.samples)
        counts = [int(s.shape[0]) for s in w.samples]
        st.sequence += 1
        self.stats["vectors"] += 1
        return FeatureVector.trusted(
            device=st.name,
            profile=st.profile,
            resources=w.resources,
            window_start=w.start,
            window_end=w.end,
            window_kind=st.config.scalar.window.kind,
            window_basis=st.config.scalar.window.basis,
            sample_count=sum(counts),
            sample_counts=counts,
            sample_rate=None,
            names=ext.names(w.resources),
            values=values,
            config_version=st.version,
            flags=w.flags,
            sequence=st.sequence,
            origin=self.clock(),
            correlation_id=self.correlation_id,
        )

    def block(
        self,
        device: str,
        profile: str,
        resource: str,
        origin: int,
        samples: NDArray[np.floating],
        sample_rate: float | None,
        profile_spec: Any = None,
    ) -> list[FeatureVector]:
        """One block of waveform samples starting at ``origin`` ns; returns the FeatureVectors of full windows.

        Settings of the resource: the device's REST configuration, else ``profile_spec`` (the profile resource's
        ``features`` tag, versioned ``profile-<crc32>``), else the defaults. The sample rate is the configured
        one, else ``sample_rate`` (from the reading's tags); a block with neither is counted ``no_sample_rate``
        and skipped, as is one whose window would be under 8 samples (``window_too_short``).
        """
        if origin > self.clock() + MAX_FUTURE_NS:
            self.stats["future"] += 1
            return []
        st = self._device(device, profile)
        wf = st.waveforms.get(resource)
        if wf is None or (profile_spec is not None and wf.profile_spec != profile_spec):
            wf = None
        spec, version = (wf.spec, wf.version) if wf is not None else self._spec(st, resource, profile_spec)
        fs = spec.sample_rate_hz or sample_rate
        if not fs:
            self.stats["no_sample_rate"] += 1
            return []
        if wf is None or wf.fs != fs:
            if spec.samples(fs) < _MIN_WINDOW:
                self.stats["window_too_short"] += 1
                return []
            if spec.samples(fs) > MAX_WINDOW_SAMPLES:  # a time window at a sample rate from the reading's tag
                self.stats["window_too_long"] += 1
                return []
            wf = self._waveform(st, resource, spec, version, fs, profile_spec)
        w = wf.windower
        if not w.push(origin, samples) or w.fill < w.n:
            return []
        return self._emit(st, wf, resource)

    def _emit(self, st: _Device, wf: _Waveform, resource: str) -> list[FeatureVector]:
        """FeatureVectors of every complete window buffered for ``resource``."""
        out: list[FeatureVector] = []
        ext = wf.extractor
        n = wf.windower.n
        span = round(n * 1e9 / wf.fs)
        for start, x in wf.windower.windows():
            values = ext.compute(x, ext.shaft_hz(st.latest))
            st.sequence += 1
            out.append(
                FeatureVector.trusted(
                    device=st.name,
                    profile=st.profile,
                    resources=[resource],
                    window_start=start,
                    window_end=start + span,
                    window_kind=wf.spec.window.kind,
                    window_basis=wf.spec.window.basis,
                    sample_count=n,
                    sample_counts=[n],
                    sample_rate=wf.fs,
                    names=ext.names,
                    values=values,
                    config_version=wf.version,
                    flags=[],
                    sequence=st.sequence,
                    origin=self.clock(),
                    correlation_id=self.correlation_id,
                )
            )
        self.stats["vectors"] += len(out)
        return out

    def _spec(self, st: _Device, resource: str, profile_spec: Any) -> tuple[WaveformSpec, str]:
        """The resource's spec and the config version it stands for."""
        spec = st.waveform_specs.get(resource)
        if spec is not None:
            return spec, st.version
        if isinstance(profile_spec, dict) and st.version == DEFAULT_VERSION:
            try:
                spec = WaveformSpec.model_validate({**profile_spec, "resource": resource})
            except ValidationError as e:
                self.stats["bad_profile_config"] += 1
                log.warning(
                    "profile 'features' tag rejected; using defaults",
                    extra={"device": st.name, "resource": resource, "error": str(e)[:500]},
                )
            else:
                text = json.dumps(profile_spec, sort_keys=True, separators=(",", ":"))
                return spec, f"profile-{zlib.crc32(text.encode()):08x}"
        return _DEFAULT_WAVEFORM.model_copy(update={"resource": resource}), st.version

    def _waveform(
        self, st: _Device, resource: str, spec: WaveformSpec, version: str, fs: float, profile_spec: Any
    ) -> _Waveform:
        n, hop = spec.samples(fs), spec.hop_samples(fs)
        windower = WaveformWindower(n, hop, fs, spec.max_gap_samples, self.stats)
        wf = _Waveform(spec, fs, windower, WaveformExtractor(spec, n, fs), version, profile_spec)
        st.waveforms[resource] = wf
        return wf
