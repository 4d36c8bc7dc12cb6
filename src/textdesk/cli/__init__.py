"""The `textdesk` command: serve, worker, migrate, and the admin and topic commands."""
