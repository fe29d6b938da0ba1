"""Printable reports (PDF): the learner profile, a goal's conference report, a family report."""
