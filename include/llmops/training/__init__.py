"""training stage of the llmops pipeline."""
