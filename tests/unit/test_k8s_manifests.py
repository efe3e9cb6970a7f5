"""Issue 13 §3: the Kubernetes manifests of deploy/k8s, rendered and checked without a
cluster.

Each overlay (and the base) is rendered by `kubectl kustomize`, as an operator would
apply it. Then:
- every Kubernetes resource validates against the Kubernetes OpenAPI schemas of the
  releases we support (kubernetes-validate, strict: an unknown field is an error);
- every custom resource of CloudNativePG, the Prometheus Operator and the External
  Secrets Operator validates against the schema its operator publishes, as packaged
  on npm by kubernetes-models (deploy/schema-check), unknown fields included;
- the RabbitmqCluster, for which no registry we reach carries the operator's schema,
  gets a check of our own (said so below, never passed off as the operator's);
- every process of deploy/Procfile has a Deployment running the same command, and
  every port a process serves (read from its config.yaml with the pod's environment)
  is a container port named in a probe or a Service;
- the PrometheusRule has exactly the groups of deploy/prometheus/rules;
- the production overlay carries no development secret and takes every secret
  setting of every service from a Secret.
No tool is optional: a missing kubectl, node or schema package fails, never skips
(deploy/bin/setup installs them for `make test`).
"""
import copy
import json
import os
import re
import shutil
import subprocess
from unittest import mock

import kubernetes_validate
import pytest
import yaml

from shared.runtime.config import REPO_ROOT, SERVICES, load_config, service_config_path

K8S = REPO_ROOT / "deploy" / "k8s"
SCHEMA_CHECK = K8S.parent / "schema-check"
OVERLAYS = {"base": K8S / "base", "dev": K8S / "overlays" / "dev",
            "production": K8S / "overlays" / "production"}
# The oldest Kubernetes release we support and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.31.0", "1.37.0")
NAMESPACE = "asan"
# Resources of these groups are validated by the operators' schemas (schema-check),
# or, for rabbitmq.com, by our own check below.
OPERATOR_GROUPS = {"postgresql.cnpg.io", "monitoring.coreos.com", "external-secrets.io"}
# What the local stack's development defaults look like (services/*/config.yaml,
# docs/OPERATIONS.md): none of it may reach production.
DEV_MARKERS = ("dev-only", "-dev-token", "change-me", "dev-token", "guest:guest", "asan:asan@")
SECRET_SETTING = re.compile(r"(TOKEN|KEY|SECRET|PASSWORD)")
# Settings that name where a Secret is mounted, not a secret themselves.
SECRET_MOUNTS = {"ASAN_KEYS_DIR"}


def kubectl():
    path = shutil.which("kubectl")
    assert path, "kubectl missing: deploy/bin/setup installs Debian's kubernetes-client"
    return path


