"""The virtual agent: from (state, inbound text) to (state, replies, effects). Pure."""
