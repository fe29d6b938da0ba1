"""Goal conferences: scheduling by cycle, the shared workspace, notes, next steps, co-signing."""
