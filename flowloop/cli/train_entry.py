"""Process entry point for ``accelerate launch -m flowloop.cli.train_entry sft|dpo -C REPO ...``.

Each process accelerate starts runs this module; it parses the same options as ``flow train``
and reports like the CLI does, so it lives in ``cli/`` beside ``flowloop.cli.train`` and only
forwards to it (``flowloop.train.launch`` names it by module path, never imports it). It also runs as a single process: ``python -m flowloop.cli.train_entry
sft -C REPO --max-steps 2``.
"""

from __future__ import annotations

if __name__ == "__main__":
    from flowloop.cli.train import entry_main

    entry_main()
