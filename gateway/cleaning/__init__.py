"""Data cleaning for `sne-gateway pays`: country values read from an editor's own exports (CSV
or XML), judged against the country referential of `gateway.rules`, counted, reported and, in a
CSV, corrected. Nothing here is on the proxy's path."""
