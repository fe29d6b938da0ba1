"""A family's and a learner's rights over the record: who has looked at it, and corrections."""
