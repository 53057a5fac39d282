"""Code shared by the function packages: rules, models, settings and storage."""
