"""evaluation stage of the llmops pipeline."""
