"""Rules are held to limits: rule files within the YAML budget (alias bombs, depth, size), REST bodies within
Service.MaxRequestSize and Service.MaxDocumentDepth."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewatch.common.contracts.yamlsafe import YamlBudget
from edgewatch.rules.store import RuleFileError, load_rule_file
from tests.support.hostile import alias_bomb


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (alias_bomb(key="actions"), "MaxYamlAliasNodes"),
        ("name: deep\nsource: " + "[" * 40 + "]" * 40 + "\n", "MaxDocumentDepth"),
    ],
)
def test_rule_files_over_the_yaml_budget_are_refused_naming_the_limit(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "r.yaml"
    f.write_text(text)
    with pytest.raises(RuleFileError, match=match):
        load_rule_file(f)


def test_rule_file_larger_than_the_budget_is_refused_unread(tmp_path: Path) -> None:
    f = tmp_path / "big.yaml"
    f.write_text("name: big\ndescription: " + "x" * 5000 + "\n")
    with pytest.raises(RuleFileError, match="MaxRequestSize"):
        load_rule_file(f, YamlBudget(max_bytes=1000))


async def test_rest_rule_bodies_over_size_or_depth_are_refused(make_settings, started) -> None:  # type: ignore[no-untyped-def]
    svc = await started(make_settings())
    deep = b'{"name": "r", "source": ' + b"[" * 40 + b"]" * 40 + b"}"
    r = await svc.http.post("/api/v3/rule", content=deep, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "MaxDocumentDepth" in r.json()["message"]
    big = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    r = await svc.http.post("/api/v3/rule/validate", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "MaxRequestSize" in r.json()["message"]
