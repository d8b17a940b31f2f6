"""A Job the job controller failed is its own problem, named by the controller's Warning (not 'no clear cause')."""

from __future__ import annotations

from incident_response.tools.assess.observation import read_job
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
    failed = {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}
    failed["message"] = "Job has reached the specified backoff limit"
    failures = job_failures(events, lambda name: {"status": {"conditions": [failed]}} if name == "mig" else None)
    assert failures == {"mig": "BackoffLimitExceeded: Job has reached the specified backoff limit"}
    decision = decide(Facts(namespace="shop", failing={"mig": ["mig-x (Error)"]}, job_failures=failures))
    assert decision.primary_action == "INVESTIGATE" and decision.rule == "the Job failed", decision
    assert decision.reason.startswith("Job mig failed (BackoffLimitExceeded: Job has reached the specified backoff")
    assert "A failed Job is not retried" in decision.reason and "schema part way" in decision.reason


def test_a_warning_on_a_job_whose_status_is_not_failed_names_nothing() -> None:
    """Events are anyone's to write: a Job still retrying (no Failed=True) or not found is not called failed."""
    events = [{"involvedObject": {"kind": "Job", "name": "mig"}, "reason": "BackoffLimitExceeded", "message": "x"}]
    retrying = {"status": {"active": 1, "failed": 1, "conditions": [{"type": "Failed", "status": "False"}]}}
    assert job_failures(events, lambda name: retrying) == {}
    assert job_failures(events, lambda name: None) == {}


def test_a_job_name_no_job_can_have_is_not_read() -> None:
    """The name comes from an event: one that is no object name is not put in a field selector (a 400 would end
    the assessment); it names no failed Job."""

    class NoReads:
        def list(self, *args: object, **kwargs: object) -> object:
            raise AssertionError("read")

    assert read_job(NoReads(), "shop", "mig,metadata.name!=x", []) is None  # type: ignore[arg-type]
