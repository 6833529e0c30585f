"""Report: how verdicts leave the engine (console, JSON, JUnit, SNE anomalies, logs)."""
