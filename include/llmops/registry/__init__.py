"""registry stage of the llmops pipeline."""
