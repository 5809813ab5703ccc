"""flowloop.evaluate: is the specialist improving? Eval suites and the promotion gate.

The HTML report that charts the results is ``flowloop.report`` (a layer above this one).

Heavy dependencies (torch, transformers, numpy) load inside the functions that need them.
"""

from flowloop.evaluate.gate import GateDecision, compare, gated_promote
from flowloop.evaluate.results import EvalResult, SuiteResult, load_result
from flowloop.evaluate.runner import evaluate_model

__all__ = [
    "EvalResult",
    "GateDecision",
    "SuiteResult",
    "compare",
    "evaluate_model",
    "gated_promote",
    "load_result",
]
