"""The plumbing every feature stands on: database and sessions, the page cache and
change stamps, responses, errors, security headers, inputs, forms, assets, i18n.

Nothing here imports a feature (tests/test_layout.py checks).
"""
