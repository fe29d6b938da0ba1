"""The family view: children's progress in plain words, cheers, and family invite codes."""
