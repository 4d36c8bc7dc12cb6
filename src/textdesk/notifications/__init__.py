"""SMS notifications: subscriptions, what triggers a notification, and sending it."""
