"""The simulated kubelet: runs bound pods according to their behaviour and writes their status.

Runtime state lives in side tables keyed by pod uid (see runtime.py); the pod's status is rebuilt and written
only when its signature (phase, readiness, container states) changes, so settled pods cost a few lookups.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from incident_response.sim import behaviors, errors, registries
from incident_response.sim.controllers.backoff import BackOff, go_duration
from incident_response.sim.controllers.common import Obj, terminating
from incident_response.sim.controllers.env_refs import CONFIG_ERROR, config_error
from incident_response.sim.controllers.history import record_past
from incident_response.sim.controllers.mounts import unmounted
from incident_response.sim.controllers.podstatus import build_status
from incident_response.sim.controllers.runtime import (
    NEVER,
    ContainerRuntime,
    PodRuntime,
    Probe,
    Run,
    container_runtimes,
    digest_name,
    image_size,
)
from incident_response.sim.controllers.scheduler import pod_requests
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.controllers.traffic import Traffic
from incident_response.sim.resources import PODS, SECRETS
from incident_response.sim.store import timestamp

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

COMPONENT = "kubelet"


def leak_base(behavior: behaviors.PodBehavior, limit: int | None) -> int:
    """Memory a container uses when it starts: memory-bytes, else 40% of its limit, else the default."""
    if behavior.memory_bytes is not None:
        return behavior.memory_bytes
    return int(limit * 0.4) if limit is not None else behaviors.DEFAULT_MEMORY_BYTES


def leak_seconds(behavior: behaviors.PodBehavior, limit: int | None) -> float | None:
    """Seconds a leaking container runs before its use reaches its limit (None: no leak, or no limit to reach)."""
    growth = behavior.memory_growth
    if not growth or limit is None:
        return None
    return max(limit - leak_base(behavior, limit), 0) / growth * 3600.0


ATTACH_TIMEOUT = 120.0  # seconds the kubelet's volume manager waits for attach/mount before reporting it
NOT_READY_PROBE = "Readiness probe failed: HTTP probe failed with statuscode: 503"


def refused(probe: Probe, ip: str, container: str) -> str:
    """The prober's message for a port nothing in the pod listens on (the kubelet's http/tcp probers' wording)."""
    if probe.port is None:
        # Upstream prints the whole container struct after "in"; its name stands for it here.
        return f"Readiness probe errored: couldn't find port: {probe.name} in container {container}"
    dial = f"dial tcp {ip}:{probe.port}: connect: connection refused"
    if probe.path is None:
        return f"Readiness probe failed: {dial}"
    path = probe.path if probe.path.startswith("/") else "/" + probe.path
    return f'Readiness probe failed: Get "{probe.scheme}://{ip}:{probe.port}{path}": {dial}'


