"""The text of a result: the summary, then the facts a reader needs, without repeating what the summary says."""

from __future__ import annotations

from incident_response.server.render import CELL, render

PODS = {
    "summary": "3 pods in shop; 1 with problems (1 CrashLoopBackOff)",
    "namespace": "shop",
    "selector": None,
    "pods": [
        {"name": "web-1", "ready": "1/1", "status": "Running", "restarts": 0, "age": "3d", "ip": "10.0.0.1"},
        {"name": "web-2", "ready": "0/1", "status": "CrashLoopBackOff", "restarts": 6, "age": "7m", "ip": "10.0.0.2"},
    ],
    "truncation": {"shown": 2, "total": 2, "truncated": False},
}


def test_a_list_is_a_table_of_the_columns_a_reader_needs_and_nothing_said_twice() -> None:
    text = render("PodList", PODS)
    assert text.splitlines() == [
        PODS["summary"],
        "pods:",
        "name | ready | status | restarts | age",
        "web-1 | 1/1 | Running | 0 | 3d",
        "web-2 | 0/1 | CrashLoopBackOff | 6 | 7m",
    ]  # no ip (programs read it), no namespace (the summary says it), no truncation (nothing was cut)


def test_without_a_hint_every_field_with_a_value_shows_and_long_cells_are_cut() -> None:
    text = render(
        "Unhinted", {"summary": "one", "note": "x" * 200, "rows": [{"a": "y" * 200, "b": None}], "off": False}
    )
    lines = text.splitlines()
    assert lines[:3] == ["one", "note: " + "x" * 200, "rows:"]
    assert lines[3] == "a" and lines[4] == "y" * (CELL - 2) + " …"
    words = render("Unhinted", {"summary": "", "rows": [{"a": "word " * 40}]}).splitlines()
    assert words[2].endswith("word …") and len(words[2]) <= CELL
    assert "off" not in text


def test_a_plan_shows_command_undo_and_diff_and_a_blocked_one_says_why() -> None:
    plan = {
        "summary": "Roll deployment web back to revision 2.",
        "status": "pending",
        "token": "irm_abc",
        "command": "kubectl rollout undo deployment/web -n shop --to-revision=2",
        "undo_command": "kubectl rollout undo deployment/web -n shop --to-revision=3",
        "diff": [
            {"path": "spec.template.spec.containers[web].image", "before": "registry.example.com/shop/web:2.5.0",
             "after": "registry.example.com/shop/web:2.4.0"},
            {"path": "networkpolicy/x", "before": None, "after": {"kind": "NetworkPolicy"}},
        ],
        "warnings": [{"check": "", "detail": "",
                      "brief": "a warning longer than a cell: " + "it is said whole, every word of it " * 3}],
        "fingerprint": "f" * 64,
        "next_step": "Show the command, diff and undo to the human...",
    }  # fmt: skip
    text = render("Proposal", plan)
    assert "token: irm_abc" in text and "undo: kubectl rollout undo" in text
    assert "containers[web].image: registry.example.com/shop/web:2.5.0 -> …4.0" in text  # spec.template.spec. said
    assert "networkpolicy/x: created" in text
    named = render("Proposal", {**plan, "summary": "Deny all ingress with NetworkPolicy x."})
    assert "networkpolicy/x" not in named  # the summary names what the plan creates
    assert "status" not in text and "fingerprint" not in text and "next:" not in text
    assert "warning: a warning longer than a cell: " + "it is said whole, every word of it " * 2 in text
    blocked = render("Proposal", {**plan, "status": "blocked", "token": None, "next_step": "Safe mode: advice only."})
    assert "blocked: Safe mode: advice only." in blocked and "status" not in blocked and "next:" not in blocked


PATCH = 'kubectl patch deployment payments -n shop --context sim -p \'{{"spec":{{"memory":"{}"}}}}\''


