"""A Job the job controller failed is its own problem, named by the controller's Warning (not 'no clear cause')."""

from __future__ import annotations

from incident_response.tools.assess.pod_signals import job_failures
from incident_response.tools.playbook.decision import Facts
from incident_response.tools.playbook.rules import decide


def test_the_job_controllers_warning_names_the_failure() -> None:
    events = [
        {
            "involvedObject": {"kind": "Job", "name": "mig"},
            "reason": "BackoffLimitExceeded",
            "message": "Job has reached the specified backoff limit",
        },
        {"involvedObject": {"kind": "Pod", "name": "mig-x"}, "reason": "BackoffLimitExceeded", "message": "forged"},
    ]
    failures = job_failures(events)
    assert failures == {"mig": "BackoffLimitExceeded: Job has reached the specified backoff limit"}
    decision = decide(Facts(namespace="shop", failing={"mig": ["mig-x (Error)"]}, job_failures=failures))
    assert decision.primary_action == "INVESTIGATE" and decision.rule == "the Job failed", decision
    assert decision.reason.startswith("Job mig failed (BackoffLimitExceeded: Job has reached the specified backoff")
    assert "A failed Job is not retried" in decision.reason and "schema part way" in decision.reason
