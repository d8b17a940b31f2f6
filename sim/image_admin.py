"""/sim/images: the image catalogue over HTTP (what an image's app does wherever it runs: crash, need memory or a
setting, poison other pods), so an incident made with kubectl from outside can be as real as the scenarios': set
what a new tag does here, then `kubectl set image` to it, and the template difference is the image alone.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from incident_response.sim import behaviors, errors, selectors
from incident_response.sim.requests import json_response, read_body

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

# The pod behaviours an image can have, by their short names (sim/behaviors.py's keys without the prefix).
KEYS = {
    key.removeprefix(behaviors.PREFIX): key
    for key in (
        behaviors.BEHAVIOR,
        behaviors.MEMORY_NEED,
        behaviors.CPU_MILLICORES,
        behaviors.MEMORY_BYTES,
        behaviors.MEMORY_GROWTH,
        behaviors.POISONS,
        behaviors.LOG_LINES,
        behaviors.NOT_READY_LINE,
        behaviors.NEEDS_ENV,
    )
}
USAGE = (
    'send {"image": REF, "does": {KEY: VALUE, ...}} (an empty "does" removes the image; add "push": true for a new '
    "build under the same tag: pulls from then on get a new digest); keys: " + ", ".join(KEYS)
)


def value_problem(name: str, value: Any) -> str | None:
    """What is wrong with one behaviour's value, if anything."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return f"{name!r} takes a string, not {value!r}"
    text = str(value)
    if name == "behavior" and text not in behaviors.BEHAVIORS:
        return f"behavior must be one of {', '.join(behaviors.BEHAVIORS)}, not {text!r}"
    if name in ("memory-need", "memory-bytes", "memory-growth") and behaviors.bytes_of(text) is None:
        return f"{name} must be a quantity such as 512Mi, not {text!r}"
    if name == "cpu-millicores" and not text.strip().isdigit():
        return f"cpu-millicores must be a whole number of millicores, not {text!r}"
    if name == "poisons":
        try:
            selectors.parse_label_selector(text)
        except selectors.SelectorError as e:
            return f"poisons must be a label selector such as app=web: {e}"
    return None


async def images_endpoint(request: web.Request, cluster: Cluster) -> web.Response:
    """GET lists the catalogue; POST sets one image's entry (containers started after it run that way, as a pull
    of the new code would; running ones keep theirs); DELETE empties it."""
    if request.method == "GET":
        return json_response({"images": shown(cluster.images)})
    if request.method == "DELETE":
        cluster.images = {}
        return json_response({"images": {}})
    if request.method != "POST":
        raise errors.method_not_allowed("use GET, POST or DELETE on /sim/images")
    spec = await read_body(request)
    if not isinstance(spec, dict) or not {"image", "does"} <= set(spec) <= {"image", "does", "push"}:
        raise errors.bad_request(USAGE)
    image, does, push = spec["image"], spec["does"], spec.get("push", False)
    if not isinstance(push, bool):
        raise errors.bad_request(f'"push" takes true or false, not {push!r}; {USAGE}')
    if not isinstance(image, str) or not image.strip() or not isinstance(does, dict):
        raise errors.bad_request(USAGE)
    unknown = sorted(set(does) - set(KEYS))
    if unknown:
        raise errors.bad_request(f"unknown image behaviours {unknown}; {USAGE}")
    for name, value in does.items():
        problem = value_problem(name, value)
        if problem:
            raise errors.bad_request(problem)
    # A new catalogue, swapped in whole: a tick reading the old one never sees it change under it.
    images = dict(cluster.images)
    if does:
        images[image] = {KEYS[name]: str(value) for name, value in does.items()}
    else:
        images.pop(image, None)
    cluster.images = images
    if push:
        cluster.builds = {**cluster.builds, image: cluster.builds.get(image, 0) + 1}
    return json_response({"images": shown(images)})


def shown(images: behaviors.Images) -> dict[str, dict[str, str]]:
    return {image: {k.removeprefix(behaviors.PREFIX): v for k, v in does.items()} for image, does in images.items()}
