"""Training passes, each declared once (see :mod:`flowloop.passes.record`)."""

from flowloop.passes.record import PassSettings, Readiness, TrainingPass
from flowloop.passes.registry import PASSES, UnknownPass, get_pass, passes

__all__ = ["PASSES", "PassSettings", "Readiness", "TrainingPass", "UnknownPass", "get_pass", "passes"]
