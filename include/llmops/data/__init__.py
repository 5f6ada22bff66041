"""data stage of the llmops pipeline."""
