"""Job columns (upstream printers.go printJob).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from datetime import datetime

from ._common import (
    AGE_COLUMN,
    CONTAINERS_DOC,
    IMAGES_DOC,
    NAME_COLUMN,
    Cell,
    Column,
    Obj,
    Printer,
    _aware,
    age,
    containers_cells,
    format_label_selector,
    get,
    get_dicts,
    get_int,
    human_duration,
    name_of,
    parse_time,
)

JOB_COLUMNS = (
    NAME_COLUMN,
    Column("Status", "string", "Status of the job."),
    Column("Completions", "string", "The number of pods which reached phase Succeeded."),
    Column("Duration", "string", "Time required to complete the job."),
    AGE_COLUMN,
    Column("Containers", "string", CONTAINERS_DOC, priority=1),
    Column("Images", "string", IMAGES_DOC, priority=1),
    Column("Selector", "string", "Selector", priority=1),
)

# printJob's order: a finished Job first, then one being deleted, then the conditions that lead to an end.
_STATUSES = (
    ("Complete", "Complete"),
    ("Failed", "Failed"),
    ("", "Terminating"),
    ("Suspended", "Suspended"),
    ("FailureTarget", "FailureTarget"),
    ("SuccessCriteriaMet", "SuccessCriteriaMet"),
)


def _status(obj: Obj) -> str:
    held = {c.get("type") for c in get_dicts(obj, "status", "conditions") if c.get("status") == "True"}
    for kind, shown in _STATUSES:
        if (kind and kind in held) or (not kind and get(obj, "metadata", "deletionTimestamp")):
            return shown
    return "Running"


def job_cells(obj: Obj, now: datetime) -> list[Cell]:
    succeeded = get_int(obj, "status", "succeeded")
    completions, parallelism = get(obj, "spec", "completions"), get(obj, "spec", "parallelism")
    if isinstance(completions, int):
        done = f"{succeeded}/{completions}"
    elif isinstance(parallelism, int) and parallelism > 1:
        done = f"{succeeded}/1 of {parallelism}"
    else:
        done = f"{succeeded}/1"
    started, ended = parse_time(get(obj, "status", "startTime")), parse_time(get(obj, "status", "completionTime"))
    took = "" if started is None else human_duration((ended or _aware(now)) - started)
    template = get_dicts(obj, "spec", "template", "spec", "containers")
    names, images = containers_cells(template)
    return [
        name_of(obj),
        _status(obj),
        done,
        took,
        age(obj, now),
        names,
        images,
        format_label_selector(get(obj, "spec", "selector")),
    ]


PRINTERS = {"jobs.batch": Printer(JOB_COLUMNS, job_cells)}
