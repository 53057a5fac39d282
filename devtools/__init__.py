"""Development tools: Azurite, dev keys and tokens. Never deployed (.funcignore)."""
