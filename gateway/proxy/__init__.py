"""The conformance reverse proxy: forwards to the configured SNE platform, validating both ways."""
