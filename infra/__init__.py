"""newslake on AWS as code: a CDK v2 app whose names match the ``aws`` settings profile."""
