"""serving stage of the llmops pipeline."""
