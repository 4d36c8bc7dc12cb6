"""The REST API: records, people, notifications, and its schemas and docs."""
