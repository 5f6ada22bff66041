"""airflow-llmops: fine-tune, evaluate, register, serve and monitor a causal language model.

The package holds all pipeline logic as plain typed functions; the Airflow DAGs in ``dags/`` only wire them.
"""

from __future__ import annotations

__version__ = "0.1.0"
