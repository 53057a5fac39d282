"""One small module per table; each hides its keys and entity layout."""
