"""The Agent Workspace: sign-in, inbox, one conversation, live events."""
