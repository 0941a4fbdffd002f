"""The serving layer: a FastAPI app answering recommendation requests from DynamoDB."""
