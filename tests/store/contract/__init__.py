"""One contract suite per store port; every module runs against every implementation
(the `store` fixture of tests/conftest.py is parametrized over STORE_KINDS)."""
