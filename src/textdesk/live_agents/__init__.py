"""Live agents: hand-off, assignment, the Workspace's desk actions and read models."""
