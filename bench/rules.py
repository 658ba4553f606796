"""Rule evaluations/s through edgewatch-rules' path vs a bare Python loop over the same score messages, one run.

Workload: 10 rules watch the score of one device (thresholds spread out, some with hysteresis, debounce counts,
a 5-sample mean window and a 10-sample max window); 20 000 Score messages whose values mostly stay normal and
now and then cross a threshold, as real scores do. One message = 10 rule evaluations.

Rules path (what ``RulesMessaging.on_score`` does per message, minus the socket and the actuator's I/O):
``decode_score`` (msgpack + pydantic validation of the Score contract) and ``RuleEngine.on_sample`` (index
lookup, per-device state, window aggregate, hysteresis/debounce state machine, decisions).

Bare loop (the floor): ``msgpack.unpackb`` of the same bytes, then per rule ``value > threshold`` with a
consecutive counter: no validation, no windows, no hysteresis, no state objects.

Sides run interleaved in short rounds; the ratio is the median of per-round ratios.
"""

from __future__ import annotations

import gc
import statistics
import time

import msgpack
import numpy as np

from edgewatch.common.contracts.score import Score, decode_score, encode_score
from edgewatch.rules.engine import RuleEngine
from edgewatch.rules.rule import Rule

MESSAGES = 20_000
ROUNDS = 11
CHUNK = 2_000


def rules() -> list[Rule]:
    out = []
    for i in range(10):
        doc: dict[str, object] = {
            "name": f"r{i}",
            "source": {"kind": "score", "device": "pump-1" if i % 2 else "*"},
            "condition": {"comparator": ">", "threshold": 4.0 + i, "clearThreshold": 2.0 + i if i % 3 else None},
            "debounce": {"count": 1 + i % 3},
        }
        if i == 4:
            doc["window"] = {"aggregate": "mean", "samples": 5}
        if i == 7:
            doc["window"] = {"aggregate": "max", "samples": 10}
        out.append(Rule.model_validate(doc))
    return out


def messages() -> list[bytes]:
    rng = np.random.default_rng(2)
    values = np.abs(rng.normal(2.0, 2.5, MESSAGES))
    out = []
    for i, v in enumerate(values.tolist()):
        t = 1_700_000_000_000_000_000 + i * 1_000_000_000
        s = Score(
            device="pump-1",
            profile="demo-pump",
            model_name="auto.pump-1",
            model_version="1",
            model_sha256="ab" * 32,
            score=v,
            threshold=8.0,
            is_anomaly=v > 8.0,
            window_start=t - 1_000_000_000,
            window_end=t,
            feature_config_version="1",
            origin=t,
            contributions={"Vibration.mean": v * 0.6, "Vibration.max": v * 0.3},
            sequence=i,
        )
        out.append(encode_score(s))
    return out


def main() -> None:
    engine = RuleEngine()
    for r in rules():
        engine.add(r)
    thresholds = [r.condition.threshold for r in rules()]
    msgs = messages()
    evaluations_per_msg = len(thresholds)
    decisions = 0

    def rules_path(chunk: list[bytes]) -> None:
        nonlocal decisions
        for data in chunk:
            s = decode_score(data)
            decisions += len(engine.on_sample("score", s.device, "", s.score, s.window_end or s.origin))

    counts = [0] * len(thresholds)

    def bare(chunk: list[bytes]) -> None:
        for data in chunk:
            v = msgpack.unpackb(data)["score"]
            for j, thr in enumerate(thresholds):
                counts[j] = counts[j] + 1 if v > thr else 0

    ratios, t_rules, t_bare = [], [], []
    gc.disable()
    try:
        for _ in range(ROUNDS):
            for k in range(0, len(msgs), CHUNK):
                chunk = msgs[k : k + CHUNK]
                s0 = time.perf_counter()
                rules_path(chunk)
                s1 = time.perf_counter()
                bare(chunk)
                s2 = time.perf_counter()
                ratios.append((s2 - s1) / (s1 - s0))
                t_rules.append((s1 - s0) / len(chunk))
                t_bare.append((s2 - s1) / len(chunk))
    finally:
        gc.enable()
    rules_rate = evaluations_per_msg / min(t_rules)
    bare_rate = evaluations_per_msg / min(t_bare)
    print(f"rules path: {min(t_rules) * 1e6:7.2f} us/message, {rules_rate:10.0f} rule evaluations/s")
    print(f"bare loop:  {min(t_bare) * 1e6:7.2f} us/message, {bare_rate:10.0f} rule evaluations/s")
    print(f"decisions (raises + clears) in the rules path: {decisions}")
    print(f"RESULT rules_vs_bare_loop {statistics.median(ratios):.3f} ratio (goal >= 0.2)")
    print(f"RESULT rules_evaluations_per_s {rules_rate:.0f} evaluations/s (goal >= 150000)")


if __name__ == "__main__":
    main()
