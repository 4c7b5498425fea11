"""The deployment files for the municipality's IT agree with `make run-prod` (ops/production.py).

Dockerfile, docker-compose.yml and deploy/kubernetes/ write down the topology `make run-prod` starts: the same
processes and commands, replicas, ports, secrets, Redis lock store, and the same proxy config, rendered from
ops/templates/balancecoach.conf.j2. Each assertion names the file to fix. Files only: nothing is built or run.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
import yaml

from bot import settings as settings_module
from ops import production
from ops.production import PROXY_ROUTES, TOPOLOGY, proxy_config

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
K8S_DIR = ROOT / "deploy" / "kubernetes"
COMPOSE_CONF = ROOT / "deploy" / "nginx" / "compose.conf"
PROXY_CONFIGMAP = K8S_DIR / "proxy-config.yaml"

REPLICAS = TOPOLOGY["rasa"]["replicas"]
RASA_PORT = TOPOLOGY["rasa"]["port"]
ACTION_PORT = TOPOLOGY["actions"]["port"]
REVIEW_PORT = TOPOLOGY["review"]["port"]
PROXY_PORTS = TOPOLOGY["proxy"]["ports"]
APPS = ("rasa", "actions", "review")  # the Python processes: every one reads every secret (settings.load)
PORT_VARIABLES = {"rasa": ("RASA_PORT", RASA_PORT), "actions": ("ACTION_PORT", ACTION_PORT),
                  "review": ("BALANCECOACH_REVIEW_PORT", REVIEW_PORT)}
HOST_VARIABLES = {"rasa": "BALANCECOACH_HOST", "actions": "BALANCECOACH_ACTION_HOST",
                  "review": "BALANCECOACH_REVIEW_HOST"}
HEALTH = {"rasa": "/", "actions": "/health", "review": "/login"}  # what Production.health asks
# The compose secret files are what `python -m ops.production secrets DIR` writes (docker-compose.yml says so).
SECRET_FILES = {name: name.lower().replace("balancecoach_", "") for name in settings_module.SECRETS}


def command(process: str) -> List[str]:
    """The command docker-compose.yml and Kubernetes must run for a process of TOPOLOGY."""
    return TOPOLOGY[process]["command"]


def process_of(name: str) -> str:
    return "rasa" if re.fullmatch(r"rasa-\d+", name) else name


# --- docker-compose.yml -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def compose_apps(compose: dict) -> Dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if process_of(name) in APPS}


def interpolated(value: str) -> str:
    """Compose's ${VAR:?message} / ${VAR:-default} with a stand-in for VAR."""
    return re.sub(r"\$\{([A-Z_]+)(?::?[?-][^}]*)?\}", lambda m: f"stand-in-{m.group(1).lower()}", value)


def test_compose_runs_exactly_the_topology(compose):
    expected = {"proxy", "actions", "review", "postgres", "redis"} | {f"rasa-{i}" for i in range(REPLICAS)}
    assert set(compose["services"]) == expected, (
        f"docker-compose.yml: services must be those of ops/production.py TOPOLOGY ({REPLICAS} Rasa servers rasa-0 "
        f"... rasa-{REPLICAS - 1}, proxy, actions, review) plus postgres and redis")
    for name, service in compose["services"].items():
        assert "deploy" not in service and "scale" not in service, (
            f"docker-compose.yml: {name}: one container per service (the proxy's upstream names each Rasa server)")


