"""Backup and restore: a consistent snapshot of the database and the uploads, with a manifest.

    flask --app portal backup create PATH      # PATH: a new directory
    flask --app portal backup verify PATH      # checks a copy without restoring it
    flask --app portal backup restore PATH [--force]

See docs/operations.md for the layout, what is left out (and why) and how to run a drill.
"""
