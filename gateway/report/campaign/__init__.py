"""A campaign's summary (`gateway.store.summary`) rendered: Markdown, standalone HTML, JSON and
JUnit for `sne-gateway report`, and the dashboard's page. The HTML parts, the chart and the
stylesheet are shared by the report and the dashboard."""
