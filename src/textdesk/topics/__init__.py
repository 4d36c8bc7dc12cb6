"""Topics as the desk keeps them: drafts, published versions, and the set each process serves."""
