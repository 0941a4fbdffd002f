"""Offline evaluation of newslake's recommendations on the G1 clicks (protocol 2, the report).

Nothing here imports pyspark: the protocols run on numpy and plain Python, and the
article-page scoring they evaluate is the served one, ``newslake.ranking``.
"""
