"""HTTP surface of the serving layer: dependencies, schemas and routes."""
