"""The Job controller (batch/v1, NonIndexed): pods until `completions` succeed, a new pod after each failure on the
pod failure back-off (10 s doubling to 6 minutes), and the Job failed once more pods failed than `backoffLimit`.

A Job's pods are made from its template with the labels the API server gives a Job (batch.kubernetes.io/job-name,
batch.kubernetes.io/controller-uid and their legacy twins) and pass the LimitRanger and the ResourceQuota as a
ReplicaSet's do (a refusal: Warning FailedCreate). The status is what `kubectl get/describe job` read: active, ready,
succeeded, failed, startTime, completionTime, and the conditions of 1.31+: SuccessCriteriaMet then Complete ('Job
completed'), or FailureTarget then Failed with reason BackoffLimitExceeded ('Job has reached the specified backoff
limit') or DeadlineExceeded ('Job was active longer than specified deadline'); a failed Job's active pods are deleted.
The API server's defaults (backoffLimit 6, completions and parallelism 1, the selector on the controller-uid) are
filled on the controller's first sight of the Job. Not modelled: Indexed jobs, podFailurePolicy, successPolicy,
suspend, ttlSecondsAfterFinished, CronJobs (no controller creates their Jobs).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_response.sim import errors, pod_admission, quota
from incident_response.sim.controllers.common import Obj, meta, terminating, uid_of
from incident_response.sim.controllers.podfactory import pod_from_template
from incident_response.sim.resources import BY_KEY, PODS
from incident_response.sim.store import timestamp

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

JOBS = BY_KEY["jobs.batch"]
COMPONENT = "job-controller"
BACKOFF_BASE, BACKOFF_CAP = 10.0, 360.0
UID_LABEL, NAME_LABEL = "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name"
BACKOFF_LIMIT = "Job has reached the specified backoff limit"
DEADLINE = "Job was active longer than specified deadline"


def finished(job: Obj) -> bool:
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in (job.get("status") or {}).get("conditions") or []
    )


class JobController:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self._next_create: dict[str, float] = {}  # job uid -> cluster time its next pod may be created

    def sync(self, pods: list[Obj]) -> bool:
        jobs = [j for j in self.store.items(JOBS) if not finished(j) and not terminating(j)]
        if not jobs:
            return False
        owned: dict[str, list[Obj]] = {}
        for pod in pods:
            for ref in meta(pod).get("ownerReferences") or ():
                if ref.get("kind") == "Job" and ref.get("controller"):
                    owned.setdefault(str(ref.get("uid")), []).append(pod)
        busy = False
        for job in jobs:
            busy = self._sync_one(self._defaulted(job), owned.get(uid_of(job), [])) or busy
        return busy

    def _defaulted(self, job: Obj) -> Obj:
        """The API server's Job defaults and generated selector (its uid), written once."""
        spec = job.get("spec") or {}
        if spec.get("selector") and "backoffLimit" in spec:
            return job
        uid, name = uid_of(job), str(meta(job).get("name"))

        def fill(obj: Obj) -> None:
            s = obj.setdefault("spec", {})
            for key, value in (("backoffLimit", 6), ("completions", 1), ("parallelism", 1), ("suspend", False)):
                s.setdefault(key, value)
            s.setdefault("completionMode", "NonIndexed")
            s.setdefault("selector", {"matchLabels": {UID_LABEL: uid}})
            labels = s.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
            labels.update({UID_LABEL: uid, NAME_LABEL: name, "controller-uid": uid, "job-name": name})
            s["template"].setdefault("spec", {}).setdefault("restartPolicy", "Never")

        try:
            return self.store.mutate(JOBS, meta(job).get("namespace"), name, fill)
        except errors.ApiError:
            return job

    def _sync_one(self, job: Obj, pods: list[Obj]) -> bool:
        spec = job.get("spec") or {}
        now = self.cluster.now()
        uid = uid_of(job)
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Failed")
        active = [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        live = [p for p in active if not terminating(p)]
        old = job.get("status") or {}
        started = str(old.get("startTime") or timestamp(self.store.clock()))
        deadline = spec.get("activeDeadlineSeconds")
        ran = self.cluster.wall_seconds() - (self.cluster.parse_time(started) or self.cluster.wall_seconds())
        ending: tuple[str, str, str] | None = None  # (condition, reason, message)
        if succeeded >= int(spec.get("completions") or 1):
            ending = ("Complete", "CompletionsReached", "Reached expected number of succeeded pods")
        elif failed > int(spec.get("backoffLimit", 6)):
            ending = ("Failed", "BackoffLimitExceeded", BACKOFF_LIMIT)
        elif isinstance(deadline, int) and ran >= deadline:
            ending = ("Failed", "DeadlineExceeded", DEADLINE)
        created = False
        if ending is None:
            want = min(int(spec.get("parallelism") or 1), int(spec.get("completions") or 1) - succeeded)
            if len(live) < want and now >= self._next_create.get(uid, 0.0):
                created = self._create(job)
                if failed:
                    wait = min(BACKOFF_BASE * 2 ** (failed - 1), BACKOFF_CAP)
                    self._next_create[uid] = now + wait
        elif ending[0] == "Failed":
            for pod in live:
                self._delete(pod)
        status = self._status(job, old, started, len(live), succeeded, failed, ending, pods)
        if status != old:
            self._write(job, status)
            if ending is not None:
                kind, reason, message = ending
                if kind == "Complete":
                    self._event(job, "Normal", "Completed", "Job completed")
                else:
                    self._event(job, "Warning", reason, message)
                self._next_create.pop(uid, None)
            return True
        return created

    def _status(
        self,
        job: Obj,
        old: Obj,
        started: str,
        active: int,
        succeeded: int,
        failed: int,
        ending: tuple[str, str, str] | None,
        pods: list[Obj],
    ) -> Obj:
        ready = sum(
            1
            for p in pods
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (p.get("status") or {}).get("conditions") or []
            )
        )
        status: Obj = {"startTime": started, "active": active, "ready": ready, "terminating": 0}
        if succeeded:
            status["succeeded"] = succeeded
        if failed:
            status["failed"] = failed
        status["uncountedTerminatedPods"] = {}
        conditions = list(old.get("conditions") or [])
        if ending is not None:
            kind, reason, message = ending
            now = timestamp(self.store.clock())
            first = "SuccessCriteriaMet" if kind == "Complete" else "FailureTarget"
            conditions += [
                {
                    "type": cond,
                    "status": "True",
                    "lastProbeTime": now,
                    "lastTransitionTime": now,
                    "reason": reason,
                    "message": message,
                }
                for cond in (first, kind)
            ]
            status["active"] = 0
            if kind == "Complete":
                status["completionTime"] = now
        if conditions:
            status["conditions"] = conditions
        return status

    def _create(self, job: Obj) -> bool:
        name = str(meta(job).get("name"))
        body = pod_from_template(job, (job.get("spec") or {}).get("template") or {})
        body["metadata"]["generateName"] = f"{name}-"
        try:
            pod_admission.admit_pod(self.store, body)
            quota.admit(self.store, PODS, body)
            pod = self.store.create(PODS, body)
        except errors.ApiError as err:
            self._event(job, "Warning", "FailedCreate", f"Error creating: {err.message}")
            return False
        self._event(job, "Normal", "SuccessfulCreate", f"Created pod: {meta(pod).get('name')}")
        return True

    def _delete(self, pod: Obj) -> None:
        namespace, name = meta(pod).get("namespace"), str(meta(pod).get("name"))
        try:
            if (pod.get("spec") or {}).get("nodeName"):
                self.store.delete(PODS, namespace, name, graceful=True)
            else:
                self.store.remove(PODS, namespace, name)
        except errors.ApiError:
            return

    def _write(self, job: Obj, status: Obj) -> None:
        def apply(obj: Obj) -> None:
            obj["status"] = status

        try:
            self.store.mutate(JOBS, meta(job).get("namespace"), str(meta(job).get("name")), apply)
        except errors.ApiError:
            return

    def _event(self, job: Obj, type_: str, reason: str, message: str) -> None:
        self.cluster.recorder.record(job, type_, reason, message, component=COMPONENT)
