"""Topic tooling for designers: topic folders, conversation scripts and their world."""
