"""textdesk: a self-hosted conversational SMS service desk."""

__version__ = "0.1.0"
