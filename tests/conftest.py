import pytest

from servers import Certificates, ServerThread


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return Certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def servers():
    thread = ServerThread()
    yield thread
    thread.close()
