"""Label and field selectors as the kube-apiserver parses and evaluates them.

Label selectors follow k8s.io/apimachinery/pkg/labels (lexer, parser, validation and error texts); field selectors
follow k8s.io/apimachinery/pkg/fields plus the per-resource field-label conversions, merged into one resolver.

Which empty selector means what (the callers must pick the right constructor):

* ``parse_label_selector("")`` and ``selector_from_spec({})`` select everything (``kubectl get -l ''``, a
  NetworkPolicy ``podSelector: {}``, a PDB ``selector: {}``).
* ``selector_from_spec(None, matches_nothing_if_empty=True)`` selects nothing, as ``LabelSelectorAsSelector(nil)``.
* ``selector_from_map(...)`` is a Service-style plain map: empty or absent selects nothing, because a Service
  without a selector gets no endpoints from the endpoints controller.

The selectors live in sim/label_selectors.py, sim/field_selectors.py and sim/selector_validation.py; this module
gathers their public names, which the API server's request handling and the controllers use as `selectors.X`.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from .field_selectors import SUPPORTED_FIELDS as SUPPORTED_FIELDS
from .field_selectors import FieldRequirement as FieldRequirement
from .field_selectors import FieldSelector as FieldSelector
from .field_selectors import escape_field_value as escape_field_value
from .field_selectors import parse_field_selector as parse_field_selector
from .label_selectors import LabelSelector as LabelSelector
from .label_selectors import Operator as Operator
from .label_selectors import Requirement as Requirement
from .label_selectors import new_requirement as new_requirement
from .label_selectors import parse_label_selector as parse_label_selector
from .label_selectors import selector_from_map as selector_from_map
from .label_selectors import selector_from_spec as selector_from_spec
from .selector_validation import SelectorError as SelectorError
from .selector_validation import label_value_errors as label_value_errors
from .selector_validation import qualified_name_errors as qualified_name_errors
