"""Reports: the Parquet reports, run.json and report.html, and what builds them."""
