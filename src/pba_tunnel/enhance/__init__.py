"""Template enhancement: a model rewrites a template for a goal; the answer is validated, diffed, maybe saved.

The instruction sent to the model is itself a stored template (``enhance-<goal>``, category ``enhance``), so
people can tune it like any other template.
"""

from .core import compare, enhance
from .models import GOALS, EnhanceFailure, EnhanceRequest, EnhanceResult, Goal, instruction_template

__all__ = [
    "GOALS",
    "EnhanceFailure",
    "EnhanceRequest",
    "EnhanceResult",
    "Goal",
    "compare",
    "enhance",
    "instruction_template",
]
