"""Advice on how clients use the SNE's interfaces, observed on their exchanges, never blocking
them: the GDM movements feed's usage rules (`gdm_rules`), checked on each call of each client
(`gdm_call`) against its earlier calls, which every worker and replica shares through the
violations store (`history`), by a thread of each worker (`advisor`, an exchange tap the
worker registers). The rules' words, which the report shows too, are
`gateway.report.gdm_wording`."""