def render(overlay):
    result = subprocess.run([kubectl(), "kustomize", str(OVERLAYS[overlay])],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered():
    return {name: render(name) for name in OVERLAYS}


def of_kind(resources, kind):
    return [r for r in resources if r["kind"] == kind]


def named(resources, kind, name):
    found = [r for r in of_kind(resources, kind) if r["metadata"]["name"] == name]
    assert found, f"no {kind} {name}"
    return found[0]


def group(resource):
    api = resource["apiVersion"]
    return api.split("/")[0] if "/" in api else ""


def pod_templates(resources):
    return [(d["metadata"]["name"], d["spec"]["template"])
            for d in of_kind(resources, "Deployment")]


def containers(template, init=True):
    spec = template["spec"]
    return spec["containers"] + (spec.get("initContainers", []) if init else [])


def k8s_name(process):
    """Procfile names (kiosk_gateway-relay) as Kubernetes names (kiosk-gateway-relay)."""
    return process.replace("_", "-")


def procfile():
    processes = {}
    for line in (REPO_ROOT / "deploy" / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = command.split()
    return processes


# ---------------------------------------------------------------- rendering

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_renders_into_the_asan_namespace(rendered, overlay):
    resources = rendered[overlay]
    assert len(of_kind(resources, "Deployment")) == 13
    for resource in resources:
        if resource["kind"] != "Namespace":
            assert resource["metadata"].get("namespace") == NAMESPACE, resource["metadata"]


def test_the_kustomizations_stay_within_what_debians_old_kustomize_reads():
    # kubectl 1.20 (Debian 12's kubernetes-client) embeds kustomize v2.0.3; a machine
    # with a newer kubectl would not notice a field the old one cannot read.
    known = {"namespace", "resources", "bases", "images", "patchesStrategicMerge",
             "patchesJson6902", "configMapGenerator", "secretGenerator", "generatorOptions"}
    for path in OVERLAYS.values():
        kustomization = yaml.safe_load((path / "kustomization.yaml").read_text())
        assert set(kustomization) <= known, (path, set(kustomization) - known)
        for entry in kustomization.get("resources", []):
            assert (path / entry).is_file(), f"{path}: resources lists files only (v2.0.3)"


# ------------------------------------------------------------ schemas: core

@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_kubernetes_resource_validates_against_the_kubernetes_schemas(
        rendered, overlay, version):
    checked = 0
    for resource in rendered[overlay]:
        if group(resource) in OPERATOR_GROUPS | {"rabbitmq.com"}:
            continue
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{resource['kind']} {resource['metadata']['name']}: {error.message}")
        checked += 1
    assert checked >= 60


def test_the_kubernetes_check_refuses_an_unknown_field(rendered):
    deployment = copy.deepcopy(named(rendered["base"], "Deployment", "booking"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


# -------------------------------------------------------- schemas: operators

def validate_custom(resources):
    node = shutil.which("node")
    assert node, "node missing: deploy/bin/setup installs Debian's nodejs"
    assert (SCHEMA_CHECK / "node_modules").is_dir(), \
        "deploy/schema-check/node_modules missing: deploy/bin/setup runs npm ci there"
    result = subprocess.run([node, str(SCHEMA_CHECK / "k8s.mjs")], input=json.dumps(resources),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_custom_resource_validates_against_its_operators_schema(rendered, overlay):
    custom = [r for r in rendered[overlay] if group(r) in OPERATOR_GROUPS]
    results = validate_custom(custom)
    assert len(results) == len(custom)
    problems = [r for r in results if r["errors"] or r["unknown"]]
    assert not problems, json.dumps(problems, indent=1)
    kinds = {r["kind"] for r in results}
    assert {"Cluster", "Database", "ServiceMonitor", "PodMonitor", "PrometheusRule"} <= kinds
    if overlay == "production":
        assert "ExternalSecret" in kinds


def test_the_operator_check_finds_a_wrong_type_and_an_unknown_field(rendered):
    cluster = copy.deepcopy(named(rendered["base"], "Cluster", "asan-pg"))
    cluster["spec"]["instances"] = "three"
    cluster["spec"]["storage"]["sise"] = "1Gi"
    monitor = copy.deepcopy(named(rendered["base"], "ServiceMonitor", "booking"))
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    result = {r["kind"]: r for r in validate_custom([cluster, monitor])}
    assert any("/spec/instances" in error for error in result["Cluster"]["errors"])
    assert result["Cluster"]["unknown"] == ["/spec/storage/sise"]
    assert result["ServiceMonitor"]["unknown"] == ["/spec/endpoints/0/intervall"]


# No registry this project reaches (PyPI, npm, Debian) carries the RabbitMQ Cluster
# Operator's CRD schema (docs/OPERATIONS.md, "Kubernetes"). This is OUR check, written
# from the operator's documented v1beta1 API: the fields we may set, the Kubernetes
# types embedded in them validated as the Pod fields they become, and the settings
# the platform relies on. It is not the operator's schema.
RABBITMQ_SPEC_FIELDS = {
    "replicas", "image", "imagePullSecrets", "service", "persistence", "resources",
    "affinity", "tolerations", "rabbitmq", "tls", "override", "skipPostDeploySteps",
    "terminationGracePeriodSeconds", "delayStartSeconds", "secretBackend",
    "autoEnableAllFeatureFlags"}
RABBITMQ_CONFIG_FIELDS = {"additionalConfig", "additionalPlugins", "advancedConfig",
                          "envConfig", "erlangInetConfig"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_rabbitmq_cluster_has_three_nodes_and_quorum_queues_by_default(rendered, overlay):
    cluster = named(rendered[overlay], "RabbitmqCluster", "asan-rabbitmq")
    assert cluster["apiVersion"] == "rabbitmq.com/v1beta1"
    spec = cluster["spec"]
    assert set(spec) <= RABBITMQ_SPEC_FIELDS, set(spec) - RABBITMQ_SPEC_FIELDS
    assert set(spec["rabbitmq"]) <= RABBITMQ_CONFIG_FIELDS
    assert spec["replicas"] == 3 and isinstance(spec["replicas"], int)
    assert set(spec["persistence"]) <= {"storage", "storageClassName"}
    assert set(spec["service"]) <= {"type", "annotations", "ipFamilyPolicy"}
    config = dict(line.split(" = ", 1)
                  for line in spec["rabbitmq"]["additionalConfig"].splitlines())
    assert config["default_queue_type"] == "quorum"
    assert config["cluster_partition_handling"] == "pause_minority"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "rabbitmq"},
           "spec": {"containers": [{"name": "rabbitmq", "image": spec["image"],
                                    "resources": spec["resources"]}],
                    "affinity": spec["affinity"], "tolerations": spec.get("tolerations", [])}}
    kubernetes_validate.validate(pod, KUBERNETES_VERSIONS[0], strict=True)
    # One node per machine: losing a machine costs one member of each quorum queue.
    anti = spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert anti[0]["topologyKey"] == "kubernetes.io/hostname"


# ------------------------------------------------- processes, ports, probes

def test_every_procfile_process_has_a_deployment_running_its_command(rendered):
    resources = rendered["production"]
    for process, command in procfile().items():
        deployment = named(resources, "Deployment", k8s_name(process))
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        expected = [command[0].removeprefix(".venv/bin/")] + command[1:]
        assert container["args"] == expected, process
    assert len(of_kind(resources, "Deployment")) == len(procfile())


def pod_environment(resources, template, container):
    """The environment a container starts with, as far as the manifests say (values
    from Secrets are left out: a port or an address is never secret)."""
    env = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(named(resources, "ConfigMap", source["configMapRef"]["name"])["data"])
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
    return env


def served_ports(resources, template, container):
    """The ports the process of this container listens on: its config.yaml, read with
    the container's environment, as the process will read it."""
    args = container["args"]
    config_path = args[args.index("--config") + 1] if "--config" in args else args[-1]
    with mock.patch.dict(os.environ, pod_environment(resources, template, container), clear=True):
        config = load_config(REPO_ROOT / config_path)
    if "shared.runtime.relay" in args:
        return [(str(config["RELAY_METRICS_BIND"]), int(config["RELAY_METRICS_PORT"]))]
    host, port = str(config["WEB_SERVER_ADDRESS"]).rsplit(":", 1)
    return [(host, int(port))]


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_port_a_process_serves_is_in_a_probe_or_a_service(rendered, overlay):
    resources = rendered[overlay]
    services = of_kind(resources, "Service")
    for name, template in pod_templates(resources):
        labels = template["metadata"]["labels"]
        container = template["spec"]["containers"][0]
        ports = {p["containerPort"]: p.get("name") for p in container["ports"]}
        for host, port in served_ports(resources, template, container):
            assert host == "0.0.0.0", f"{name} listens on {host}: unreachable from the pod network"
            assert port in ports, f"{name} serves {port}, not a containerPort"
        for port, port_name in ports.items():
            probed = [p for p in ("startupProbe", "readinessProbe", "livenessProbe")
                      if port in (container.get(p, {}).get("httpGet", {}).get("port"),
                                  container.get(p, {}).get("tcpSocket", {}).get("port"))
                      or port_name in (container.get(p, {}).get("httpGet", {}).get("port"),
                                       container.get(p, {}).get("tcpSocket", {}).get("port"))]
            exposed = [s for s in services if selects(s["spec"].get("selector"), labels)
                       and any(sp["targetPort"] in (port, port_name) for sp in s["spec"]["ports"])]
            assert probed and exposed, f"{name}: port {port} probed by {probed}, in {exposed}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_finds_the_clusters_broker_and_database_not_the_local_ones(rendered, overlay):
    resources = rendered[overlay]
    for name, template in pod_templates(resources):
        for container in containers(template):
            args = container["args"]
            config_path = args[args.index("--config") + 1] if "--config" in args else (
                args[-1] if args[-1].endswith("config.yaml") else "services/booking/config.yaml")
            with mock.patch.dict(os.environ, pod_environment(resources, template, container),
                                 clear=True):
                config = load_config(REPO_ROOT / config_path)
            assert config["AMQP_URI"] == \
                "amqp://$(RABBITMQ_USER):$(RABBITMQ_PASSWORD)@asan-rabbitmq:5672/", name
            # Kubernetes expands $(VAR) only from variables defined before it.
            order = [v["name"] for v in container["env"]]
            assert order.index("RABBITMQ_USER") < order.index("AMQP_URI"), name
            assert order.index("RABBITMQ_PASSWORD") < order.index("AMQP_URI"), name
            if "DATABASE_URL" in config and not name == "web":
                assert "@asan-pg-rw:5432/" in config["DATABASE_URL"], name


@pytest.mark.parametrize("overlay", ["dev", "production"])
def test_every_service_and_relay_logs_in_to_the_broker_as_itself(rendered, overlay):
    """Issue 14 §1: its own Secret (username = its Procfile name, the user of
    shared.ops.brokerusers); only the topology init container is the administrator."""
    resources = rendered[overlay]
    users = {}
    for name, template in pod_templates(resources):
        for container in containers(template):
            env = {v["name"]: v for v in container["env"]}
            secret = env["RABBITMQ_USER"]["valueFrom"]["secretKeyRef"]["name"]
            assert env["RABBITMQ_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == secret
            if container["name"] == "topology":
                assert secret == "asan-rabbitmq-default-user", name
            else:
                users[name] = secret
    process_names = {k8s_name(process): process for process in procfile()}
    assert set(users) == set(process_names)
    assert len(set(users.values())) == len(users)  # no two share an account
    for name, secret in users.items():
        assert secret == f"asan-rabbitmq-{name}"
        for source in of_kind(resources, "Secret"):
            if source["metadata"]["name"] == secret:
                assert source["stringData"]["username"] == process_names[name]


def test_services_are_ready_on_health_and_alive_on_live_relays_on_their_metrics(rendered):
    for name, template in pod_templates(rendered["production"]):
        container = template["spec"]["containers"][0]
        if name.endswith("-relay"):
            assert container["readinessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}
            assert container["livenessProbe"]["tcpSocket"] == {"port": "metrics"}
        else:
            assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
            # Liveness never asks the database: an outage must not restart every pod.
            assert container["livenessProbe"]["httpGet"] == {"path": "/live", "port": "http"}
            assert container["startupProbe"]["httpGet"]["path"] == "/live"


def quantity(value):
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    value = str(value)
    for unit, factor in units.items():
        if value.endswith(unit):
            return float(value[:-len(unit)]) * factor
    return float(value)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_requests_and_limits(rendered, overlay):
    for name, template in pod_templates(rendered[overlay]):
        for container in containers(template):
            resources = container["resources"]
            for what in ("cpu", "memory"):
                assert quantity(resources["requests"][what]) \
                    <= quantity(resources["limits"][what]), (name, container["name"], what)


def test_every_pod_meets_the_restricted_pod_security_standard(rendered):
    for name, template in pod_templates(rendered["production"]):
        spec = template["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in containers(template):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["readOnlyRootFilesystem"] is True, name


def test_production_runs_a_released_image_and_at_least_two_of_everything(rendered):
    resources = rendered["production"]
    for name, template in pod_templates(resources):
        for container in containers(template):
            image = container["image"]
            assert re.fullmatch(r"[\w.-]+(/[\w.-]+)+:\d+\.\d+\.\d+", image), (name, image)
    autoscaled = {h["spec"]["scaleTargetRef"]["name"]: h
                  for h in of_kind(resources, "HorizontalPodAutoscaler")}
    for deployment in of_kind(resources, "Deployment"):
        name = deployment["metadata"]["name"]
        if name in autoscaled:
            assert "replicas" not in deployment["spec"], f"{name}: the autoscaler owns the count"
            assert autoscaled[name]["spec"]["minReplicas"] >= 2, name
        else:
            assert deployment["spec"]["replicas"] >= 2, name


def test_disruption_budgets_for_all_and_autoscalers_for_the_stateless_services(rendered):
    resources = rendered["production"]
    budgets = of_kind(resources, "PodDisruptionBudget")
    autoscaled = {h["spec"]["scaleTargetRef"]["name"]
                  for h in of_kind(resources, "HorizontalPodAutoscaler")}
    for name, template in pod_templates(resources):
        labels = template["metadata"]["labels"]
        assert any(selects(b["spec"]["selector"]["matchLabels"], labels) for b in budgets), name
        # Relays publish one outbox in order: a fixed count, no autoscaler.
        assert (name in autoscaled) == (not name.endswith("-relay")), name


# --------------------------------------------------------------- network

PUBLIC = ("/api/booking/centres", "/api/booking/services",
          "/api/booking/centres/baku-1/services/passport/slots", "/api/booking/bookings",
          "/api/booking/bookings/cancel",
          "/api/booking/bookings/reschedule", "/api/booking/bookings/order-code",
          "/api/booking/bookings/visit", "/reschedule", "/order-code",
          "/api/booking/bookings/0b6c7a52-1f0e-4b8e-9b1e-0c3f1d6d2a10/confirm",
          "/api/registry/fin/by-id-card", "/api/registry/fin/by-name",
          "/api/complaints/complaints", "/api/complaints/complaints/withdraw",
          "/", "/booking", "/booking/confirm", "/cancel", "/fin", "/complaint", "/static/site.css",
          "/board/baku-1", "/board/baku-1.json", "/static/board.js")
INTERNAL = ("/api/booking/operator/bookings/search", "/api/booking/openapi.json",
            "/api/complaints/staff/complaints", "/api/registry/admin/persons",
            "/api/registry/admin/id-cards/invalidate", "/api/booking/health", "/metrics",
            "/health", "/live", "/api/booking/metrics", "/admin/kiosks", "/kiosk/activations",
            "/api/booking/bookings/x/confirm/../../operator/bookings/search", "/counter",
            "/counter/call-next", "/static/counter.js", "/board/baku-1/../../counter",
            "/board/", "/admin/counters", "/centres/baku-1/board")


def routed(ingresses, path):
    """The Services a path reaches (ingress-nginx: Exact is `=`, Prefix a prefix, a
    regular expression `~*` anchored at the start)."""
    found = []
    for ingress in ingresses:
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                pattern, kind = entry["path"], entry["pathType"]
                if (kind == "Exact" and path == pattern
                        or kind == "Prefix" and path.startswith(pattern)
                        or kind == "ImplementationSpecific" and re.match(pattern, path, re.I)):
                    found.append(entry["backend"]["service"]["name"])
    return found


def test_the_public_ingress_publishes_the_pages_and_only_the_public_api_routes(rendered):
    public = [i for i in of_kind(rendered["production"], "Ingress")
              if i["spec"]["ingressClassName"] == "nginx"]
    # ingress-nginx makes every path of a host a regular expression once one Ingress
    # asks for it, and then an Exact path matches as a prefix (ingress-nginx#10618):
    # so every public path is an explicit expression, anchored at its end.
    for ingress in public:
        assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/use-regex"] == "true"
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                assert entry["pathType"] == "ImplementationSpecific", entry
                assert entry["path"].endswith("$"), entry
    for path in PUBLIC:
        assert len(routed(public, path)) == 1, path
    for path in INTERNAL:
        assert routed(public, path) == [], path
    backends = {b for i in public for r in i["spec"]["rules"] for p in r["http"]["paths"]
                for b in [p["backend"]["service"]["name"]]}
    assert backends == {"web", "booking", "registry", "complaints"}
    assert all(i["spec"]["tls"] for i in public)


def test_the_nginx_front_publishes_the_same_api_routes_as_the_ingress():
    # deploy/nginx/asan.conf is the other production front: on the same examples it
    # must agree with the Ingress (checked above) on what is published.
    conf = (REPO_ROOT / "deploy" / "nginx" / "asan.conf").read_text()
    locations = re.findall(r"location (=|~) (\S+)\s+\{", conf)

    def published(path):
        return [pattern for kind, pattern in locations if pattern.startswith(("/api/", "^/api/"))
                and (kind == "=" and path == pattern or kind == "~" and re.match(pattern, path))]

    for path in PUBLIC:
        if path.startswith("/api/"):
            assert len(published(path)) == 1, path
    for path in INTERNAL:
        assert published(path) == [], path


def policies(resources):
    return {p["metadata"]["name"]: p for p in of_kind(resources, "NetworkPolicy")}


def test_network_policies_deny_by_default_and_admit_the_ingress_only_to_public_ports(rendered):
    resources = rendered["production"]
    found = policies(resources)
    deny = found["default-deny-ingress"]["spec"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"] \
        and "ingress" not in deny
    from_ingress = [p for p in found.values() for rule in p["spec"].get("ingress", [])
                    for peer in rule.get("from", [])
                    if peer.get("namespaceSelector", {}).get("matchLabels", {})
                    .get("kubernetes.io/metadata.name") == "ingress-nginx"]
    assert [p["metadata"]["name"] for p in from_ingress] == ["public-from-ingress"]
    selector = found["public-from-ingress"]["spec"]["podSelector"]["matchExpressions"]
    assert {"key": "app.kubernetes.io/name", "operator": "In",
            "values": ["web", "booking", "registry", "complaints"]} in selector
    assert found["public-from-ingress"]["spec"]["ingress"][0]["ports"] \
        == [{"port": "http", "protocol": "TCP"}]
    # RabbitMQ management (15672) only from its own nodes and its operator.
    for rule in found["rabbitmq"]["spec"]["ingress"]:
        if any(p["port"] == 15672 for p in rule["ports"]):
            for peer in rule["from"]:
                assert peer.get("podSelector", {}).get("matchLabels") \
                    == {"app.kubernetes.io/name": "asan-rabbitmq"} \
                    or peer["namespaceSelector"]["matchLabels"] \
                    == {"kubernetes.io/metadata.name": "rabbitmq-system"}
    # Prometheus reaches the metrics ports of every process.
    scrape = found["metrics-from-prometheus"]["spec"]
    assert {p["port"] for p in scrape["ingress"][0]["ports"]} == {"http", "metrics"}


# ------------------------------------------------------------- monitoring

def test_a_service_monitor_scrapes_every_service_and_relay_with_the_rules_labels(rendered):
    resources = rendered["production"]
    monitors = of_kind(resources, "ServiceMonitor")
    for service in of_kind(resources, "Service"):
        labels = service["metadata"]["labels"]
        matching = [m for m in monitors if selects(m["spec"]["selector"]["matchLabels"], labels)]
        assert len(matching) == 1, service["metadata"]["name"]
        endpoint = matching[0]["spec"]["endpoints"][0]
        assert endpoint["port"] == service["spec"]["ports"][0]["name"]
        job = "relays" if labels["app.kubernetes.io/component"] == "relay" else "services"
        assert {"targetLabel": "job", "replacement": job} in endpoint["relabelings"]
        assert {"sourceLabels": ["__meta_kubernetes_pod_label_asan_gov_az_service"],
                "targetLabel": "service"} in endpoint["relabelings"]


def test_the_prometheus_rule_has_exactly_the_groups_of_the_rules_files(rendered):
    import importlib.util

    spec = importlib.util.spec_from_file_location("prometheusrule", K8S / "prometheusrule.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    rule = named(rendered["production"], "PrometheusRule", "asan")
    assert rule["spec"]["groups"] == generator.rule_groups(), \
        "deploy/prometheus/rules changed: run .venv/bin/python deploy/k8s/prometheusrule.py"
    assert [g["name"] for g in rule["spec"]["groups"]] == ["asan-recording", "asan-alerts"]


# ---------------------------------------------------------------- secrets

def secrets_provided(resources):
    """Secret name -> its keys: Secrets in the render, ExternalSecrets' targets, and the
    RabbitMQ operator's default-user Secret of each RabbitmqCluster."""
    provided = {s["metadata"]["name"]: set(s.get("stringData", {})) | set(s.get("data", {}))
                for s in of_kind(resources, "Secret")}
    for external in of_kind(resources, "ExternalSecret"):
        provided[external["spec"]["target"]["name"]] = {d["secretKey"]
                                                        for d in external["spec"]["data"]}
    for cluster in of_kind(resources, "RabbitmqCluster"):
        provided[f"{cluster['metadata']['name']}-default-user"] = {"username", "password"}
    return provided


@pytest.mark.parametrize("overlay", ["dev", "production"])
def test_every_secret_a_pod_or_the_database_needs_is_provided(rendered, overlay):
    resources = rendered[overlay]
    provided = secrets_provided(resources)
    for name, template in pod_templates(resources):
        for container in containers(template):
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in provided, (name, source)
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in provided.get(ref["name"], set()), (name, ref)
        for volume in template["spec"].get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in provided, (name, volume)
    for role in named(resources, "Cluster", "asan-pg")["spec"]["managed"]["roles"]:
        assert provided[role["passwordSecret"]["name"]] >= {"username", "password"}, role


def test_production_takes_every_secret_setting_of_every_service_from_a_secret(rendered):
    resources = rendered["production"]
    provided = secrets_provided(resources)
    config_map = named(resources, "ConfigMap", "asan-config")["data"]
    for service in SERVICES + ("web",):
        text = service_config_path(service).read_text()
        settings = {v for v in re.findall(r"\$\{(\w+):", text)
                    if SECRET_SETTING.search(v) and v not in SECRET_MOUNTS}
        template = named(resources, "Deployment", k8s_name(service))["spec"]["template"]
        container = template["spec"]["containers"][0]
        from_secrets = set()
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                from_secrets |= provided[source["secretRef"]["name"]]
        from_secrets |= {v["name"] for v in container.get("env", []) if "valueFrom" in v}
        for setting in settings:
            assert setting not in config_map, f"{setting} is in the ConfigMap"
            assert setting in from_secrets, \
                f"{service}: {setting} would fall back to its dev default"


def test_production_ships_no_development_secret(rendered):
    resources = rendered["production"]
    assert of_kind(resources, "Secret") == [], "production Secrets come from the secret store"
    text = json.dumps(resources)
    for marker in DEV_MARKERS:
        assert marker not in text, marker
    # The hashes of the development tokens, as services/*/config.yaml default to them.
    dev_hashes = set()
    for service in SERVICES + ("web",):
        dev_hashes |= set(re.findall(r"_SHA256:([0-9a-f]{64})\}",
                                     service_config_path(service).read_text()))
    assert len(dev_hashes) >= 5
    for digest in dev_hashes:
        assert digest not in text


def test_the_dev_secrets_are_the_local_defaults_and_marked_as_such(rendered):
    # So that the production check above has something to catch: the dev overlay does
    # carry the markers (a test of the test).
    text = json.dumps(of_kind(rendered["dev"], "Secret"))
    assert "dev-only" in text and "web-frontend-dev-token" in text


# ----------------------------------------------------------------- data

def test_postgresql_has_three_instances_and_one_database_and_role_per_service(rendered):
    resources = rendered["production"]
    cluster = named(resources, "Cluster", "asan-pg")["spec"]
    assert cluster["instances"] == 3
    assert cluster["imageName"].rsplit(":", 1)[1].startswith("15.")
    roles = {r["name"]: r for r in cluster["managed"]["roles"]}
    databases = {d["spec"]["name"]: d["spec"] for d in of_kind(resources, "Database")}
    config_map = named(resources, "ConfigMap", "asan-config")["data"]
    for service in SERVICES:
        database = f"asan_{service}"
        assert databases[database]["owner"] == database
        assert databases[database]["cluster"] == {"name": "asan-pg"}
        assert roles[database]["login"] is True
        url = config_map[f"{service.upper()}_DATABASE_URL"]
        assert re.fullmatch(
            rf"postgresql://{database}@asan-pg-rw:5432/{database}\?sslmode=require", url)
    assert len(databases) == len(SERVICES)


def test_every_service_and_relay_finds_its_event_signing_keys(rendered):
    """Issue 14 §4: the relay signs with, and the service serves the JWKS of, the key set
    its config names (ASAN_KEYS_DIR/<service>.json), mounted from asan-signing-<service>."""
    for overlay in ("dev", "production"):
        resources = rendered[overlay]
        keys_dir = named(resources, "ConfigMap", "asan-config")["data"]["ASAN_KEYS_DIR"]
        provided = secrets_provided(resources)
        for service in SERVICES:
            for deployment in (service.replace("_", "-"), service.replace("_", "-") + "-relay"):
                template = named(resources, "Deployment", deployment)["spec"]["template"]
                volumes = {v["name"]: v for v in template["spec"]["volumes"]}
                [container] = [c for c in template["spec"]["containers"]]
                [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == keys_dir]
                secret = volumes[mount["name"]]["secret"]["secretName"]
                assert f"{service}.json" in provided[secret], (overlay, deployment)
