"""Shared fixtures: small dense data, and its CSR twin."""

import pytest
import scipy.sparse as sp


@pytest.fixture(params=["dense", "csr"])
def container(request):
    """Turns an array into the layout under test (dense or CSR)."""
    return (lambda X: X) if request.param == "dense" else sp.csr_matrix
