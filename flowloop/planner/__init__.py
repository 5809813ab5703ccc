"""The planner: the specialist drafts N plans around the localizer's files, they are ranked, and
the human's pick becomes the next specialist's training signal (issue 13).

- ``files.py``: :func:`planned_files`, the one definition of a plan's affected files (the
  localizer's ranked files, then the real candidates the plan names), used by ``flow plan`` and
  by the planning suite's full-planner row alike;
- ``shape.py``: a reply read into the parts of a Type 1 note (approach, steps, risks,
  conventions citing document ids, files) and rendered back as markdown;
- ``rank.py``: the promoted reward model scores the drafts, else the specialist's own mean
  log-likelihood;
- ``store.py``: plan sets as atomic JSON under ``.flow/state/plans/<id>.json``;
- ``draft.py``: :func:`draft_plans` (``flow plan "TASK"``, the MCP tool ``plan_task``);
- ``choose.py``: :func:`choose_plan` (``flow plan choose``, ``choose_plan``): a preference, an
  approval or a rewrite through the signals API, and the task's Type 1 note.
"""

from flowloop.planner.files import planned_files

__all__ = ["planned_files"]
