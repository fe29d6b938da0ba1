"""The learner's education record: the family's copy, deletion on request, printed reports."""
