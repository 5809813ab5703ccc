"""Customer-facing email: provider client, templates, bounce handling."""
