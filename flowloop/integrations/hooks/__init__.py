"""Agent hooks (Claude Code, Codex CLI): context in, behavioral signals out.

One module per idea: ``dispatch`` answers one hook call (which handler for which event, and the
JSON the agent reads), ``context`` injects the context pack (no server needed), ``plans``
records plan approvals, ``sessions`` mines finished transcripts, ``install`` writes, reports and
removes the agents' hook entries, and ``doctor`` runs the installed commands as the agent would.
"""

from flowloop.integrations.hooks.dispatch import AGENTS, EVENTS, HookResponse, event_name, handle_hook

__all__ = ["AGENTS", "EVENTS", "HookResponse", "event_name", "handle_hook"]
