"""The violations store: every exchange's record, kept for a campaign's report and dashboard.

SQLite by default (one file, every worker of a `serve` writing through its write-ahead log),
PostgreSQL for several replicas. Records arrive through a bounded queue that a thread of each
worker empties (`writer`), so traffic never waits on the store. Nothing here knows the proxy:
it stores `gateway.record.ExchangeRecord`s and answers `summary.Summary`s.
"""
