"""The REST API: records, people, notifications, topics, and its schemas and docs."""