class Kubelet:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.timing = cluster.timing
        self.runtime: dict[str, PodRuntime] = {}
        self.backoff = BackOff(cluster.timing.backoff_base, cluster.timing.backoff_cap)
        # The images each node holds (pulled, or run by a pod it had) -> the build's digest name: IfNotPresent starts
        # them without a pull, so a node keeps running the build it holds after the tag is pushed again.
        self.present: dict[str, dict[str, str]] = {}

    # ----- the tick -----

    def sync(self, snap: Snapshot, traffic: Traffic, node_up: dict[str, bool]) -> bool:
        now = self.cluster.now()
        busy = False
        sweep = self.cluster.ticks % 20 == 0
        seen: set[str] = set()
        for pod in snap.pods:
            node = (pod.get("spec") or {}).get("nodeName")
            if not node:
                continue
            m = pod["metadata"]
            uid = m["uid"]
            if sweep:
                seen.add(uid)
            rt = self.runtime.get(uid)
            up = node_up.get(node, False)
            if rt is not None and rt.steady is pod:
                # Nothing pending and the same stored object as last tick: only traffic or the node can change it.
                owner = traffic.owner_of.get(uid)
                inputs = (up, traffic.poisoned.get(uid), traffic.share.get(owner) if owner is not None else None)
                if inputs == rt.inputs:
                    continue
            if rt is None:
                if node not in snap.nodes:
                    continue
                rt = self.admit(pod, node, now)
            if "deletionTimestamp" in m:
                # A graceful delete ends when the kubelet confirms it; a kubelet that is down never does, so a pod on
                # an unreachable node stays Terminating until it is force-deleted or its Node object goes (podgc).
                if up:
                    busy = True
                    self._terminate(pod, rt, now)
                continue
            if up and now >= rt.next_at:
                self._advance(pod, rt, now)
            starting = self._evaluate(pod, rt, now, traffic, up)
            busy = busy or starting
            signature = self._signature(rt)
            if signature != rt.written:
                pod = self._write(pod, rt, signature)
            quiet = not starting and rt.next_at == NEVER and not rt.unhealthy
            rt.steady = pod if quiet and signature == rt.written else None
            if rt.steady is not None:
                owner = traffic.owner_of.get(uid)
                rt.inputs = (up, traffic.poisoned.get(uid), traffic.share.get(owner) if owner is not None else None)
        if sweep and len(seen) != len(self.runtime):
            for uid in [u for u in self.runtime if u not in seen]:
                del self.runtime[uid]
        return busy

    # ----- lifecycle -----

    def new_runtime(self, pod: Obj, node: str, now: float) -> PodRuntime:
        m = pod["metadata"]
        cpu_request, _ = pod_requests(pod)
        containers = container_runtimes(pod)
        limits = [c.cpu_limit for c in containers]
        mem_limits = [c.memory_limit for c in containers]
        return PodRuntime(
            uid=m.get("uid", ""),
            namespace=m.get("namespace", ""),
            name=m.get("name", ""),
            node=node,
            behavior=behaviors.pod_behavior(pod, self.cluster.images),
            containers=containers,
            cpu_limit=sum(x for x in limits if x is not None) if all(x is not None for x in limits) else None,
            cpu_request=cpu_request,
            memory_limit=sum(x for x in mem_limits if x) if all(mem_limits) else None,
            restart_policy=str((pod.get("spec") or {}).get("restartPolicy") or "Always"),
            admitted=now,
        )

    def admit(self, pod: Obj, node: str, now: float) -> PodRuntime:
        """First sight of a pod bound to this node: adopt a seeded running status or start from scratch."""
        rt = self.new_runtime(pod, node, now)
        containers = rt.containers
        status = pod.get("status") or {}
        # A pod of a dated revision (rolled-out-minutes-ago) has been running since it was created.
        age = self.cluster.dated.take(rt.uid)
        if status.get("phase") == "Running" and status.get("podIP"):
            self._adopt(rt, status, now)
        elif age and rt.behavior.kind != behaviors.IMAGE_PULL_ERROR:
            rt.pod_ip = self.cluster.allocate_ip(node)
            rt.host_ip = self.cluster.node_ip(node)
            self._run_since(rt, timestamp(self.store.clock() - timedelta(seconds=age)), age)
            record_past(self.cluster, pod, rt, age, self._pod_run(rt))
            rt.written = None
        else:
            rt.pod_ip = self.cluster.allocate_ip(node)
            rt.host_ip = self.cluster.node_ip(node)
            rt.start_time = timestamp(self.store.clock())
            for c in containers:
                c.next_at = now + self.timing.pod_start
        self.runtime[rt.uid] = rt
        return rt

    def _adopt(self, rt: PodRuntime, status: Obj, now: float) -> None:
        rt.pod_ip = str(status.get("podIP"))
        rt.host_ip = str(status.get("hostIP") or self.cluster.node_ip(rt.node))
        rt.start_time = str(status.get("startTime") or timestamp(self.store.clock()))
        statuses = {c.get("name"): c for c in status.get("containerStatuses") or []}
        for c in rt.containers:
            cs = statuses.get(c.name) or {}
            running = (cs.get("state") or {}).get("running")
            if running is None:
                c.next_at = now + self.timing.pod_start
                continue
            started = str(running.get("startedAt") or rt.start_time)
            age = max(self.cluster.wall_seconds() - (self.cluster.parse_time(started) or 0.0), 0.0)
            self._start(c, rt, now - age, started, record=False)
            c.restarts = int(cs.get("restartCount") or 0)
            c.container_id = str(cs.get("containerID") or c.container_id)
            c.last_terminated = (cs.get("lastState") or {}).get("terminated")
            c.ready = bool(cs.get("ready"))
        for cond in status.get("conditions") or []:
            rt.cond_times[str(cond.get("type"))] = (str(cond.get("status")), str(cond.get("lastTransitionTime")))
        rt.ready = rt.cond_times.get("Ready", ("",))[0] == "True"
        # What the store holds already matches this state: no rewrite unless something changes.
        rt.written = self._signature(rt)

    def _crashes(self, rt: PodRuntime, c: ContainerRuntime) -> str | None:
        """How this container dies: 'Error' (crashloop), 'OOMKilled' (memory limit below need), or None."""
        kind = rt.behavior.kind
        if kind == behaviors.CRASHLOOP:
            return "Error"
        if kind == behaviors.COMPLETE:
            return "Completed"
        need = rt.behavior.memory_need
        if kind == behaviors.OOM and need is not None and c.memory_limit is not None and c.memory_limit < need:
            return "OOMKilled"
        if leak_seconds(rt.behavior, c.memory_limit) is not None:
            return "OOMKilled"  # its leak reaches the limit in the end
        return None

    def _serves(self, rt: PodRuntime, c: ContainerRuntime) -> bool:
        """A running container passes readiness unless it is about to die (a leak serves until its kill)."""
        return self._crashes(rt, c) is None or leak_seconds(rt.behavior, c.memory_limit) is not None

    def _pod_run(self, rt: PodRuntime) -> float:
        return min((self._run_seconds(rt, c) for c in rt.containers), default=self.timing.crash_after)

    def _run_seconds(self, rt: PodRuntime, c: ContainerRuntime) -> float:
        """How long a dying container runs before it dies: a leak's climb to its limit, else crash_after."""
        leak = leak_seconds(rt.behavior, c.memory_limit)
        return leak if leak is not None else self.timing.crash_after

    def _start(
        self,
        c: ContainerRuntime,
        rt: PodRuntime,
        started_mono: float,
        started_at: str,
        record: bool,
        pulled: bool = False,
    ) -> None:
        c.digest = self.present.setdefault(rt.node, {}).setdefault(c.image, self._registry_digest(c.image))
        c.state, c.reason, c.message = "running", "", ""
        c.started_mono = started_mono
        c.started_at = started_at
        c.container_id = "containerd://" + secrets.token_hex(32)
        c.ever_started = True
        c.terminated = None
        c.previous = c.run
        c.run = Run(started=self.cluster.parse_time(started_at) or self.cluster.wall_seconds())
        c.next_at = started_mono + self._run_seconds(rt, c) if self._crashes(rt, c) else NEVER
        if record and not pulled:
            self._event(rt, c, "Normal", "Pulled", f'Container image "{c.image}" already present on machine')
        if record:
            self._event(rt, c, "Normal", "Created", f"Created container: {c.name}")
            self._event(rt, c, "Normal", "Started", f"Started container {c.name}")

    def _pull_backoff(self, count: int) -> float:
        return float(min(self.timing.backoff_base * 2 ** min(max(count - 1, 0), 32), self.timing.backoff_cap))

    @staticmethod
    def _backoff_message(c: ContainerRuntime, rt: PodRuntime) -> str:
        return (
            f"back-off {go_duration(c.backoff)} restarting failed container={c.name} "
            f"pod={rt.name}_{rt.namespace}({rt.uid})"
        )

    def _restart(self, c: ContainerRuntime, rt: PodRuntime, now: float, wall: str) -> None:
        """Start an exited container again; its back-off moves on (doubles, or starts over after a long run)."""
        c.backoff = self.backoff.next(c.backoff, c.backoff_updated, c.exited)
        c.backoff_updated = now
        if c.terminated is not None:
            c.last_terminated = c.terminated
        pod = self.store.peek(PODS, rt.namespace, rt.name)
        pulled = c.pull_policy == "Always" and pod is not None
        if pulled and pod is not None and not self._pulled(pod, rt, c, now):
            return  # Always pulls again before a restart: a registry that now refuses leaves it in ErrImagePull
        if pod is not None:
            self._create(pod, c, rt, now, wall, pulled=pulled)
        else:
            c.restarts += 1
            self._start(c, rt, now, wall, record=True, pulled=pulled)

    def _create(self, pod: Obj, c: ContainerRuntime, rt: PodRuntime, now: float, wall: str, pulled: bool) -> None:
        """Start the container unless its environment names a Secret/ConfigMap (or key) that does not exist: then
        CreateContainerConfigError, reported and tried again on the kubelet's next sync of the pod."""
        containers = (pod.get("spec") or {}).get("containers") or []
        spec: Obj = next((x for x in containers if x.get("name") == c.name), {})
        problem = config_error(pod, spec, self.store.peek)
        if problem is None:
            # restartCount counts containers created again: not a pull refused or an environment it could not build
            c.restarts += 1 if c.ever_started else 0
            self._start(c, rt, now, wall, record=True, pulled=pulled)
            return
        if not pulled:
            self._event(rt, c, "Normal", "Pulled", f'Container image "{c.image}" already present on machine')
        self._event(rt, c, "Warning", "Failed", f"Error: {problem}")
        c.state, c.reason, c.message = "waiting", CONFIG_ERROR, problem
        c.terminated = None
        c.next_at = now + self.timing.schedule_retry

    def _advance(self, pod: Obj, rt: PodRuntime, now: float) -> None:
        wall = timestamp(self.store.clock())
        creating = [
            c for c in rt.containers if now >= c.next_at and c.state == "waiting" and c.reason == "ContainerCreating"
        ]
        if creating and (failed := unmounted(pod, self.store)) is not None:
            # No container starts before every volume is set up: tried again on the next retry, reported each time.
            self.cluster.recorder.record(pod, "Warning", "FailedMount", failed, component=COMPONENT, host=rt.node)
            for c in creating:
                c.next_at = now + self.timing.schedule_retry
            return
        if creating and (waiting := self.cluster.attachments.blocked.get(rt.uid)) is not None:
            # A volume attached to another node: the attach/detach controller reports it; the kubelet gives up
            # waiting every two minutes and says so (its volume manager's timeout).
            if now - rt.admitted >= ATTACH_TIMEOUT * (rt.attach_timeouts + 1):
                rt.attach_timeouts += 1
                name = waiting[0]
                message = (
                    f"Unable to attach or mount volumes: unmounted volumes=[{name}], unattached volumes=[{name}]: "
                    "timed out waiting for the condition"
                )
                self.cluster.recorder.record(pod, "Warning", "FailedMount", message, component=COMPONENT, host=rt.node)
            for c in creating:
                c.next_at = now + self.timing.schedule_retry
            return
        for c in rt.containers:
            if now < c.next_at:
                continue
            if c.state == "waiting" and c.reason == "CrashLoopBackOff":
                self._restart(c, rt, now, wall)
            elif c.state == "waiting" and c.reason in ("ContainerCreating", "ImagePullBackOff", CONFIG_ERROR):
                if rt.behavior.kind == behaviors.IMAGE_PULL_ERROR:
                    self._pull_failed(rt, c, now)
                elif not self._needs_pull(rt, c):
                    self._create(pod, c, rt, now, wall, pulled=False)
                elif self._pulled(pod, rt, c, now):
                    self._create(pod, c, rt, now, wall, pulled=True)
            elif c.state == "waiting" and c.reason == "ErrImagePull":
                c.reason = "ImagePullBackOff"
                c.message = f'Back-off pulling image "{c.image}"'
                self._event(rt, c, "Normal", "BackOff", f'Back-off pulling image "{c.image}"')
                self._event(rt, c, "Warning", "Failed", "Error: ImagePullBackOff")
                c.next_at = now + self._pull_backoff(c.pull_failures)
            elif c.state == "running":
                reason = self._crashes(rt, c) or "Error"
                code = {"OOMKilled": 137, "Completed": 0}.get(reason, 1)
                c.state = "terminated"
                c.terminated = {
                    "exitCode": code,
                    "reason": reason,
                    "startedAt": c.started_at,
                    "finishedAt": wall,
                    "containerID": c.container_id,
                }
                if c.run is not None:
                    c.run.ended, c.run.reason, c.run.exit_code = self.cluster.wall_seconds(), reason, code
                if reason == "OOMKilled":
                    self._event(
                        rt,
                        c,
                        "Warning",
                        "OOMKilling",
                        f"Memory cgroup out of memory: Killed process 1 ({c.name}) total-vm:1048576kB, "
                        f"anon-rss:{(c.memory_limit or 0) // 1024}kB, file-rss:0kB, shmem-rss:0kB",
                    )
                c.exited = now
                c.next_at = now  # the kubelet notices the exit on its next sync
            elif c.state == "terminated":
                code = (c.terminated or {}).get("exitCode", 1)
                if rt.restart_policy == "Never" or (rt.restart_policy == "OnFailure" and code == 0):
                    c.next_at = NEVER  # not restarted: the pod ends Succeeded or Failed once all have exited
                    continue
                if not self.backoff.waiting(c.backoff, c.backoff_updated, c.exited, now):
                    self._restart(c, rt, now, wall)  # the first exit (or one after a long run): at once
                    continue
                c.last_terminated = c.terminated
                c.terminated = None
                c.state, c.reason = "waiting", "CrashLoopBackOff"
                c.message = self._backoff_message(c, rt)
                self._event(
                    rt,
                    c,
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {c.name} in pod {rt.name}_{rt.namespace}({rt.uid})",
                )
                c.next_at = c.exited + c.backoff

    def _registry_digest(self, image: str) -> str:
        """The digest name the registry serves for this reference now (its latest push)."""
        return digest_name(image, self.cluster.builds.get(image, 0))

    def _needs_pull(self, rt: PodRuntime, c: ContainerRuntime) -> bool:
        return c.pull_policy == "Always" or c.image not in self.present.get(rt.node, ())

    def _pulled(self, pod: Obj, rt: PodRuntime, c: ContainerRuntime, now: float) -> bool:
        """Pull the image with the pod's pull secrets; False (ErrImagePull, events as the kubelet's) if refused."""
        answer = registries.pull(c.image, pod, self.cluster.registries, lambda ns, n: self.store.peek(SECRETS, ns, n))
        if answer.missing_secrets:
            self.cluster.recorder.record(
                pod,
                "Warning",
                "FailedToRetrieveImagePullSecret",
                f"Unable to retrieve some image pull secrets ({', '.join(answer.missing_secrets)}); attempting to "
                "pull the image may not succeed.",
                component=COMPONENT,
                host=rt.node,
            )
        self._event(rt, c, "Normal", "Pulling", f'Pulling image "{c.image}"')
        if not answer.refused:
            self.present.setdefault(rt.node, {})[c.image] = self._registry_digest(c.image)  # the build pulled now
            size = image_size(c.image)
            self._event(
                rt,
                c,
                "Normal",
                "Pulled",
                f'Successfully pulled image "{c.image}" in 1.204s (1.204s including waiting). '
                f"Image size: {size} bytes.",
            )
            return True
        c.pull_failures += 1
        message = f"rpc error: code = Unknown desc = {registries.refusal(c.image, answer.refused)}"
        self._event(rt, c, "Warning", "Failed", f'Failed to pull image "{c.image}": {message}')
        self._event(rt, c, "Warning", "Failed", "Error: ErrImagePull")
        c.state, c.reason, c.message = "waiting", "ErrImagePull", message
        c.next_at = now + self.timing.pod_start  # ErrImagePull until the kubelet's next sync, then the back-off
        return False

    def _pull_failed(self, rt: PodRuntime, c: ContainerRuntime, now: float) -> None:
        c.pull_failures += 1
        reason = (
            f'failed to pull and unpack image "{c.image}": failed to resolve reference "{c.image}": '
            f"{c.image}: not found"
        )
        self._event(rt, c, "Normal", "Pulling", f'Pulling image "{c.image}"')
        self._event(
            rt, c, "Warning", "Failed", f'Failed to pull image "{c.image}": rpc error: code = NotFound desc = {reason}'
        )
        self._event(rt, c, "Warning", "Failed", "Error: ErrImagePull")
        c.reason = "ErrImagePull"
        c.message = f"rpc error: code = NotFound desc = {reason}"
        c.next_at = now + self.timing.pod_start  # ErrImagePull until the kubelet's next sync, then the back-off

    def _terminate(self, pod: Obj, rt: PodRuntime, now: float) -> None:
        if rt.deleting_at is None:
            rt.deleting_at = now + self.timing.termination
            for c in rt.containers:
                if c.state == "running":
                    self._event(rt, c, "Normal", "Killing", f"Stopping container {c.name}")
            return
        if now >= rt.deleting_at:
            try:
                self.store.remove(PODS, rt.namespace, rt.name)
            except errors.ApiError:
                pass
            self.runtime.pop(rt.uid, None)

    # ----- readiness -----

    def _evaluate(self, pod: Obj, rt: PodRuntime, now: float, traffic: Traffic, up: bool) -> bool:
        """Set readiness from behaviour, poison, load and node health; True while the pod is still starting."""
        starting = False
        failure = ""
        poison = traffic.poisoned.get(rt.uid)
        owner = traffic.owner_of.get(rt.uid)
        share = traffic.share.get(owner) if owner is not None else None
        for c in rt.containers:
            if c.state != "running":
                c.ready = False
                starting = starting or (c.reason == "ContainerCreating" and up)
                continue
            if now < c.started_mono + self.timing.ready_delay:
                c.ready = False
                starting = starting or self._serves(rt, c)
                continue
            why = self._readiness_failure(rt, c, poison, share)
            failure = failure or why
            c.ready = up and not why and self._serves(rt, c)
        rt.ready = up and bool(rt.containers) and all(c.ready for c in rt.containers)
        rt.unhealthy = failure
        if failure and up and now - rt.last_probe_event >= self.timing.probe_period:
            rt.last_probe_event = now
            target = next((c for c in rt.containers if c.state == "running"), rt.containers[0])
            self._event(rt, target, "Warning", "Unhealthy", failure)
        return starting

    def _readiness_failure(
        self, rt: PodRuntime, c: ContainerRuntime, poison: tuple[str, str] | None, share: int | None
    ) -> str:
        if rt.behavior.kind == behaviors.NOT_READY:
            return NOT_READY_PROBE
        if c.probe is not None and not c.probe.served:
            return refused(c.probe, rt.pod_ip, c.name)
        if poison is not None:
            who, ip = poison
            return (
                f"Readiness probe failed: upstream check failed: 5 consecutive HTTP 500 responses from pod {who} ({ip})"
            )
        if share is not None and rt.cpu_limit is not None and share > rt.cpu_limit:
            port = c.port or 8080
            return (
                f'Readiness probe failed: Get "http://{rt.pod_ip}:{port}/healthz": context deadline exceeded '
                "(Client.Timeout exceeded while awaiting headers)"
            )
        return ""

    # ----- status -----

    def _signature(self, rt: PodRuntime) -> tuple[object, ...]:
        return (
            rt.ready,
            rt.finished,
            tuple((c.state, c.reason, c.restarts, c.ready, c.container_id, c.message) for c in rt.containers),
        )

    def _write(self, pod: Obj, rt: PodRuntime, signature: tuple[object, ...]) -> Obj:
        status = self.build_status(pod, rt)

        def apply(obj: Obj) -> None:
            obj["status"] = status

        try:
            written = self.store.mutate(PODS, rt.namespace, rt.name, apply)
        except errors.ApiError:
            return pod
        rt.written = signature
        return written

    def build_status(self, pod: Obj, rt: PodRuntime) -> Obj:
        return build_status(pod, rt, timestamp(self.store.clock()))

    def _event(self, rt: PodRuntime, c: ContainerRuntime, type_: str, reason: str, message: str) -> None:
        pod = self.store.peek(PODS, rt.namespace, rt.name)
        if pod is None or terminating(pod) and reason != "Killing":
            return
        self.cluster.recorder.record(
            pod,
            type_,
            reason,
            message,
            component=COMPONENT,
            host=rt.node,
            field_path=f"spec.containers{{{c.name}}}",
        )

    def seed_running(self, pod: Obj, node: str, started_at: str, age: float) -> PodRuntime:
        """Fill a new pod body's status as a long-running pod (scenario seeding: no ticks needed).

        Returns the runtime to register with `register` once the store has given the pod its uid.
        """
        pod.setdefault("spec", {})["nodeName"] = node
        rt = self.new_runtime(pod, node, self.cluster.now())
        rt.pod_ip = self.cluster.allocate_ip(node)
        rt.host_ip = self.cluster.node_ip(node)
        self._run_since(rt, started_at, age)
        pod["status"] = self.build_status(pod, rt)
        rt.written = self._signature(rt)
        return rt

    def _run_since(self, rt: PodRuntime, started_at: str, age: float) -> None:
        """Containers started `age` seconds ago (at `started_at`); a crashing one has been looping since."""
        rt.start_time = started_at
        rt.since = self.cluster.now() - age
        for cond in ("PodScheduled", "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"):
            rt.cond_times[cond] = ("True", started_at)
        for c in rt.containers:
            self._start(c, rt, self.cluster.now() - age, started_at, record=False)
            c.ready = True
            self._age_crashloop(rt, c, age)
        rt.ready = all(c.ready for c in rt.containers)
        if not rt.ready:
            rt.cond_times["Ready"] = rt.cond_times["ContainersReady"] = ("False", started_at)

    def _age_crashloop(self, rt: PodRuntime, c: ContainerRuntime, age: float) -> None:
        """A container crash-looping for `age` seconds (seeded or dated pods): the restarts the kubelet's back-off
        allowed in that time, and where it stands now (up, or waiting out its back-off)."""
        reason = self._crashes(rt, c)
        run = self._run_seconds(rt, c)
        if reason is None or age <= run:
            return
        loop = c.aged = self.backoff.age(run, age)
        now = self.cluster.now()
        wall = self.cluster.wall_seconds()
        clock = self.store.clock()
        code = 137 if reason == "OOMKilled" else 1
        last: Obj | None = None
        crashed: Run | None = None
        if loop.exited is not None:
            last = {
                "exitCode": code,
                "reason": reason,
                "startedAt": timestamp(clock - timedelta(seconds=loop.exited + run)),
                "finishedAt": timestamp(clock - timedelta(seconds=loop.exited)),
                "containerID": c.container_id,
            }
            crashed = Run(started=wall - loop.exited - run, ended=wall - loop.exited, reason=reason, exit_code=code)
            c.exited = now - loop.exited
        if loop.running:
            self._start(c, rt, now - loop.since, timestamp(clock - timedelta(seconds=loop.since)), record=False)
            c.previous = crashed
        else:
            c.run, c.previous = crashed, None
            c.state, c.reason, c.ready = "waiting", "CrashLoopBackOff", False
            c.next_at = now + loop.wait
        c.last_terminated = last
        c.restarts = loop.restarts
        c.backoff, c.backoff_updated = loop.backoff, now - loop.updated
        if c.reason == "CrashLoopBackOff":
            c.message = self._backoff_message(c, rt)

    def register(self, pod: Obj, rt: PodRuntime) -> None:
        rt.uid = str(pod["metadata"]["uid"])
        rt.name = str(pod["metadata"]["name"])
        for c in rt.containers:
            if c.reason == "CrashLoopBackOff":
                # The back-off message names the pod, which had no name or uid before the store created it.
                c.message = self._backoff_message(c, rt)
                rt.written = None
        self.runtime[rt.uid] = rt
        if rt.since is not None:
            record_past(self.cluster, pod, rt, self.cluster.now() - rt.since, self._pod_run(rt))
