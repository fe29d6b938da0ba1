"""`flask --app portal records ...`: a learner's record from the command line.

    flask --app portal records export --learner-id N OUT.zip
    flask --app portal records delete --learner-id N [--yes]

Each subcommand lives beside the feature it drives and registers itself on this group.
"""

from __future__ import annotations

from flask.cli import AppGroup

records_cli = AppGroup("records", help="A learner's education record: export and deletion.")
