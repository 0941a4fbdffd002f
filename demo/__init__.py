"""``make demo``: the whole slice on synthetic traffic, through every layer, on the local platform.

It sits above the product's packages (it drives ingestion, the Spark jobs and the service),
so nothing in them imports it. Run it with ``python -m demo``.
"""
