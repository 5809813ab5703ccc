"""Process entry point for ``accelerate launch -m flowloop.train.entry sft|dpo -C REPO ...``.

Each process accelerate starts runs this module; it parses the same options as ``flow train``
and reports like the CLI does, so it lives with the CLI code (``flowloop.cli.train``) and this
module only forwards to it. It also runs as a single process: ``python -m flowloop.train.entry
sft -C REPO --max-steps 2``.
"""

from __future__ import annotations

if __name__ == "__main__":
    from flowloop.cli.train import entry_main

    entry_main()
