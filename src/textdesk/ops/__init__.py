"""What operators and Twilio fetch beside the product: readiness, gauges, media files."""
