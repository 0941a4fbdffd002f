"""Helpers the tests import by name: constants, fakes and plain functions.

Conftest files keep only fixtures and build them from these modules, so that a test never
imports a conftest (pytest loads those itself, under names a test should not rely on).
Modules here import the standard library first; the ones the Airflow venv loads
(``paths``, ``airflow_venv``) import nothing else, since that venv lacks the main one's
packages.
"""
