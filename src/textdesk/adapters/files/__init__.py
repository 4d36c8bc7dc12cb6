"""What textdesk keeps in files: the install's own state, notification templates."""