def test_a_plan_says_nothing_twice_an_undo_that_changes_one_word_says_which_and_a_stated_change_is_not_repeated() -> (
    None
):
    plan = {
        "summary": "Set the memory limit of container payments in deployment payments (shop): 256Mi -> 512Mi.",
        "status": "pending",
        "token": "irm_abc",
        "command": PATCH.format("512Mi"),
        "undo_command": PATCH.format("256Mi"),
        "diff": [
            {"path": "containers.payments.memory", "before": "256Mi", "after": "512Mi"},
            {"path": "spec.template.spec.containers[web].image", "before": "r.example/web:2.5.0",
             "after": "r.example/web:2.4.0"},
        ],
        "warnings": [{"check": "long", "detail": "its evidence, which the text never says",
                      "brief": "a warning longer than a cell: " + "it is said whole, every word of it " * 3}],
    }  # fmt: skip
    lines = render("Proposal", plan).splitlines()
    assert "undo: the command with 512Mi -> 256Mi" in lines
    assert "diff:" in lines and "containers[web].image: r.example/web:2.5.0 -> …4.0" in lines
    assert not [line for line in lines if "containers.payments.memory" in line]  # the summary says 256Mi -> 512Mi
    # One warning, one line: its check and brief (its detail is the structured content's).
    assert lines[-1] == "warning: long: " + plan["warnings"][0]["brief"]
    # A word the command has twice, or two words changed: the undo whole.
    twice = {**plan, "undo_command": PATCH.format("256Mi") + " # 512Mi"}
    assert f"undo: {twice['undo_command']}" in render("Proposal", twice)
    steps = {
        **plan,
        "command": "kubectl rollout undo statefulset/sessions -n shop --to-revision=1 --context sim && "
        "kubectl delete pod sessions-2 -n shop --context sim",
        "undo_command": "kubectl rollout undo statefulset/sessions -n shop --to-revision=2 --context sim",
    }
    assert "undo: step 1 of the command with --to-revision=1 -> 2" in render("Proposal", steps)
    helm = "helm rollback cart {} -n shop --kubeconfig /tmp/tmp2ab/kubeconfig --kube-context prod-eu"
    short = {**plan, "command": helm.format(2), "undo_command": helm.format(3)}
    assert "undo: the command with cart 2 -> cart 3" in render("Proposal", short)  # which 2: the word before says
    # A JSON-patch undo that tests the new value and puts the old one back: two words swapped, every occurrence.
    switch = 'kubectl patch ingress shop -n shop --type=json -p \'[{{"op":"test","value":"{}"}},'
    switch += '{{"op":"replace","value":"{}"}}]\' # app {}'
    back = {
        **plan,
        "command": switch.format("api-stable", "api", "web"),
        "undo_command": switch.format("api", "api-stable", "web"),
    }
    assert "undo: the command with api-stable and api swapped" in render("Proposal", back).splitlines()
    partly = {
        **back,
        "command": switch.format("api-stable", "api", "api"),
        "undo_command": switch.format("api", "api-stable", "api"),
    }
    assert f"undo: {partly['undo_command']}" in render("Proposal", partly)  # one `api` kept: not a swap
    same = {**plan, "diff": [{"path": "spec.replicas", "before": 1, "after": 2}] * 2 + plan["diff"][1:]}
    assert render("Proposal", same).count("spec.replicas: 1 -> 2") == 2  # no object name: nothing to group


def test_what_every_row_of_a_table_shares_is_said_once_above_it() -> None:
    probe = 'Readiness probe failed: Get "http://10.244.{}:8080/healthz": context deadline exceeded (Client.Timeout)'
    rows = [
        {"type": "Warning", "reason": "Unhealthy", "object": f"pod/web-{i}", "count": 4, "last_seen": "1s",
         "message": probe.format(ip)}
        for i, ip in enumerate(("0.4", "2.3", "1.4"))
    ]  # fmt: skip
    lines = render("EventList", {"summary": "3 event groups", "events": rows}).splitlines()
    assert lines[1:] == [
        "events:",
        'every row: type Warning, reason Unhealthy, count 4, last_seen 1s, message Readiness probe failed: Get "http://10.244.…'
        ':8080/healthz": context deadline exceeded (Client.Timeout)',
        "object | message …",
        "pod/web-0 | 0.4",
        "pod/web-1 | 2.3",
        "pod/web-2 | 1.4",
    ]  # the whole message is said, where a cell would have cut it at 80 characters
    # Names are copied into calls: a shared start of names is not cut off them, and two rows stay a plain table.
    pods = [{"name": f"checkout-service-7d9f8b6c5d-{s}", "status": "Running"} for s in ("abcde", "fghij", "klmno")]
    assert render("PodList", {"summary": "", "pods": pods}).splitlines()[:3] == [
        "pods:",
        "every row: status Running",
        "name",
    ]
    assert render("PodList", {"summary": "", "pods": pods[:2]}).splitlines()[1] == "name | status"
    alike = render("PodList", {"summary": "", "pods": [pods[0]] * 3}).splitlines()
    assert alike[1:] == ["name | status", "checkout-service-7d9f8b6c5d-abcde | Running (x3)"]


def test_an_events_message_is_said_whole() -> None:
    message = "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption "
    message += "victims found for incoming pod."
    row = {"type": "Warning", "reason": "FailedScheduling", "object": "pod/web-1", "count": 3, "message": message}
    assert render("EventList", {"summary": "1 event group", "events": [row]}).splitlines()[-1].endswith(message)
