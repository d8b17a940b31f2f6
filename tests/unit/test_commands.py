import shlex

from incident_response.tools.core import commands


def test_kubectl_command_round_trips_through_shlex() -> None:
    line = commands.kubectl(
        ["rollout", "undo", "deployment/web"], namespace="shop", context="prod; rm -rf /", flags=["--to-revision=2"]
    )
    assert shlex.split(line) == [
        "kubectl",
        "rollout",
        "undo",
        "deployment/web",
        "-n",
        "shop",
        "--to-revision=2",
        "--context",
        "prod; rm -rf /",
    ]
    assert "'prod; rm -rf /'" in line


def test_playbook_order_and_plain_values_stay_unquoted() -> None:
    line = commands.kubectl(["rollout", "undo", "deployment/web"], namespace="shop", context="sim")
    assert line == "kubectl rollout undo deployment/web -n shop --context sim"


def test_cluster_scoped_and_no_context() -> None:
    assert commands.kubectl(["cordon", "node-1"]) == "kubectl cordon node-1"


def test_json_patch_argument_is_one_word() -> None:
    patch = '[{"op":"replace","path":"/spec/x","value":"it\'s"}]'
    line = commands.kubectl(["patch", "ingress", "web"], namespace="shop", flags=["--type=json", "-p", patch])
    assert shlex.split(line)[-1] == patch


def test_helm_uses_kube_context() -> None:
    assert commands.helm(["rollback", "web", "3"], namespace="shop", kube_context="c") == (
        "helm rollback web 3 -n shop --kube-context c"
    )


def test_with_connection_inserts_flags_after_the_binary() -> None:
    argv = commands.with_connection("kubectl get pods -n shop", kubeconfig="/k c", cache_dir="/tmp/x")
    assert argv == ["kubectl", "--kubeconfig", "/k c", "--cache-dir", "/tmp/x", "get", "pods", "-n", "shop"]


def test_join_steps() -> None:
    assert commands.join_steps(["a b", "c"]) == "a b && c"
