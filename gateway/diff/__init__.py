"""Diff: the XSD upgrade report between two schema sets (`sne-gateway diff`).

side (OLD and NEW as named) → pairing (which schema continues which) → components (xmlschema)
→ model (element-path trees) → compare (changes) → judge (verdicts for producers and consumers)
→ evidence (samples) → report, rendered by json_report, markdown_report and html_report.
"""
