"""Extract: find the XML documents a message or an input carries (the pipeline's first stage)."""