def test_compose_commands_ports_and_hosts(compose):
    for name, service in compose_apps(compose).items():
        process = process_of(name)
        assert service.get("command") == command(process), (
            f"docker-compose.yml: {name}: command must be {command(process)} (ops/production.py TOPOLOGY)")
        port_variable, port = PORT_VARIABLES[process]
        assert [str(p) for p in service.get("expose", [])] == [str(port)], (
            f"docker-compose.yml: {name}: expose must be [{port}] (TOPOLOGY['{process}']['port'])")
        env = service["environment"]
        assert env.get(port_variable) == str(port), f"docker-compose.yml: {name}: {port_variable} must be {port}"
        assert env.get(HOST_VARIABLES[process]) == "0.0.0.0", (
            f"docker-compose.yml: {name}: {HOST_VARIABLES[process]}=0.0.0.0, or the other containers cannot reach it")
        health = " ".join(service["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}{HEALTH[process]}'" in health, (
            f"docker-compose.yml: {name}: the healthcheck must ask http://127.0.0.1:{port}{HEALTH[process]}")
    assert compose["services"]["proxy"]["image"] == "nginx:1.22", "docker-compose.yml: proxy: image nginx:1.22"
    images = {s.get("image") for s in compose_apps(compose).values()}
    assert len(images) == 1 and None not in images, "docker-compose.yml: every Python service runs the same image"


def test_compose_only_the_proxy_publishes_ports(compose):
    published = {name for name, s in compose["services"].items() if s.get("ports")}
    assert published == {"proxy"}, f"docker-compose.yml: only the proxy may publish ports, not {published - {'proxy'}}"
    expected = {f"{p}:{p}" for p in PROXY_PORTS.values()}
    assert {str(p) for p in compose["services"]["proxy"]["ports"]} == expected, (
        f"docker-compose.yml: proxy must publish {sorted(expected)} (TOPOLOGY['proxy']['ports'])")
    for name, service in compose["services"].items():
        assert service.get("network_mode") != "host", f"docker-compose.yml: {name}: no host network"


def test_compose_secrets_come_from_files(compose):
    declared = compose.get("secrets", {})
    for name, service in compose_apps(compose).items():
        env = service["environment"]
        mounted = {s if isinstance(s, str) else s.get("target", s["source"]): s if isinstance(s, str) else s["source"]
                   for s in service.get("secrets", [])}
        for variable in settings_module.SECRETS:
            assert variable not in env, f"docker-compose.yml: {name}: {variable} belongs in a secret file, not the file"
            path = env.get(f"{variable}_FILE", "")
            assert path.startswith("/run/secrets/") and path[len("/run/secrets/"):] in mounted, (
                f"docker-compose.yml: {name}: {variable}_FILE must name a secret mounted in /run/secrets/ "
                "(bot/settings.py SECRETS; every process reads every secret)")
            source = mounted[path[len("/run/secrets/"):]]
            assert declared.get(source, {}).get("file") == f"./secrets/{SECRET_FILES[variable]}", (
                f"docker-compose.yml: secret {source} must be the file ./secrets/{SECRET_FILES[variable]}, as "
                "`python -m ops.production secrets secrets` writes it")


def test_compose_settings_pass_the_production_check(compose, tmp_path):
    """rasa-0's environment, with the files `python -m ops.production secrets` writes, is what `make run-prod`
    accepts: secrets, PostgreSQL, the Redis lock store, the API for HR's deploys, the proxy's certificate."""
    folder = tmp_path / "secrets"
    folder.mkdir(mode=0o700)
    for dummy in ("tls.crt", "tls.key"):  # write_secrets leaves existing certificate files alone (no openssl)
        (folder / dummy).write_text("-----BEGIN TEST-----\n")
        (folder / dummy).chmod(0o600)
    production.write_secrets(folder)
    declared = compose["secrets"]

    def host_path(container_path: str, service: dict) -> str:
        target = container_path[len("/run/secrets/"):]
        for s in service["secrets"]:
            if (s if isinstance(s, str) else s.get("target", s["source"])) == target:
                source = s if isinstance(s, str) else s["source"]
                return str(folder / Path(declared[source]["file"]).name)
        raise AssertionError(f"docker-compose.yml: {container_path} is not a mounted secret")

    proxy = compose["services"]["proxy"]
    cert, key = tls_paths(COMPOSE_CONF.read_text())
    for name, service in compose_apps(compose).items():
        env = {k: interpolated(str(v)) for k, v in service["environment"].items()}
        for variable in settings_module.SECRETS:
            env[f"{variable}_FILE"] = host_path(env[f"{variable}_FILE"], service)
        env["BALANCECOACH_TLS_CERT_FILE"] = host_path(cert, proxy)
        env["BALANCECOACH_TLS_KEY_FILE"] = host_path(key, proxy)
        assert settings_module.production_problems(env) == [], (
            f"docker-compose.yml: {name}: `make run-prod` would refuse these settings")


def test_compose_shares_the_state_folder(compose):
    mounts = {}
    for name, service in compose_apps(compose).items():
        if process_of(name) in ("rasa", "review"):
            state_dir = service["environment"].get("BALANCECOACH_STATE_DIR", "var")
            target = state_dir if state_dir.startswith("/") else f"{dockerfile_workdir()}/{state_dir}"
            mounts[name] = [v.split(":")[0] for v in service.get("volumes", []) if v.split(":")[1] == target]
    volumes = {tuple(m) for m in mounts.values()}
    assert len(volumes) == 1 and all(len(v) == 1 and v[0] in compose.get("volumes", {}) for v in volumes), (
        f"docker-compose.yml: every Rasa server and the review app mount one named volume at the state folder "
        f"(HR's deployed models are read by every replica); found {mounts}")


# --- deploy/kubernetes/ -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def k8s() -> Dict[Tuple[str, str], Tuple[dict, str]]:
    found = {}
    for path in sorted(K8S_DIR.glob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                key = (doc["kind"], doc["metadata"]["name"])
                assert key not in found, f"deploy/kubernetes/{path.name}: {key} is defined twice"
                assert "namespace" not in doc["metadata"], f"deploy/kubernetes/{path.name}: no namespace in the files"
                found[key] = (doc, path.name)
    return found


WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Job", "CronJob")


def workloads(k8s) -> Dict[str, Tuple[dict, str]]:
    return {name: entry for (kind, name), entry in k8s.items() if kind in WORKLOADS}


def container(k8s, workload: str, name: Optional[str] = None) -> dict:
    doc, _ = workloads(k8s)[workload]
    containers = doc["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == (name or workload))


def k8s_env(k8s, c: dict) -> Dict[str, object]:
    """A container's environment: its ConfigMaps (envFrom), then its own env (values or valueFrom)."""
    env: Dict[str, object] = {}
    for source in c.get("envFrom", []):
        ref = source["configMapRef"]["name"]
        env.update(k8s[("ConfigMap", ref)][0]["data"])
    for item in c.get("env", []):
        env[item["name"]] = item.get("value", item.get("valueFrom"))
    return env


def test_k8s_runs_exactly_the_topology(k8s):
    found = {name: (doc["kind"], doc["spec"].get("replicas", 1)) for name, (doc, _) in workloads(k8s).items()}
    expected = {"rasa": ("StatefulSet", REPLICAS), "actions": ("Deployment", TOPOLOGY["actions"]["replicas"]),
                "review": ("Deployment", TOPOLOGY["review"]["replicas"]),
                "proxy": ("Deployment", TOPOLOGY["proxy"]["replicas"])}
    assert found == expected, (f"deploy/kubernetes/: the workloads must be those of ops/production.py TOPOLOGY "
                               f"{expected}, found {found}")
    rasa, file = workloads(k8s)["rasa"]
    assert rasa["spec"]["serviceName"] == "rasa", f"deploy/kubernetes/{file}: the StatefulSet's serviceName is rasa"
    assert rasa["spec"].get("podManagementPolicy", "OrderedReady") == "OrderedReady", (
        f"deploy/kubernetes/{file}: rasa-0 must be ready (tables created) before rasa-1 starts")
    service, file = k8s[("Service", "rasa")]
    assert service["spec"].get("clusterIP") == "None", (
        f"deploy/kubernetes/{file}: Service rasa must be headless, so the pods are rasa-0.rasa, rasa-1.rasa ...")


def test_k8s_commands_ports_probes(k8s):
    for process in APPS:
        c = container(k8s, process)
        doc, file = workloads(k8s)[process]
        assert "command" not in c and c.get("args") == command(process), (
            f"deploy/kubernetes/{file}: {process}: args must be {command(process)}")
        port_variable, port = PORT_VARIABLES[process]
        assert [p["containerPort"] for p in c["ports"]] == [port], f"deploy/kubernetes/{file}: containerPort {port}"
        env = k8s_env(k8s, c)
        assert env.get(port_variable) == str(port), (
            f"deploy/kubernetes/config.yaml or {file}: {process}: {port_variable} must be {port}")
        assert env.get(HOST_VARIABLES[process]) == "0.0.0.0", (
            f"deploy/kubernetes/{file}: {process}: {HOST_VARIABLES[process]}=0.0.0.0")
        for probe in ("readinessProbe", "livenessProbe"):
            assert c.get(probe, {}).get("httpGet") == {"path": HEALTH[process], "port": port}, (
                f"deploy/kubernetes/{file}: {process}: {probe} must GET {HEALTH[process]} on {port}")
        services = [d for (kind, _), (d, _) in k8s.items() if kind == "Service"
                    and d["spec"].get("selector", {}).items() <= doc["spec"]["template"]["metadata"]["labels"].items()
                    and d["spec"].get("selector")]
        assert [p["port"] for s in services for p in s["spec"]["ports"]] == [port], (
            f"deploy/kubernetes/{file}: {process} needs one Service with port {port}")
        assert k8s[("Service", process)][0]["spec"].get("type", "ClusterIP") == "ClusterIP", (
            f"deploy/kubernetes/{file}: Service {process} stays inside the cluster (ClusterIP)")
    proxy = container(k8s, "proxy")
    assert proxy["image"] == "nginx:1.22", "deploy/kubernetes/proxy.yaml: image nginx:1.22"
    images = {container(k8s, p)["image"] for p in APPS}
    assert len(images) == 1, "deploy/kubernetes/: rasa, actions and review run the same image"


def test_k8s_only_the_proxy_is_reachable_from_outside(k8s):
    outside = {name: (kind if kind != "Service" else d["spec"].get("type", "ClusterIP"))
               for (kind, name), (d, _) in k8s.items() if kind in ("Service", "Ingress", "Gateway")}
    outside = {name: kind for name, kind in outside.items() if kind != "ClusterIP"}
    assert outside == {"proxy": "LoadBalancer"}, (
        f"deploy/kubernetes/proxy.yaml: only Service proxy (LoadBalancer) may reach outside, found {outside}")
    ports = {(p["port"], p.get("targetPort", p["port"])) for p in k8s[("Service", "proxy")][0]["spec"]["ports"]}
    assert ports == {(p, p) for p in PROXY_PORTS.values()}, (
        f"deploy/kubernetes/proxy.yaml: Service proxy must expose {sorted(PROXY_PORTS.values())}")
    assert sorted(p["containerPort"] for p in container(k8s, "proxy")["ports"]) == sorted(PROXY_PORTS.values()), (
        "deploy/kubernetes/proxy.yaml: the proxy's containerPorts are TOPOLOGY['proxy']['ports']")
    for name, (doc, file) in workloads(k8s).items():
        spec = doc["spec"]["template"]["spec"]
        assert not spec.get("hostNetwork"), f"deploy/kubernetes/{file}: {name}: no hostNetwork"
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            assert all("hostPort" not in p for p in c.get("ports", [])), f"deploy/kubernetes/{file}: no hostPort"


def test_k8s_secrets_reach_every_process(k8s):
    secret, secret_file = k8s[("Secret", "balancecoach")]
    keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    checked = [(p, container(k8s, p)) for p in APPS]
    proxy_spec = workloads(k8s)["proxy"][0]["spec"]["template"]["spec"]
    checked += [("proxy (produktionstjek)", c) for c in proxy_spec.get("initContainers", [])]
    for process, c in checked:
        env = k8s_env(k8s, c)
        for variable in settings_module.SECRETS + ("BALANCECOACH_DATABASE_URL",):
            ref = (env.get(variable) or {}).get("secretKeyRef") if isinstance(env.get(variable), dict) else None
            assert ref and ref["name"] == "balancecoach" and ref["key"] in keys, (
                f"deploy/kubernetes/: {process}: {variable} must come from the Secret balancecoach "
                f"({secret_file} lists its keys)")


def test_k8s_proxy_runs_the_production_check(k8s, tmp_path):
    """The proxy opens only when `make run-prod`'s check passes: the init container's environment, with real
    secrets, passes it; with the example Secret's placeholders, it does not."""
    proxy_spec = workloads(k8s)["proxy"][0]["spec"]["template"]["spec"]
    init = proxy_spec.get("initContainers", [])
    assert len(init) == 1 and "production_problems" in " ".join(init[0]["command"]), (
        "deploy/kubernetes/proxy.yaml: an init container must run bot.settings.production_problems before nginx")
    env = k8s_env(k8s, init[0])
    cert, key = tls_paths(configmap_conf(k8s))
    assert (env.get("BALANCECOACH_TLS_CERT_FILE"), env.get("BALANCECOACH_TLS_KEY_FILE")) == (cert, key), (
        "deploy/kubernetes/proxy.yaml: the check must see the certificate and key nginx uses")
    example = k8s[("Secret", "balancecoach")][0]["stringData"]
    files = {}
    for path in (cert, key):
        files[path] = tmp_path / Path(path).name
        files[path].write_text("-----BEGIN TEST-----\n")
        files[path].chmod(0o600)

    def resolved(secret_values: Dict[str, str]) -> Dict[str, str]:
        out = {}
        for name, value in env.items():
            if isinstance(value, dict):
                value = secret_values[value["secretKeyRef"]["key"]]
            out[name] = str(files.get(value, value))
        return out

    problems = settings_module.production_problems(resolved(example))
    for variable in settings_module.SECRETS:
        assert any(p.startswith(f"{variable} er en standardværdi") for p in problems), (
            f"deploy/kubernetes/secrets.example.yaml: the placeholder of {variable} must be refused by "
            f"bot.settings.production_problems (use skift-mig-...); got {problems}")
    import secrets as random

    real = {k: (v if k == "database_url" else random.token_urlsafe(48)) for k, v in example.items()}
    assert settings_module.production_problems(resolved(real)) == [], (
        "deploy/kubernetes/config.yaml: with real secrets the settings must pass the production check")


def test_k8s_state_folder_is_shared(k8s):
    claim, file = k8s[("PersistentVolumeClaim", "balancecoach-tilstand")]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"], f"deploy/kubernetes/{file}: ReadWriteMany"
    mounts = {}
    for process in ("rasa", "review"):
        spec = workloads(k8s)[process][0]["spec"]["template"]["spec"]
        volumes = {v["name"]: v.get("persistentVolumeClaim", {}).get("claimName") for v in spec.get("volumes", [])}
        c = container(k8s, process)
        state_dir = str(k8s_env(k8s, c).get("BALANCECOACH_STATE_DIR", ""))
        mounts[process] = [(volumes.get(m["name"]), m["mountPath"]) for m in c.get("volumeMounts", [])
                           if state_dir.startswith(m["mountPath"].rstrip("/") + "/")]
        assert [claim for claim, _ in mounts[process]] == ["balancecoach-tilstand"], (
            f"deploy/kubernetes/{workloads(k8s)[process][1]}: {process}: BALANCECOACH_STATE_DIR (config.yaml) must "
            "lie on the PVC balancecoach-tilstand")
    assert mounts["rasa"] == mounts["review"], (
        "deploy/kubernetes/: rasa and review mount the state folder at the same path (a deploy names the file)")


# --- both: endpoints, replicas' addresses ------------------------------------------------------------------------


def endpoints_of(value: str) -> Path:
    return ROOT / value


def test_endpoints_have_a_redis_lock_store(compose, k8s):
    values = {f"docker-compose.yml: {n}": s["environment"].get("BALANCECOACH_ENDPOINTS")
              for n, s in compose_apps(compose).items()}
    values.update({f"deploy/kubernetes/: {p}": k8s_env(k8s, container(k8s, p)).get("BALANCECOACH_ENDPOINTS")
                   for p in APPS})
    production_endpoints = yaml.safe_load((ROOT / "endpoints.production.yml").read_text())
    for where, value in values.items():
        path = endpoints_of(value or "")
        assert value and path.is_file(), f"{where}: BALANCECOACH_ENDPOINTS must name a file in the project"
        endpoints = yaml.safe_load(path.read_text())
        assert endpoints.get("lock_store", {}).get("type") == "redis", (
            f"{where}: BALANCECOACH_ENDPOINTS={value} has no Redis lock_store (several Rasa servers need one)")
        assert endpoints["action_endpoint"]["url"] == f"http://actions:{ACTION_PORT}/webhook", (
            f"{value}: the action server is the container (Service) actions, port {ACTION_PORT}")
        endpoints["action_endpoint"]["url"] = production_endpoints["action_endpoint"]["url"]
        assert endpoints == production_endpoints, (
            f"{value}: must equal endpoints.production.yml but for the action server's address")
        assert f" {value} " in f" {' '.join(dockerfile_copied())} ", f"Dockerfile: must copy {value} into the image"


def test_rasa_urls_name_every_replica(compose, k8s):
    expected = {f"http://rasa-{i}:{RASA_PORT}" for i in range(REPLICAS)}
    for name, service in compose_apps(compose).items():
        urls = service["environment"].get("BALANCECOACH_RASA_URLS", "")
        assert set(urls.split(",")) == expected, (
            f"docker-compose.yml: {name}: BALANCECOACH_RASA_URLS must be {','.join(sorted(expected))}")
    expected = {f"http://rasa-{i}.rasa:{RASA_PORT}" for i in range(REPLICAS)}
    for process in APPS:
        urls = str(k8s_env(k8s, container(k8s, process)).get("BALANCECOACH_RASA_URLS", ""))
        assert set(urls.split(",")) == expected, (
            f"deploy/kubernetes/config.yaml: BALANCECOACH_RASA_URLS must be {','.join(sorted(expected))}")


# --- the proxy's config -----------------------------------------------------------------------------------------


def configmap_conf(k8s) -> str:
    return k8s[("ConfigMap", "proxy")][0]["data"]["default.conf"]


def tls_paths(conf: str) -> Tuple[str, str]:
    certs = set(re.findall(r"^\s*ssl_certificate\s+(\S+);", conf, re.M))
    keys = set(re.findall(r"^\s*ssl_certificate_key\s+(\S+);", conf, re.M))
    assert len(certs) == 1 and len(keys) == 1, "the proxy config must use one certificate and key"
    return certs.pop(), keys.pop()


def compose_expected(compose) -> Tuple[str, List[str]]:
    proxy = compose["services"]["proxy"]
    targets = [s if isinstance(s, str) else s.get("target", s["source"]) for s in proxy.get("secrets", [])]
    assert "tls.crt" in targets and "tls.key" in targets, (
        "docker-compose.yml: proxy must mount the certificate and key as secrets tls.crt and tls.key")
    assert {"source": "./deploy/nginx/compose.conf", "target": "/etc/nginx/conf.d/default.conf"} in [
        dict(zip(("source", "target"), v.split(":")[:2])) for v in proxy.get("volumes", [])], (
        "docker-compose.yml: proxy must mount ./deploy/nginx/compose.conf at /etc/nginx/conf.d/default.conf")
    args = ["--rasa", ",".join(f"rasa-{i}:{RASA_PORT}" for i in range(REPLICAS)), "--review", f"review:{REVIEW_PORT}",
            "--cert", "/run/secrets/tls.crt", "--key", "/run/secrets/tls.key", "--kilde", "docker-compose.yml"]
    return proxy_config(args[1].split(","), args[3], args[5], args[7], args[9]), args


def k8s_expected(k8s) -> Tuple[str, List[str]]:
    spec = workloads(k8s)["proxy"][0]["spec"]["template"]["spec"]
    c = container(k8s, "proxy")
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {volumes[m["name"]].get("secret", {}).get("secretName") or volumes[m["name"]].get("configMap", {})
              .get("name"): m["mountPath"] for m in c["volumeMounts"]}
    assert mounts.get("proxy") == "/etc/nginx/conf.d", (
        "deploy/kubernetes/proxy.yaml: the ConfigMap proxy must be mounted at /etc/nginx/conf.d")
    tls = mounts.get("balancecoach-tls")
    assert tls, "deploy/kubernetes/proxy.yaml: the Secret balancecoach-tls must be mounted in the proxy"
    args = ["--rasa", ",".join(f"rasa-{i}.rasa:{RASA_PORT}" for i in range(REPLICAS)),
            "--review", f"review:{REVIEW_PORT}", "--cert", f"{tls}/tls.crt", "--key", f"{tls}/tls.key",
            "--kilde", "deploy/kubernetes"]
    return proxy_config(args[1].split(","), args[3], args[5], args[7], args[9]), args


def test_committed_proxy_configs_are_rendered_from_the_template(compose, k8s):
    expected, args = compose_expected(compose)
    assert COMPOSE_CONF.read_text() == expected, (
        "deploy/nginx/compose.conf differs from what ops/templates/balancecoach.conf.j2 renders now; render it "
        f"again: python -m ops.production nginx {shlex.join(args)} > deploy/nginx/compose.conf")
    expected, args = k8s_expected(k8s)
    assert configmap_conf(k8s) == expected, (
        "deploy/kubernetes/proxy-config.yaml differs from what ops/templates/balancecoach.conf.j2 renders now; "
        f"put the output of python -m ops.production nginx {shlex.join(args)} under default.conf")


def nginx_tree(text: str) -> list:
    """nginx's config as [(name, args, children or None)]."""
    tokens = re.findall(r'#[^\n]*|"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[{};]|[^\s{};"\'#]+', text)
    tokens = [t for t in tokens if not t.startswith("#")]
    position = 0

    def block() -> list:
        nonlocal position
        out = []
        while position < len(tokens) and tokens[position] != "}":
            words = []
            while tokens[position] not in ("{", ";", "}"):
                words.append(tokens[position])
                position += 1
            if tokens[position] == "{":
                position += 1
                children = block()
                assert tokens[position] == "}", "unbalanced braces"
                position += 1
                out.append((words[0], words[1:], children))
            elif tokens[position] == ";":
                position += 1
                out.append((words[0], words[1:], None))
        return out

    tree = block()
    assert position == len(tokens), "unbalanced braces"
    return tree


@pytest.mark.parametrize("which", ["deploy/nginx/compose.conf", "deploy/kubernetes/proxy-config.yaml"])
def test_proxy_routes_exactly_the_leaders_paths(which, k8s):
    conf = COMPOSE_CONF.read_text() if which.endswith(".conf") else configmap_conf(k8s)
    rasa = ({f"rasa-{i}:{RASA_PORT}" for i in range(REPLICAS)} if which.endswith(".conf")
            else {f"rasa-{i}.rasa:{RASA_PORT}" for i in range(REPLICAS)})
    tree = nginx_tree(conf)
    upstreams = {args[0]: {c[1][0] for c in children if c[0] == "server"}
                 for name, args, children in tree if name == "upstream"}
    servers = {}
    for name, args, children in tree:
        if name == "server":
            listen = [c[1][0] for c in children if c[0] == "listen"]
            servers[int(listen[0])] = children
    assert set(servers) == set(PROXY_PORTS.values()), f"{which}: server blocks for {sorted(PROXY_PORTS.values())}"

    def target(children) -> Optional[str]:
        passes = [c[1][0] for c in children if c[0] == "proxy_pass"]
        return passes[0].replace("http://", "") if passes else None

    routed, others = {}, []
    for name, args, children in servers[PROXY_PORTS["leaders"]]:
        if name != "location":
            continue
        upstream = target(children)
        if upstream is not None and upstreams.get(upstream) == rasa:
            routed[args[-1]] = args[:-1]
        else:
            others.append((args, children))
    assert set(routed) == set(PROXY_ROUTES), (
        f"{which}: the leaders' port must route exactly ops/production.py PROXY_ROUTES to the Rasa servers; "
        f"routes {sorted(routed)}")
    for path, modifier in routed.items():
        assert modifier == (["^~"] if path.endswith("/") else ["="]), (
            f"{which}: location {path} must be {'a prefix (^~)' if path.endswith('/') else 'exact (=)'}")
    assert others == [(["/"], [("return", ["404"], None)])], (
        f"{which}: besides PROXY_ROUTES the leaders' port has only `location / {{ return 404; }}`, found {others}")
    review = [(args, target(children)) for name, args, children in servers[PROXY_PORTS["review"]]
              if name == "location"]
    assert review == [(["/"], "balancecoach_review")] and upstreams["balancecoach_review"] == {
        f"review:{REVIEW_PORT}"}, (
        f"{which}: the coaches' port serves the review app (review:{REVIEW_PORT}) and nothing else")


# --- Dockerfile -----------------------------------------------------------------------------------------------


def dockerfile_instructions() -> List[Tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in (raw.strip() for raw in text.splitlines()) if line and not line.startswith("#")]


def dockerfile_workdir() -> str:
    return [arg for op, arg in dockerfile_instructions() if op == "WORKDIR"][-1].strip()


def dockerfile_copied() -> List[str]:
    sources = []
    for op, arg in dockerfile_instructions():
        if op == "COPY":
            words = [w for w in arg.split() if not w.startswith("--")]
            sources += [w.rstrip("/") for w in words[:-1]]
    return sources


def test_dockerfile_builds_what_the_services_run():
    instructions = dockerfile_instructions()
    ops = [op for op, _ in instructions]
    assert instructions[0] == ("FROM", "python:3.10-slim"), "Dockerfile: FROM python:3.10-slim (Rasa 3.6 needs 3.10)"
    assert ops.count("FROM") == 1, "Dockerfile: one stage"
    users = [arg for op, arg in instructions if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "Dockerfile: the processes must not run as root"
    runs = " ".join(arg for op, arg in instructions if op == "RUN")
    assert "make install" in runs and "make train" in runs, (
        "Dockerfile: install requirements.lock (make install) and build the models (make train) at build time")
    import json

    cmd = json.loads([arg for op, arg in instructions if op == "CMD"][-1])
    assert cmd == command("rasa"), f"Dockerfile: CMD must be the Rasa server's command {command('rasa')}"
    copied = set(dockerfile_copied())
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    needed = packages | {"data", "web", "config.yml", "credentials.yml", "domain.yml", "Makefile", "requirements.lock"}
    assert needed <= copied, f"Dockerfile: must copy {sorted(needed - copied)} into the image"
    assert "." not in copied, "Dockerfile: copy the project path by path (never the host's .venv, var or models)"
