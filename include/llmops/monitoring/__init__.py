"""monitoring stage of the llmops pipeline."""
