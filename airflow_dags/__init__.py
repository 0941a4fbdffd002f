"""Airflow DAGs of newslake: they orchestrate the Spark entry points in ``spark_jobs/``."""
