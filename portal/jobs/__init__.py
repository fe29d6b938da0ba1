"""The status page of a background job (portal/core/jobs.py runs them)."""
